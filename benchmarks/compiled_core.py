"""Benchmark: does compiling the router's own Python (mypyc) make it route faster?

Prints one JSON object. Usage (needs a C compiler; mypyc comes with mypy, a test extra):
    python benchmarks/compiled_core.py [--documents 50000] [--turns 2]

A copy of this commit's tree has the routing core and everything it calls per record
from docbus's own code compiled with mypyc (``MODULES``); ``docbus bench router`` then
runs from the plain tree and from the compiled copy in turn, and their ratios and router
documents/s are reported side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _shared import HERE

#: Per record in the router: routing, envelope and its rules, codes, signatures and proofs.
MODULES = (
    "router/_routing.py",
    "schemas/_envelope.py",
    "schemas/_validation.py",
    "schemas/_agency_code.py",
    "schemas/_signing.py",
    "schemas/_merkle.py",
)


def compiled_copy(into: Path) -> Path:
    """This commit's tree in ``into``, with ``MODULES`` compiled next to their sources."""
    tree = into / "tree"
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=HERE, check=True, capture_output=True)
    tree.mkdir()
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    # mypyc's generated setup.py reads pyproject.toml's [project]; the copy needs no metadata
    (tree / "pyproject.toml").unlink()
    mypyc = shutil.which("mypyc", path=str(Path(sys.executable).parent))
    if mypyc is None:
        sys.exit("mypyc not found next to this Python: install the test extra (mypy)")
    subprocess.run([mypyc, *MODULES], cwd=tree, check=True, capture_output=True)
    loaded = subprocess.run(
        [sys.executable, "-c", "import router._routing as m; print(m.__file__)"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not loaded.endswith(".so"):
        sys.exit(f"the compiled routing core is not the one imported: {loaded}")
    return tree


def bench(tree: Path, documents: int) -> dict[str, Any]:
    """One ``docbus bench router`` run from ``tree``; its JSON."""
    command = ["bench", "router", "--documents", str(documents), "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "shell.cli", *command],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=50_000)
    parser.add_argument("--turns", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="docbus-mypyc-") as scratch:
        compiled = compiled_copy(Path(scratch))
        runs: dict[str, list[dict[str, Any]]] = {"plain": [], "mypyc": []}
        for _ in range(args.turns):
            for arm, tree in (("plain", HERE), ("mypyc", compiled)):
                result = bench(tree, args.documents)
                runs[arm].append(
                    {k: result[k] for k in ("router_docs_per_s", "raw_pipe_docs_per_s", "ratio")}
                )
    print(
        json.dumps(
            {
                "benchmark": "compiled_core",
                "documents": args.documents,
                "compiled": list(MODULES),
                "median_ratio": {a: statistics.median(r["ratio"] for r in runs[a]) for a in runs},
                "runs": runs,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

"""Benchmark: CPU per document of a whole replay, this checkout against another commit.

Runs ``docbus replay --scale S --speed max --json`` with this checkout's code and with
a git worktree of ``--base`` (a commit), alternately, ``--runs`` times each, and prints
one JSON object. Each replay is a child process; its CPU is every process of the run
(the replay with the simulated agencies, its helpers, the routers, the embedded
broker), read from the children's resource usage once it has exited and reaped them
all, so a commit whose replay does not report ``cpu_ms_per_doc`` is measured the same
way. Usage:

    python benchmarks/replay_cpu.py --base c3ac7b3 [--scale 0.01] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _shared import HERE, children_cpu_s, worktree_of

_FLAGS = ("--speed", "max", "--json", "--timeout", "3600")


def replay_cpu(tree: Path, scale: float) -> dict[str, Any]:
    """One replay with the code in ``tree``: its CPU seconds, documents and outcome."""
    before = children_cpu_s()
    with tempfile.TemporaryDirectory() as workdir:
        done = subprocess.run(
            [sys.executable, "-m", "shell.cli", "replay", "--scale", str(scale), *_FLAGS],
            cwd=workdir,
            env={**os.environ, "PYTHONPATH": str(tree)},
            capture_output=True,
            text=True,
            check=False,
        )
    cpu = children_cpu_s() - before
    summary = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}
    documents = summary.get("documents", 0)
    return {
        "exit": done.returncode,
        "documents": documents,
        "lost": summary.get("lost"),
        "duplicates": summary.get("duplicates_delivered"),
        "elapsed_s": summary.get("elapsed_s"),
        "express_p99_ms": summary.get("express_inbox_latency_ms", {}).get("p99"),
        "cpu_s": round(cpu, 1),
        "cpu_ms_per_doc": round(cpu * 1000 / documents, 3) if documents else None,
        "reported_cpu_ms_per_doc": summary.get("cpu_ms_per_doc"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True, help="the commit to compare with")
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, Any]]] = {"this": [], "base": []}
    with worktree_of(args.base) as base:
        for turn in range(args.runs):
            order = [("this", HERE), ("base", base)]
            for name, tree in order if turn % 2 == 0 else reversed(order):
                runs[name].append(replay_cpu(tree, args.scale))
                print(json.dumps({name: runs[name][-1]}), file=sys.stderr)
    medians = {
        name: statistics.median(r["cpu_ms_per_doc"] for r in results if r["cpu_ms_per_doc"])
        for name, results in runs.items()
    }
    # Each turn's two runs are minutes apart: their ratio is what a day's drift (up to
    # 15 % within twenty minutes) spoils least.
    pairs = [
        round(this["cpu_ms_per_doc"] / base["cpu_ms_per_doc"], 3)
        for this, base in zip(runs["this"], runs["base"], strict=True)
        if this["cpu_ms_per_doc"] and base["cpu_ms_per_doc"]
    ]
    print(
        json.dumps(
            {
                "benchmark": "replay_cpu",
                "scale": args.scale,
                "base": args.base,
                "cpu_ms_per_doc_median": medians,
                "ratio_this_to_base": round(medians["this"] / medians["base"], 3),
                "pair_ratios": pairs,
                "pair_ratio_median": statistics.median(pairs) if pairs else None,
                "runs": runs,
            }
        )
    )


if __name__ == "__main__":
    main()

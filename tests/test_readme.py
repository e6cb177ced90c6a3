"""The README's "Using it" lines run as written, in one shell, from another folder's view
of the repository: a newcomer's first steps must not break."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from shell import free_port

REPO = Path(__file__).resolve().parent.parent
G22, H29 = "000.00.00.G22", "000.00.00.H29"


def using_it_block(readme: str) -> str:
    """The first ``sh`` block of the section "Using it"."""
    section = readme[readme.index("## Using it") :]
    found = re.search(r"```sh\n(.*?)```", section, re.S)
    assert found is not None
    return found.group(1)


def test_using_it_runs_as_written(tmp_path: Path) -> None:
    """Broker, topics, keys, directory, router, send, receive, track, resolve: each line
    succeeds, the document reaches H29, and tracking shows H29's answer."""
    port = str(free_port())
    venv_bin = str(Path(sys.executable).parent)
    lines = using_it_block((REPO / "README.md").read_text("utf-8"))
    script = lines.replace("9092", port).replace(".venv/bin/", f"{venv_bin}/")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCBUS_")}
    env["DOCBUS_HOME"] = str(tmp_path / "home")
    ran = subprocess.run(
        ["bash", "-c", f"set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null' EXIT\n{script}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    out = ran.stdout
    assert re.search(r"published directory .* 3 public keys", out), out
    received = next(line for line in out.splitlines() if line.startswith(f"{G22},"))
    document_id = received.split()[0]  # receive printed: id, type, subject
    assert received.endswith("V/v triển khai Quyết định 932/QĐ-TTg"), out
    assert f"{document_id}: V/v triển khai" in out, out  # track's title
    assert re.search(rf"{H29}\s*│\s*03\s*│.*01 → 03", out), out  # what track printed
    assert "000.00.00.H54 → 000.00.00.H31" in out, out  # what resolve printed

"""Tests for docbus._bench: the router and the raw pipe drain the same preloaded records."""

from __future__ import annotations

import json
import subprocess
import sys

from docbus import Settings
from docbus._bench import bench_router


async def test_bench_router_measures_both_over_the_same_records(settings: Settings) -> None:
    """Both arms drain all 1,000 documents; the ratio is the router's rate over the pipe's."""
    result = await bench_router(settings, documents=1000, repeat=2, track=False)
    assert result["documents"] == 1000 and result["tracking"] is False
    assert len(result["runs"]) == 2
    for run in result["runs"]:
        assert run["router_docs_per_s"] > 0 and run["raw_pipe_docs_per_s"] > 0
        assert run["ratio"] == round(run["router_docs_per_s"] / run["raw_pipe_docs_per_s"], 3)
    assert min(r["ratio"] for r in result["runs"]) <= result["ratio"]
    assert result["ratio"] <= max(r["ratio"] for r in result["runs"])


def test_cli_bench_router_json() -> None:
    """`docbus bench router --json` prints the three figures the issue names."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "docbus.cli",
            "bench",
            "router",
            "--json",
            "--documents",
            "1000",
            "--repeat",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert {"router_docs_per_s", "raw_pipe_docs_per_s", "ratio"} <= set(result)
    assert result["tracking"] is True

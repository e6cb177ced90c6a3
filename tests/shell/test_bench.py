"""Tests for shell._bench: the router and the raw pipe drain the same preloaded records."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

from docbus import Settings
from shell._bench import _spread, _time_drain, bench_router


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


async def test_a_drain_done_in_one_batch_is_timed_whole() -> None:
    """All records done at once, 50 ms after the timer starts: the time is those 50 ms
    (timing from the first batch would have measured nothing and reported a rate of
    millions of documents a second)."""
    done = 0

    async def one_batch() -> None:
        nonlocal done
        await asyncio.sleep(0.05)
        done = 1000

    batch = asyncio.create_task(one_batch())
    assert await _time_drain(lambda: done, 1000) >= 0.05
    await batch


def test_spread_puts_bad_records_evenly_among_good_ones() -> None:
    """One bad record after every len(good) // len(bad) good ones, none dropped."""
    assert _spread(list(range(6)), ["a", "b"]) == [0, 1, 2, "a", 3, 4, 5, "b"]
    assert _spread([0, 1], ["a", "b", "c"]) == [0, "a", 1, "b", "c"]
    assert _spread([0, 1], []) == [0, 1]


def test_cli_bench_router_json_with_bad_records() -> None:
    """`docbus bench router --json` prints the three figures the issue names; with
    ``--bad-share`` the router dead-letters exactly the bad records spread among them."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "shell.cli",
            "bench",
            "router",
            "--json",
            "--documents",
            "1000",
            "--repeat",
            "1",
            "--bad-share",
            "0.05",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert {"router_docs_per_s", "raw_pipe_docs_per_s", "ratio"} <= set(result)
    assert result["tracking"] is True
    assert result["bad_records"] == 50
    assert [r["router_dead_lettered"] for r in result["runs"]] == [50]

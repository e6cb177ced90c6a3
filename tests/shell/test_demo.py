"""Tests for shell._demo: the main job delivers everything once."""

from __future__ import annotations

import json
import subprocess
import sys


def test_cli_demo_json_summary() -> None:
    """`docbus demo --json` on its own embedded broker: 1,500 documents, nothing lost or
    duplicated, every notice back, the five bad records (malformed, spoofed, unsigned)
    dead-lettered with their senders told, and the router's metrics shown."""
    run = subprocess.run(
        [sys.executable, "-m", "shell.cli", "demo", "--json", "--documents", "1500"],
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    for key in (
        "documents_sent",
        "deliveries_expected",
        "deliveries_received",
        "duplicates_delivered",
        "lost",
        "status_notices_returned",
        "dead_lettered",
        "elapsed_s",
        "docs_per_s",
    ):
        assert key in summary, key
    assert summary["completed"] and summary["documents_sent"] == 1500
    assert summary["lost"] == 0 and summary["duplicates_delivered"] == 0
    assert summary["deliveries_received"] == summary["deliveries_expected"] > 1500
    assert summary["status_notices_returned"] == summary["status_notices_expected"]
    assert summary["dead_lettered"] == 5 and summary["rejections_returned"] == 5
    assert f"router metrics: {summary['metrics_url']}" in run.stderr

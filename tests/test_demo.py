"""Tests for docbus._demo: the main job delivers everything once."""

from __future__ import annotations

import json
import subprocess
import sys

from docbus import Settings
from docbus._demo import run_demo


async def test_demo_delivers_everything_once(settings: Settings) -> None:
    """A 1,500-document demo loses nothing, duplicates nothing, and every notice returns."""
    urls: list[str] = []
    summary = await run_demo(
        settings.replace(metrics_port=0),
        documents=1500,
        bad_records=3,
        timeout_s=120,
        on_metrics=urls.append,
    )
    assert summary.completed
    assert urls == [summary.metrics_url] and urls[0].startswith("http://127.0.0.1:")
    assert summary.documents_sent == 1500
    assert summary.lost == 0 and summary.duplicates_delivered == 0
    assert summary.deliveries_received == summary.deliveries_expected > 1500
    assert summary.status_notices_returned == summary.status_notices_expected
    assert summary.dead_lettered == 3 and summary.rejections_returned == 3


def test_cli_demo_json_summary() -> None:
    """`docbus demo --json` on its own embedded broker prints the summary keys, lost 0."""
    run = subprocess.run(
        [sys.executable, "-m", "docbus.cli", "demo", "--json", "--documents", "300"],
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
    assert summary["lost"] == 0 and summary["duplicates_delivered"] == 0
    assert summary["deliveries_received"] == summary["deliveries_expected"]
    assert f"router metrics: {summary['metrics_url']}" in run.stderr

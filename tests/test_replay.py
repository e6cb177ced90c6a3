"""Tests for docbus._replay: a small replay of the yearly model delivers everything once."""

from __future__ import annotations

import collections
import json
import subprocess
import sys

from docbus import EmbeddedBroker, Settings
from docbus._replay import run_replay
from producers import YearWorkload
from router.directory import Directory, today_vn


async def test_a_small_replay_matches_the_model(settings: Settings, broker: EmbeddedBroker) -> None:
    """2,440 documents of 2024: every delivery and every modelled answer arrives, once."""
    summary = await run_replay(settings, year=2024, scale=0.0002, seed=5, broker=broker)
    model = YearWorkload(
        2024, directory=Directory.load(), scale=0.0002, seed=5, agencies_at=today_vn()
    )
    documents = list(model.documents())
    assert summary.completed
    assert summary.documents == model.total == len(documents) == 2440
    assert summary.deliveries == sum(len(d.recipients) for d in documents)
    assert summary.deliveries_received == summary.deliveries
    assert summary.status_notices_returned == summary.status_notices > 2 * summary.deliveries
    assert summary.lost == 0 and summary.duplicates_delivered == 0 and summary.dead_letters == 0
    assert summary.per_agency == dict(collections.Counter(d.sender for d in documents))
    priorities = {str(p) for p in collections.Counter(d.priority for d in documents)}
    assert set(summary.latency_ms["by_priority"]) == priorities
    for key in ("p50", "p95", "p99", "p99.9"):
        assert 0 < summary.latency_ms[key] < 120_000
    assert summary.latency_ms["p50"] <= summary.latency_ms["p99"]
    assert summary.broker_peak_rss_bytes is not None and summary.broker_peak_rss_bytes > 0
    assert summary.docs_per_s == round(summary.documents / summary.elapsed_s, 1)


def test_cli_replay_json() -> None:
    """`docbus replay --json` on its own embedded broker prints the keys the issue names."""
    run = subprocess.run(
        [sys.executable, "-m", "docbus.cli", "replay", "--json", "--scale", "0.0001"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    for key in (
        "documents",
        "deliveries",
        "status_notices",
        "lost",
        "duplicates_delivered",
        "elapsed_s",
        "docs_per_s",
        "latency_ms",
        "broker_peak_rss_bytes",
    ):
        assert key in summary, key
    assert summary["documents"] == 1220 and summary["lost"] == 0
    assert {"p50", "p99", "by_priority"} <= set(summary["latency_ms"])
    assert summary["broker_peak_rss_bytes"] > 0

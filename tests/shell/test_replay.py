"""Tests for shell._replay: a small replay of the yearly model delivers everything once."""

from __future__ import annotations

import bisect
import collections
import itertools
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from docbus import Settings, list_topics
from docbus.directory import Directory
from producers.simulation import YearWorkload
from schemas import today_vn
from shell import SPAN_DOCUMENTS, EmbeddedBroker, run_replay, spans_of_documents
from shell._replay_report import CHARTS

# Each span starts two router processes and 89 receivers: on a slow day (2026-12-02, when
# this machine ran three times slower than that morning) the two-span replay overran the
# suite's 180 s while closing its receivers, in a suite of 574 s.
pytestmark = pytest.mark.timeout(420)


async def test_a_small_replay_in_two_spans_matches_the_model(
    settings: Settings, broker: EmbeddedBroker
) -> None:
    """2,440 documents of 2024 in the spans the replay cuts itself at 1,300 documents
    (two): every delivery and every modelled answer arrives, once; the report's figures
    are there; neither span's topics are left after."""
    nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    summary = await run_replay(
        settings, year=2024, scale=0.0002, seed=5, broker=broker, segments=None, span_documents=1300
    )
    # the agencies ran below the bus in each span, and this thread is back where it was
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == nice
    model = YearWorkload(
        2024, directory=Directory.load(), scale=0.0002, seed=5, agencies_at=today_vn()
    )
    documents = list(model.documents())
    assert summary.completed and summary.segments == 2
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
    express = summary.express_inbox_latency_ms  # every express delivery, seen in its lane
    assert express["count"] == sum(len(d.recipients) for d in documents if d.priority >= 3) > 0
    assert 0 < express["p50"] <= express["p99"] < 120_000
    routed = express["until_routed"]  # a part of each delivery's latency, so no more than it
    assert 0 <= routed["p50"] <= express["p50"] and routed["p99"] <= express["p99"]
    by_document = express["by_document"]  # each express document at its slowest recipient
    assert by_document["count"] == sum(1 for d in documents if d.priority >= 3)
    assert 0 < by_document["p50"] <= by_document["p99"] < 120_000
    assert 0 <= express["p99_tail_broadcast_share"] <= 1
    assert summary.broker_peak_rss_bytes is not None and summary.broker_peak_rss_bytes > 0
    helpers = summary.cpu_s_by_helper  # both spans' helpers, each a child of this process
    assert set(helpers) == {
        "docbus-router-bulk",
        "docbus-router-express",
        "docbus-express-watch",
        "docbus-replay-senders",
        "docbus-express-senders",
    }
    assert all(cpu > 0 for cpu in helpers.values())
    children = summary.cpu_s["children"]
    assert children is not None and sum(helpers.values()) <= children + 0.05
    rss = summary.router_rss_bytes  # sampled from each span's router process from its start
    assert rss["samples"] == len(summary.router_memory) >= 2
    assert 20 * 2**20 < rss["first"] <= rss["peak"] < 2**31
    # docs_per_s is rounded to a tenth, so below 50 docs/s (a loaded machine) rel=1e-3 is too fine
    rate = summary.documents / summary.elapsed_s
    assert summary.docs_per_s == pytest.approx(rate, rel=1e-3, abs=0.051)
    topics = await list_topics(settings)
    assert not [t for t in topics if t.startswith(f"{settings.topic_prefix}-p")]


async def test_only_one_span_is_replayed_when_asked(settings: Settings) -> None:
    """``only_span=2`` of two: the second half of the year's days alone, complete."""
    summary = await run_replay(settings, year=2024, scale=0.0001, seed=7, segments=2, only_span=2)
    model = YearWorkload(2024, directory=Directory.load(), scale=0.0001, seed=7)
    days = list(model.days)
    second_half = days[round(len(days) / 2) :]
    assert summary.documents == sum(model.days[d] for d in second_half) > 0
    assert summary.completed and summary.lost == 0 and summary.duplicates_delivered == 0
    with pytest.raises(ValueError, match="only_span"):
        await run_replay(settings, scale=0.0001, segments=2, only_span=3)


def test_a_whole_year_is_cut_into_spans_the_broker_can_hold() -> None:
    """The replay's own cut of 2024 at full scale: consecutive spans covering every day
    once, none over SPAN_DOCUMENTS documents, each as full as the next day allows (so no
    more spans than needed); at a small scale, one span."""
    days = YearWorkload(2024, directory=Directory.load(), scale=1.0, seed=2024).days
    spans = spans_of_documents(days)
    assert [day for span in spans for day in span] == sorted(days)
    held = [sum(days[day] for day in span) for span in spans]
    assert max(held) <= SPAN_DOCUMENTS and sum(held) == 12_200_000
    for total, following in zip(held, spans[1:], strict=False):
        assert total + days[following[0]] > SPAN_DOCUMENTS  # the next day did not fit
    assert 12_200_000 / SPAN_DOCUMENTS <= len(spans) <= 50
    small = YearWorkload(2024, directory=Directory.load(), scale=0.001, seed=2024).days
    assert spans_of_documents(small) == [sorted(small)]


def test_cli_replay_at_a_set_speed_json_and_report(tmp_path: Path) -> None:
    """`docbus replay --speed N --json --report DIR` prints the keys the issue names,
    writes the report, and at speed N takes the year's span over N, the documents going
    out across it, not at once."""
    model = YearWorkload(2024, directory=Directory.load(), scale=0.0001, seed=3)
    documents = list(model.documents())
    span_s = (documents[-1].sent_at - documents[0].sent_at).total_seconds()
    speed = span_s / 4.0  # the year in about four seconds
    report = tmp_path / "report"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "shell.cli",
            "replay",
            "--json",
            "--scale",
            "0.0001",
            "--seed",
            "3",
            "--speed",
            f"{speed:g}",
            "--report",
            str(report),
        ],
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
    assert summary["duplicates_delivered"] == 0 and summary["speed"] == f"{speed:g}"
    assert summary["elapsed_s"] >= 4.0
    assert {"p50", "p99", "by_priority"} <= set(summary["latency_ms"])
    assert summary["broker_peak_rss_bytes"] > 0
    assert summary["router_rss_bytes"]["peak"] > 0
    written = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert written["summary"] == summary
    assert sum(written["documents_per_day"].values()) == 1220
    assert sum(row["deliveries"] for row in written["timeline"]) == summary["deliveries"]
    # Paced, not sent at once: by the end of each second no more documents have gone out
    # than were due by then (the model's times over the speed, plus the pacing slack). A
    # stall on a busy machine can only make sends late, never early, so this cannot flake
    # the way a check on how far apart the sending seconds lie did (CI once saw sends in
    # seconds 3 and 4 only, after the first sends waited on a busy broker).
    set_speed = float(f"{speed:g}")
    due_s = sorted(
        (d.sent_at - documents[0].sent_at).total_seconds() / set_speed for d in documents
    )
    sent_by_end_of = itertools.accumulate(row["documents_sent"] for row in written["timeline"])
    for second, sent_so_far in enumerate(sent_by_end_of):
        assert sent_so_far <= bisect.bisect_left(due_s, second + 1 + 0.05), second
    assert sum(row["documents_sent"] for row in written["timeline"]) == 1220
    express_seconds = [r for r in written["timeline"] if r["express_inbox_latency_ms_p99"]]
    assert express_seconds and max(r["second"] for r in express_seconds) <= summary["elapsed_s"]
    assert written["router_memory"][0]["router_rss_bytes"] > 0
    markdown = (report / "report.md").read_text(encoding="utf-8")
    assert "| lost | 0 |" in markdown and "| all |" in markdown
    for chart in CHARTS:
        assert (report / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", chart
        assert f"]({chart})" in markdown

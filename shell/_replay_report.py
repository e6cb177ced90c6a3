"""A replay's report: report.json, report.md and PNG charts in one directory."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no screen

import matplotlib.pyplot as plt
import numpy
from matplotlib.axes import Axes

from shell._replay import ReplaySummary

__all__ = ["CHARTS", "write_report"]

#: The charts a report holds, by file name.
CHARTS = ("documents_per_day.png", "throughput.png", "latency.png", "express_latency.png")
#: The bus's target for express documents while it is saturated (p99, outbox to inbox).
EXPRESS_TARGET_MS = 250.0


def write_report(summary: ReplaySummary, days: dict[dt.date, int], out: Path) -> dict[str, Path]:
    """Write the report of ``summary`` (and the model's ``days``) into ``out``; the files."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "json": out / "report.json",
        "markdown": out / "report.md",
        **{name: out / name for name in CHARTS},
    }
    files["json"].write_text(
        json.dumps(
            {
                "summary": summary.to_json(),
                "documents_per_day": {day.isoformat(): n for day, n in days.items()},
                "timeline": summary.timeline,
                "router_memory": summary.router_memory,
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    _documents_per_day(days, summary, files["documents_per_day.png"])
    _throughput(summary.timeline, files["throughput.png"])
    _latency(summary.timeline, files["latency.png"])
    _express_latency(summary.timeline, files["express_latency.png"])
    files["markdown"].write_text(_markdown(summary), encoding="utf-8")
    return files


def _documents_per_day(days: dict[dt.date, int], summary: ReplaySummary, path: Path) -> None:
    figure, axes = plt.subplots(figsize=(11, 4))
    dates = numpy.array(list(days), dtype="datetime64[D]")
    axes.bar(dates, list(days.values()), width=1.0, color="#3465a4")
    axes.set_title(f"Documents per day, {summary.year} × {summary.scale:g} (the model)")
    axes.set_ylabel("documents")
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _router_memory(summary: ReplaySummary) -> str:
    rss = summary.router_rss_bytes
    if not rss.get("samples"):
        return "not sampled"
    return ", ".join(_bytes(rss[k]) for k in ("first", "peak", "last"))


@contextlib.contextmanager
def _run_chart(path: Path, title: str, ylabel: str) -> Iterator[Axes]:
    """A chart over the run's seconds: draw on the axes given; saved to ``path`` after."""
    figure, axes = plt.subplots(figsize=(11, 4))
    yield axes
    axes.set_title(title)
    axes.set_xlabel("seconds since the start")
    axes.set_ylabel(ylabel)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _plot_series(axes: Axes, timeline: list[dict[str, Any]], key: str, label: str) -> None:
    """``key`` of each second that has it."""
    points = [(row["second"], row[key]) for row in timeline if row[key] is not None]
    axes.plot([s for s, _ in points], [v for _, v in points], label=label)


def _throughput(timeline: list[dict[str, Any]], path: Path) -> None:
    with _run_chart(path, "Throughput over the run", "per second") as axes:
        _plot_series(axes, timeline, "documents_sent", "documents sent")
        _plot_series(axes, timeline, "deliveries", "deliveries handed over")


def _latency(timeline: list[dict[str, Any]], path: Path) -> None:
    title = "Delivery latency over the run (send to hand-over)"
    with _run_chart(path, title, "milliseconds") as axes:
        _plot_series(axes, timeline, "latency_ms_p50", "p50")
        _plot_series(axes, timeline, "latency_ms_p99", "p99")


def _express_latency(timeline: list[dict[str, Any]], path: Path) -> None:
    title = "Express latency over the run (outbox to inbox, read by the watcher)"
    with _run_chart(path, title, "milliseconds") as axes:
        _plot_series(axes, timeline, "express_inbox_latency_ms_p99", "p99 in each second")
        axes.axhline(EXPRESS_TARGET_MS, color="red", linestyle="--", label="target")


def _markdown(summary: ReplaySummary) -> str:
    latency = summary.latency_ms
    percentiles = ("p50", "p95", "p99", "p99.9")
    lines = [
        f"# docbus replay: {summary.year} × {summary.scale:g}, speed {summary.speed}",
        "",
        "| measure | value |",
        "|---|---|",
        f"| documents | {summary.documents:,} |",
        f"| deliveries | {summary.deliveries_received:,} of {summary.deliveries:,} |",
        f"| status notices | {summary.status_notices_returned:,} of {summary.status_notices:,} |",
        f"| lost | {summary.lost:,} |",
        f"| duplicates seen by applications | {summary.duplicates_delivered:,} |",
        f"| dead letters | {summary.dead_letters:,} |",
        f"| elapsed | {summary.elapsed_s:,.1f} s |",
        f"| documents per second (sustained) | {summary.docs_per_s:,.1f} |",
        f"| broker peak memory | {_bytes(summary.broker_peak_rss_bytes)} |",
        f"| router memory (first, peak, last sample) | {_router_memory(summary)} |",
        f"| completed | {'yes' if summary.completed else 'no (timed out)'} |",
        "",
        "## Delivery latency (ms, send to hand-over)",
        "",
        "| priority | " + " | ".join(percentiles) + " |",
        "|---|" + "---|" * len(percentiles),
        "| all | " + " | ".join(_ms(latency[p]) for p in percentiles) + " |",
        *(
            f"| {priority} | " + " | ".join(_ms(values[p]) for p in percentiles) + " |"
            for priority, values in latency["by_priority"].items()
        ),
        "| express, outbox to inbox (watcher process) | "
        + " | ".join(_ms(summary.express_inbox_latency_ms[p]) for p in percentiles)
        + " |",
        "| express, outbox to produced by the router | "
        + " | ".join(_ms(summary.express_inbox_latency_ms["until_routed"][p]) for p in percentiles)
        + " |",
        "| express, by document (outbox to its last recipient's inbox) | "
        + " | ".join(_ms(summary.express_inbox_latency_ms["by_document"][p]) for p in percentiles)
        + " |",
        "",
        "## Documents by sender",
        "",
        "| agency | documents |",
        "|---|---|",
        *(f"| {code} | {count:,} |" for code, count in summary.per_agency.items()),
        "",
        "## Charts",
        "",
        "![Documents per day](documents_per_day.png)",
        "",
        "![Throughput over the run](throughput.png)",
        "",
        "![Latency over the run](latency.png)",
        "",
        "![Express latency over the run](express_latency.png)",
        "",
    ]
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def _bytes(value: int | None) -> str:
    return "not embedded" if value is None else f"{value / 2**20:,.0f} MiB"

"""``docbus replay``: a year of the workload model through the whole bus, with progress and totals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from docbus.directory import Directory
from producers.simulation import YEARS, YearWorkload
from shell._own_run import own_run
from shell._replay import ReplaySummary, run_replay
from shell.cli._common import bus_options, emit_json, run_async, settings_from
from shell.cli._progress import announce_start, progress_report

_N = TypeVar("_N", int, float)


@click.command()
@bus_options
@click.option(
    "--year",
    type=click.Choice([str(y) for y in sorted(YEARS)]),
    default="2024",
    show_default=True,
    help="Which year's figures to replay (WORKLOAD.md).",
)
@click.option(
    "--scale",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.001,
    show_default=True,
    help="Fraction of the year's documents (1 = all of them).",
)
@click.option(
    "--speed",
    type=str,
    default="max",
    show_default=True,
    callback=lambda _ctx, _param, value: _speed(value),
    help="max: as fast as the bus takes it; N: the model's time compressed N times.",
)
@click.option("--seed", type=int, default=2024, show_default=True, help="Seed of the model.")
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=3600.0,
    show_default=True,
    help="Give up waiting for deliveries and notices after this many seconds.",
)
@click.option(
    "--segments",
    type=str,
    default="auto",
    show_default=True,
    callback=lambda _ctx, _param, value: _segments(value),
    help="Replay the year in N spans of days, each on topics of its own deleted when it is "
    "done, so the broker holds one span at a time; auto: the fewest spans of at most "
    "300,000 documents (one at small scales, 43 for the whole of 2024).",
)
@click.option(
    "--only-span",
    type=click.IntRange(1, 366),
    default=None,
    help="Replay only the K-th of the --segments spans (the largest one's broker peak is "
    "the whole year's).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write report.json, report.md and PNG charts into this directory.",
)
def replay(
    year: str,
    scale: float,
    speed: float | None,
    seed: int,
    timeout_s: float,
    segments: int | None,
    only_span: int | None,
    as_json: bool,
    report_dir: Path | None,
    **flags: Any,
) -> None:
    """Replay a year of national traffic through senders, a router and receivers; summarise."""
    if only_span is not None and segments is not None and only_span > segments:
        raise click.BadParameter(f"there are only {segments} spans", param_hint="--only-span")
    if flags.get("log_level") is None:
        flags["log_level"] = "ERROR"
    settings = settings_from(**flags)
    console = Console(stderr=True)
    if not as_json:
        announce_start(console, "replay", settings.bootstrap_servers, "the year's documents")

    async def main() -> ReplaySummary:
        async with own_run(settings, name="replay") as (live, broker):
            with progress_report(console, "documents", quiet=as_json) as report:

                def progress(sent: int, total: int, _received: int) -> None:
                    report(sent, total)

                return await run_replay(
                    live,
                    year=int(year),
                    scale=scale,
                    seed=seed,
                    speed=speed,
                    broker=broker,
                    timeout_s=timeout_s,
                    progress=progress,
                    freeze_heap=True,
                    segments=segments,
                    only_span=only_span,
                )

    summary = run_async(main())
    if report_dir is not None:
        from shell._replay_report import write_report  # matplotlib: only when asked

        days = YearWorkload(int(year), directory=Directory.load(), scale=scale, seed=seed).days
        files = write_report(summary, days, report_dir)
        console.print(f"report: {files['markdown']}")
    if as_json:
        emit_json(summary.to_json())
    else:
        _print_summary(summary, Console())
    if not summary.completed or summary.lost or summary.duplicates_delivered:
        raise SystemExit(1)


def _segments(value: str) -> int | None:
    """``auto`` (None: the replay picks) or a number of spans from 1 to 366."""
    return _keyword_or_number(
        value,
        "auto",
        int,
        lambda n: 1 <= n <= 366,
        f"{value!r} is neither auto nor a number from 1 to 366",
    )


def _speed(value: str) -> float | None:
    """``max`` (None) or a positive factor."""
    return _keyword_or_number(
        value, "max", float, lambda n: n > 0, f"expected 'max' or a positive number, got {value!r}"
    )


def _keyword_or_number(
    value: str, keyword: str, kind: type[_N], fits: Callable[[_N], bool], expected: str
) -> _N | None:
    """None for ``keyword``, else ``value`` as a ``kind`` that ``fits`` (BadParameter
    saying ``expected`` otherwise)."""
    if value == keyword:
        return None
    try:
        number = kind(value)
    except ValueError:
        raise click.BadParameter(expected) from None
    if not fits(number):
        raise click.BadParameter(expected)
    return number


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _print_summary(summary: ReplaySummary, console: Console) -> None:
    totals = Table(
        title=f"docbus replay {summary.year} × {summary.scale:g}, speed {summary.speed}",
        header_style="bold",
    )
    totals.add_column("measure")
    totals.add_column("value", justify="right")
    latency = summary.latency_ms
    for name, value in (
        ("documents", f"{summary.documents:,}"),
        ("deliveries", f"{summary.deliveries_received:,} / {summary.deliveries:,}"),
        ("status notices", f"{summary.status_notices_returned:,} / {summary.status_notices:,}"),
        ("lost", f"{summary.lost:,}"),
        ("duplicates seen by applications", f"{summary.duplicates_delivered:,}"),
        ("dead letters", f"{summary.dead_letters:,}"),
        ("elapsed", f"{summary.elapsed_s:,.1f} s"),
        ("documents per second (sustained)", f"{summary.docs_per_s:,.0f}"),
        (
            "CPU per document, every process",
            f"{summary.cpu_ms_per_doc:.2f} ms"
            if summary.cpu_ms_per_doc is not None
            else "broker not embedded",
        ),
        (
            "CPU of the helper processes",
            ", ".join(f"{name} {cpu:,.1f} s" for name, cpu in summary.cpu_s_by_helper.items()),
        ),
        (
            "delivery latency p50 / p95 / p99 / p99.9",
            " / ".join(f"{latency[p]:,.0f}" for p in ("p50", "p95", "p99", "p99.9")) + " ms",
        ),
        (
            "broker peak memory",
            f"{summary.broker_peak_rss_bytes / 2**20:,.0f} MiB"
            if summary.broker_peak_rss_bytes is not None
            else "not embedded",
        ),
        (
            "router memory, first / peak / last sample",
            " / ".join(
                f"{summary.router_rss_bytes.get(k, 0) / 2**20:,.0f}"
                for k in ("first", "peak", "last")
            )
            + " MiB",
        ),
    ):
        totals.add_row(name, value)
    console.print(totals)
    by_priority = Table(title="latency by priority (ms)", header_style="bold")
    for column in ("priority", "p50", "p95", "p99", "p99.9"):
        by_priority.add_column(column, justify="right")
    for priority, values in latency["by_priority"].items():
        by_priority.add_row(priority, *(_ms(values[p]) for p in ("p50", "p95", "p99", "p99.9")))
    express = summary.express_inbox_latency_ms
    by_priority.add_row(
        "express, outbox to inbox", *(_ms(express[p]) for p in ("p50", "p95", "p99", "p99.9"))
    )
    by_priority.add_row(
        "express, by document (its last recipient)",
        *(_ms(express["by_document"][p]) for p in ("p50", "p95", "p99", "p99.9")),
    )
    console.print(by_priority)
    agencies = Table(title="busiest senders", header_style="bold")
    agencies.add_column("agency")
    agencies.add_column("documents", justify="right")
    for code, count in list(summary.per_agency.items())[:10]:
        agencies.add_row(code, f"{count:,}")
    console.print(agencies)
    if not summary.completed:
        console.print("[red]the run timed out before every delivery and notice arrived[/red]")

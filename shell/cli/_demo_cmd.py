"""``docbus demo``: the main job, with a progress bar and a summary table."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.table import Table

from shell._demo import DemoSummary, run_demo
from shell._own_run import own_run
from shell.cli._common import bus_options, emit_json, metrics_options, run_async, settings_from
from shell.cli._progress import announce_start, progress_report, say


@click.command()
@bus_options
@metrics_options
@click.option(
    "--documents",
    type=click.IntRange(min=1),
    default=20_000,
    show_default=True,
    help="Documents to send.",
)
@click.option(
    "--bad",
    "bad_records",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Bad records to inject (malformed, spoofed, unsigned), to show the dead-letter path.",
)
@click.option("--seed", type=int, default=2024, show_default=True, help="Seed of the document mix.")
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=300.0,
    show_default=True,
    help="Give up waiting for deliveries after this many seconds.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def demo(
    documents: int, bad_records: int, seed: int, timeout_s: float, as_json: bool, **flags: Any
) -> None:
    """Run a router, simulated ministries and provinces, and receivers; summarise."""
    if flags.get("log_level") is None:
        flags["log_level"] = "ERROR"  # the injected bad records would log a warning each
    settings = settings_from(**flags)
    if settings.metrics_port is None:
        settings = settings.replace(metrics_port=0)  # a free port: the demo shows its metrics
    console = Console(stderr=True)
    if not as_json:
        announce_start(console, "demo", settings.bootstrap_servers, "a burst of documents")

    async def main() -> DemoSummary:
        async with own_run(settings, name="demo") as (live, _):
            with progress_report(console, "deliveries", quiet=as_json) as progress:
                return await run_demo(
                    live,
                    documents=documents,
                    bad_records=bad_records,
                    seed=seed,
                    timeout_s=timeout_s,
                    progress=progress,
                    freeze_heap=True,
                    on_metrics=lambda url: say(
                        console, f"router metrics: {url} (Prometheus can scrape it while it runs)"
                    ),
                )

    summary = run_async(main())
    if as_json:
        emit_json(summary.to_json())
    else:
        _print_table(summary, Console())
    if not summary.completed or summary.lost or summary.duplicates_delivered:
        raise SystemExit(1)


def _print_table(summary: DemoSummary, console: Console) -> None:
    table = Table(title="docbus demo", show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("agencies (ministries, provinces, Party)", f"{summary.agencies}"),
        ("documents sent", f"{summary.documents_sent:,}"),
        ("deliveries expected", f"{summary.deliveries_expected:,}"),
        ("deliveries received", f"{summary.deliveries_received:,}"),
        ("duplicates seen by applications", f"{summary.duplicates_delivered:,}"),
        ("lost", f"{summary.lost:,}"),
        (
            "status notices returned to senders",
            f"{summary.status_notices_returned:,} / {summary.status_notices_expected:,}",
        ),
        ("bad records injected", f"{summary.bad_records_injected}"),
        ("dead-lettered (sender told)", f"{summary.dead_lettered} ({summary.rejections_returned})"),
        ("elapsed", f"{summary.elapsed_s:.1f} s"),
        ("documents per second", f"{summary.docs_per_s:,.0f}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    if not summary.completed:
        console.print("[red]the run timed out before every delivery and notice arrived[/red]")

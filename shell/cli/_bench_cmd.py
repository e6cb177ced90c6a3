"""``docbus bench``: benchmarks of the bus's parts on a broker (embedded unless one is given)."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.table import Table

from shell._bench import bench_router
from shell._own_run import own_run
from shell.cli._common import bus_options, emit_json, run_async, settings_from


@click.group()
def bench() -> None:
    """Benchmarks (JSON out with --json; BENCHMARKS.md has the figures measured)."""


@bench.command("router")
@bus_options
@click.option(
    "--documents",
    type=click.IntRange(1000),
    default=50_000,
    show_default=True,
    help="Documents preloaded into the outboxes.",
)
@click.option(
    "--repeat", type=click.IntRange(1), default=3, show_default=True, help="Turns of each."
)
@click.option("--seed", type=int, default=11, show_default=True, help="Seed of the document mix.")
@click.option(
    "--tracking/--no-tracking",
    default=True,
    show_default=True,
    help="Whether the router tracks deliveries (it does in service).",
)
@click.option(
    "--bad-share",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Bad records per document spread among them (malformed, spoofed, unsigned).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def bench_router_cmd(
    documents: int,
    repeat: int,
    seed: int,
    tracking: bool,
    bad_share: float,
    as_json: bool,
    **flags: Any,
) -> None:
    """The router draining N preloaded documents against a bare consume-and-produce pipe."""
    if flags.get("log_level") is None:
        flags["log_level"] = "ERROR"
    settings = settings_from(**flags)

    async def main() -> dict[str, Any]:
        async with own_run(settings, name="bench") as (live, _):
            return await bench_router(
                live,
                documents=documents,
                repeat=repeat,
                seed=seed,
                track=tracking,
                bad_share=bad_share,
            )

    result = run_async(main())
    if as_json:
        emit_json(result)
        return
    title = f"router against a raw pipe, {documents:,} documents"
    if result["bad_records"]:
        title += f" and {result['bad_records']:,} bad records"
    table = Table(title=title, header_style="bold")
    for column in ("run", "router docs/s", "raw pipe docs/s", "ratio"):
        table.add_column(column, justify="right")
    for i, run in enumerate(result["runs"], 1):
        table.add_row(
            str(i),
            f"{run['router_docs_per_s']:,.0f}",
            f"{run['raw_pipe_docs_per_s']:,.0f}",
            f"{run['ratio']:.3f}",
        )
    table.add_row(
        "median",
        f"{result['router_docs_per_s']:,.0f}",
        f"{result['raw_pipe_docs_per_s']:,.0f}",
        f"{result['ratio']:.3f}",
    )
    Console().print(table)

"""``docbus topics ensure``: create every topic the bus needs that is missing."""

from __future__ import annotations

from typing import Any

import click

from docbus._kafka import create_missing_topics
from docbus._runtime import bus_settings
from docbus.cli._common import bus_options, emit_json, run_async, settings_from
from router.directory import Directory
from schemas import TopicLayout


@click.group()
def topics() -> None:
    """Manage the bus's topics."""


@topics.command()
@bus_options
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def ensure(as_json: bool, **flags: Any) -> None:
    """Create each agency's outbox and inbox and the dead-letter topic, where missing."""
    settings = settings_from(**flags)

    async def main() -> tuple[list[str], int]:
        async with bus_settings(settings) as (live, _):
            wanted = TopicLayout(live.topic_prefix).agency_topics(Directory.load().codes())
            return await create_missing_topics(live, wanted), len(wanted)

    created, total = run_async(main())
    if as_json:
        emit_json({"created": created, "topics": total})
    else:
        click.echo(f"{len(created)} topics created, {total - len(created)} already present")

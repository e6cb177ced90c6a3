"""``docbus router``: run the routing core as a service."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click

from docbus import LANES, configure_logging
from docbus.directory import Directory
from docbus.process import tune_service_heap
from router import Router, ensure_bus_topics
from shell._runtime import bus_settings
from shell.cli._common import (
    bus_options,
    metrics_options,
    run_async,
    settings_from,
    stop_on_signals,
)


@click.command()
@bus_options
@metrics_options
@click.option("--group-id", help="Router consumer group (default: <prefix>-router).")
@click.option(
    "--ensure-topics/--no-ensure-topics",
    default=True,
    show_default=True,
    help="Create missing topics before routing.",
)
@click.option(
    "--lane",
    "lanes",
    type=click.Choice(LANES),
    multiple=True,
    help="Route only this lane (repeatable; default: both). Running the express lane in "
    "a process of its own keeps express latency low when bulk saturates a CPU.",
)
def router(group_id: str | None, ensure_topics: bool, lanes: tuple[str, ...], **flags: Any) -> None:
    """Route every outbox to the recipients' inboxes until SIGTERM or SIGINT."""
    settings = settings_from(**flags)

    async def serve() -> None:
        stop = stop_on_signals()
        async with bus_settings(settings, announce=sys.stderr) as (live, _):
            directory = Directory.load()
            if ensure_topics:
                await ensure_bus_topics(live, directory)
            service = Router(
                settings=live, directory=directory, group_id=group_id, lanes=lanes or LANES
            )
            async with service:
                # Started: from now on aiokafka's own warnings (reconnections) help operators.
                configure_logging(live.log_level)
                tune_service_heap()
                stop_task = asyncio.ensure_future(stop.wait())
                join_task = asyncio.ensure_future(service.join())
                await asyncio.wait([stop_task, join_task], return_when=asyncio.FIRST_COMPLETED)
                stop_task.cancel()
                service.request_stop()
                await join_task

    run_async(serve())

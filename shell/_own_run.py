"""A run that touches nothing of the user's: the demo's, the replay's, the benchmark's.

On an embedded broker of its own it is alone anyway. On a broker the user gave (the
variables of "Using it" exported, a router already running) it takes a topic prefix of
its own, so no router, receiver or topic of the user's sees its records, and deletes its
topics when it is done. Its keys, tracking store, deduplication stores and blobs live in
a temporary home whatever ``DOCBUS_HOME``, ``DOCBUS_KEYS_DIR`` or
``DOCBUS_TRACKING_DSN`` say.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import structlog

from docbus import DocbusError, Settings, delete_topics, list_topics
from shell._broker import EmbeddedBroker
from shell._runtime import bus_settings

__all__ = ["delete_prefixed_topics", "own_run"]

log = structlog.get_logger("docbus.run")


@contextlib.asynccontextmanager
async def own_run(
    settings: Settings, *, name: str
) -> AsyncIterator[tuple[Settings, EmbeddedBroker | None]]:
    """Settings for a self-contained run called ``name``, and its embedded broker if any."""
    async with bus_settings(settings) as (live, broker):
        with tempfile.TemporaryDirectory(prefix=f"docbus-{name}-") as home:
            run = live.replace(home=Path(home), keys_dir=None, blob_dir=None, tracking_dsn=None)
            if broker is not None:
                yield run, broker
                return
            run = run.replace(topic_prefix=f"{name}-{secrets.token_hex(4)}")
            try:
                yield run, None
            finally:
                try:
                    await delete_prefixed_topics(run, rounds=3)
                except DocbusError as exc:  # the run's own failure says more
                    log.warning("run_topics_left", prefix=run.topic_prefix, error=str(exc))


async def delete_prefixed_topics(settings: Settings, *, rounds: int = 1) -> None:
    """Delete every topic named ``<prefix>.…`` or ``<prefix>-…`` (a replay's spans).

    With ``rounds`` > 1, look again a second after each deletion and delete what came
    back: a client of the run whose metadata request was still on its way can make the
    broker create a topic again (auto-creation)."""
    prefix = settings.topic_prefix
    for round_ in range(rounds):
        names = await list_topics(settings)
        left = [n for n in names if n.startswith((f"{prefix}.", f"{prefix}-"))]
        if not left:
            return
        if round_:
            log.warning("run_topics_recreated", prefix=prefix, topics=len(left))
        await delete_topics(settings, left)
        if round_ + 1 < rounds:
            await asyncio.sleep(1.0)

"""Watching the inboxes' express lanes from a process of its own: the bus's express latency.

Every delivery carries the time its sender produced it to the outbox (header
``docbus-outbox-time``); the watcher reads partition 0 of every inbox it is given and
notes how long each express delivery took to become readable there. It runs in its own
process, so the simulated agencies' event loop does not stand between the bus and the
measurement; what their applications then take is reported apart (the replay's latency
by priority).
"""

from __future__ import annotations

import asyncio
import functools
import time
from multiprocessing.connection import Connection

from aiokafka import TopicPartition

from docbus._child import HelperProcess, Ready, run_child
from docbus._kafka import kafka_errors, make_consumer, start_consumer
from docbus._settings import Settings
from schemas import EXPRESS_PARTITION, HEADER_OUTBOX_TIME, header_value

__all__ = ["ExpressWatch"]


class ExpressWatch:
    """``async with ExpressWatch(settings, inboxes) as watch: ...``; then ``watch.latencies_ms``.

    Only deliveries produced to their outbox after the watch started count.
    """

    def __init__(self, settings: Settings, inboxes: list[str]) -> None:
        self._child = HelperProcess(_serve, (settings, inboxes), name="docbus-express-watch")
        #: Each express delivery's outbox-to-inbox latency, in the order they were read.
        self.latencies_ms: list[float] = []

    async def __aenter__(self) -> ExpressWatch:
        await self._child.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        latencies = await self._child.stop()
        assert isinstance(latencies, list)
        self.latencies_ms = latencies


def _serve(conn: Connection, parent_pid: int, settings: Settings, inboxes: list[str]) -> None:
    """The child's entry point."""
    run_child(conn, parent_pid, functools.partial(_watch, settings, inboxes))


async def _watch(
    settings: Settings, inboxes: list[str], ready: Ready, stop: asyncio.Event
) -> list[float]:
    started_ms = time.time() * 1000
    consumer = make_consumer(settings, group_id=None, auto_offset_reset="latest")
    latencies: list[float] = []
    await start_consumer(consumer, "starting the express watch")
    try:
        lanes = [TopicPartition(topic, EXPRESS_PARTITION) for topic in inboxes]
        consumer.assign(lanes)
        with kafka_errors("finding the ends of the express lanes"):
            await consumer.seek_to_end(*lanes)
        ready(None)
        while not stop.is_set():
            with kafka_errors("reading the express lanes"):
                batch = await consumer.getmany(timeout_ms=100)
            now_ms = time.time() * 1000
            for records in batch.values():
                for record in records:
                    sent = header_value(record.headers, HEADER_OUTBOX_TIME)
                    if sent is not None and float(sent) >= started_ms:
                        latencies.append(round(now_ms - float(sent), 1))
    finally:
        await consumer.stop()
    return latencies

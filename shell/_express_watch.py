"""Watching the inboxes' express lanes from a process of its own: the bus's express latency.

Every delivery carries the time its sender produced it to the outbox (header
``docbus-outbox-time``), and its inbox record the time the router produced it (the
record's timestamp); the watcher reads partition 0 of every inbox it is given (on the
router's rings, as the agencies' shared lane does) and notes,
for each express delivery, how long it took to become readable there and how much of
that passed before the router produced it. It runs in its own
process, so the simulated agencies' event loop does not stand between the bus and the
measurement; what their applications then take is reported apart (the replay's latency
by priority).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from multiprocessing.connection import Connection
from typing import NamedTuple

from aiokafka import AIOKafkaConsumer, TopicPartition

from docbus import (
    CounterTable,
    ExpressDoorbell,
    Lane,
    Settings,
    kafka_errors,
    make_consumer,
    start_consumer,
)
from schemas import EXPRESS_PARTITION, HEADER_OUTBOX_TIME, TopicLayout, header_value
from shell._child import HelperProcess, Ready, run_child

__all__ = ["ExpressArrival", "ExpressWatch"]


class ExpressArrival(NamedTuple):
    """One express delivery read in its inbox lane."""

    #: When it was read (seconds since the epoch).
    at: float
    #: From the outbox record's timestamp to being read in the inbox.
    outbox_to_inbox_ms: float
    #: From the outbox record's timestamp to the router producing the inbox record: the
    #: rest is the router's producer, the broker and the watcher's fetch.
    outbox_to_routed_ms: float
    #: The delivered document's id: a document sent to many shares its latency until routed.
    document_id: str


class ExpressWatch:
    """``async with ExpressWatch(settings, inboxes) as watch: ...``; then ``watch.arrivals``.

    Only deliveries produced to their outbox after the watch started count.
    """

    def __init__(self, settings: Settings, inboxes: list[str]) -> None:
        self._child = HelperProcess(_serve, (settings, inboxes), name="docbus-express-watch")
        #: Each express delivery, in the order they were read.
        self.arrivals: list[ExpressArrival] = []

    async def __aenter__(self) -> ExpressWatch:
        await self._child.start()
        return self

    @property
    def cpu_s(self) -> dict[str, float]:
        """CPU seconds the process used, by name, once stopped."""
        return self._child.cpu_by_name

    async def __aexit__(self, *exc: object) -> None:
        arrivals = await self._child.stop()
        assert isinstance(arrivals, list)
        self.arrivals = arrivals

    @property
    def latencies_ms(self) -> list[float]:
        """Each express delivery's outbox-to-inbox latency, in the order they were read."""
        return [a.outbox_to_inbox_ms for a in self.arrivals]


def _serve(conn: Connection, parent_pid: int, settings: Settings, inboxes: list[str]) -> None:
    """The child's entry point."""
    run_child(conn, parent_pid, functools.partial(_watch, settings, inboxes))


async def _watch(
    settings: Settings, inboxes: list[str], ready: Ready, stop: asyncio.Event
) -> list[ExpressArrival]:
    started_ms = time.time() * 1000
    consumer = make_consumer(settings, group_id=None, auto_offset_reset="latest")
    arrivals: list[ExpressArrival] = []
    await start_consumer(consumer, "starting the express watch")
    doorbell = _doorbell(settings, consumer)
    try:
        lanes = [TopicPartition(topic, EXPRESS_PARTITION) for topic in inboxes]
        consumer.assign(lanes)
        with kafka_errors("finding the ends of the express lanes"):
            await consumer.seek_to_end(*lanes)
        if doorbell is not None:
            await doorbell.start()
        async with contextlib.AsyncExitStack() as stack:
            if doorbell is not None:
                ringing = asyncio.create_task(doorbell.run(stop), name="express-watch-doorbell")
                stack.push_async_callback(_cancelled, ringing)
            ready(None)
            await _read(consumer, doorbell, started_ms, arrivals, stop)
    finally:
        await consumer.stop()
        if doorbell is not None:
            await doorbell.stop()
    return arrivals


def _doorbell(settings: Settings, consumer: AIOKafkaConsumer) -> ExpressDoorbell | None:
    """The inbox doorbell to follow, where the settings put express lanes on rings."""
    if settings.express_sweep_ms <= 0:
        return None
    rings = CounterTable("docbus_watch_rings", "Inbox doorbell rings.", ["outcome"])
    inbox_doorbell = TopicLayout(settings.topic_prefix).inbox_doorbell
    return ExpressDoorbell(settings, Lane("express", True, consumer), inbox_doorbell, rings)


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _read(
    consumer: AIOKafkaConsumer,
    doorbell: ExpressDoorbell | None,
    started_ms: float,
    arrivals: list[ExpressArrival],
    stop: asyncio.Event,
) -> None:
    """Note each express delivery read until ``stop``."""
    while not stop.is_set():
        with kafka_errors("reading the express lanes"):
            batch = await consumer.getmany(timeout_ms=100)
        now_ms = time.time() * 1000
        if doorbell is not None:
            for tp, records in batch.items():  # paused before the loop turns
                doorbell.read(tp, records[-1].offset + 1)
        for records in batch.values():
            for record in records:
                sent = header_value(record.headers, HEADER_OUTBOX_TIME)
                if sent is not None and (sent_ms := float(sent)) >= started_ms:
                    arrivals.append(
                        ExpressArrival(
                            now_ms / 1000,
                            round(now_ms - sent_ms, 1),
                            record.timestamp - sent_ms,
                            _document_id(record.key),
                        )
                    )


def _document_id(key: bytes | None) -> str:
    """The document id of a delivery's key (``recipient|document id``)."""
    return (key or b"").decode(errors="replace").rpartition("|")[2]

"""Where a receiver reads its inbox: a consumer of its own, or two shared by a whole process.

A receiver of its own (:class:`OwnInbox`) has a consumer in its agency's group. A process
that hosts many agencies' receivers (a ministry's hub serving its units, the demo, the
replay) reads all their inboxes through one :class:`SharedInboxes`: two consumers, the
express lane (the inboxes' partition 0, answered by the broker as soon as a record
waits) and the bulk lane (the rest), instead of a consumer per agency. The broker's cost
is per request, not per record, so one fetch for sixty inboxes costs it about what one
fetch for one inbox does; sixty consumers polling cost it sixty times that
(BENCHMARKS.md, "What a fetch costs the embedded broker").
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from docbus import (
    CounterTable,
    ExpressDoorbell,
    Lane,
    Lifecycle,
    Service,
    Settings,
    all_finished,
    kafka_errors,
    make_consumer,
    make_lanes,
    start_consumer,
)
from schemas import EXPRESS_PARTITION, TopicLayout

__all__ = ["InboxSource", "OwnInbox", "SharedInboxes"]

log = structlog.get_logger("docbus.receiver")

#: Fetched records: the records of each topic-partition, in order.
Fetched = dict[TopicPartition, list[Any]]


class InboxSource(Protocol):
    """One inbox's records, as a receiver reads them."""

    async def start(self) -> None:
        """Join the group and start reading."""
        ...

    async def stop(self) -> None:
        """Stop reading (a shared source leaves the others reading)."""
        ...

    async def fetch(self, timeout_ms: int, max_records: int) -> Fetched:
        """The next records, waiting up to ``timeout_ms`` for some (none: empty)."""
        ...

    async def fetch_express(self) -> Fetched:
        """The express records waiting now, without waiting."""
        ...

    def unread(self, fetched: Fetched) -> None:
        """Give ``fetched`` back: the next fetch returns it again (nothing lost)."""
        ...

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit ``offsets`` (the next offset to read, per partition)."""
        ...


class OwnInbox:
    """An inbox read by a consumer of its own, in ``group_id``."""

    def __init__(self, settings: Settings, topic: str, group_id: str, *, who: str) -> None:
        self._topic = topic
        self._who = who
        self._express = TopicPartition(topic, EXPRESS_PARTITION)
        self._consumer: AIOKafkaConsumer = make_consumer(settings, group_id=group_id)

    async def start(self) -> None:
        """Subscribe and join the group."""
        self._consumer.subscribe([self._topic])
        await start_consumer(self._consumer, f"starting the receiver for {self._who}")

    async def stop(self) -> None:
        """Leave the group."""
        await self._consumer.stop()

    async def fetch(self, timeout_ms: int, max_records: int) -> Fetched:
        """The next records of the inbox."""
        with kafka_errors(f"fetching {self._topic}"):
            fetched: Fetched = await self._consumer.getmany(
                timeout_ms=timeout_ms, max_records=max_records
            )
        return fetched

    async def fetch_express(self) -> Fetched:
        """What the express partition holds already fetched or at once."""
        if self._express not in self._consumer.assignment():
            return {}
        with kafka_errors(f"fetching {self._topic}"):
            fetched: Fetched = await self._consumer.getmany(self._express, timeout_ms=0)
        return fetched

    def unread(self, fetched: Fetched) -> None:
        """Seek back to the first record of each partition of ``fetched``."""
        for tp, records in fetched.items():
            self._consumer.seek(tp, records[0].offset)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit in the agency's group."""
        with kafka_errors(f"committing {self._topic}"):
            await self._consumer.commit(offsets)


class SharedInboxes(Service):
    """The inboxes of many agencies read by two consumers (an express and a bulk lane).

    Receivers given ``inboxes=`` read their share through :meth:`attach`. The lanes are
    consumer groups ``<group_id>-express`` and ``<group_id>``: every process hosting the
    same agencies shares the work, as receivers of one agency do. An inbox whose receiver
    falls behind by ``max_waiting`` records has its partitions paused until it catches
    up, so one slow agency does not fill the process's memory or hold the others back.
    """

    def __init__(
        self,
        settings: Settings,
        topics: Iterable[str],
        *,
        group_id: str,
        max_waiting: int = 2000,
        poll_timeout_ms: int = 200,
    ) -> None:
        self._settings = settings
        self._topics = sorted(set(topics))
        self._group_id = group_id
        self._poll_timeout_ms = poll_timeout_ms
        self._boxes = {topic: _Mailbox(topic, max_waiting, self._lane_of) for topic in self._topics}
        self._lanes: list[Lane] = []
        self._doorbell: ExpressDoorbell | None = None
        #: The inbox doorbell's rings, by what came of them (with ``express_sweep_ms``).
        self.rings = CounterTable(
            "docbus_inbox_doorbell_rings", "Inbox doorbell rings.", ["outcome"]
        )
        self._reading: list[asyncio.Task[None]] = []
        self._lifecycle = Lifecycle(f"SharedInboxes({len(self._topics)} inboxes)")

    def attach(self, topic: str) -> InboxSource:
        """The source a receiver of ``topic`` (one of the inboxes given) reads."""
        try:
            return self._boxes[topic]
        except KeyError:
            raise ValueError(f"{topic} is not one of these shared inboxes") from None

    @property
    def consumers(self) -> int:
        """How many consumers read the inboxes (two once started)."""
        return len(self._lanes)

    def fetching(self) -> set[TopicPartition]:
        """The inboxes' partitions the lanes fetch now."""
        return {
            tp
            for lane in self._lanes
            for tp in lane.mine(lane.consumer.assignment() - lane.consumer.paused())
        }

    def paused(self) -> set[TopicPartition]:
        """The inboxes' partitions not fetched now because their receivers fell behind
        (not those the express doorbell keeps paused until a ring)."""
        return {tp for box in self._boxes.values() for tp in box.paused()}

    async def start(self) -> None:
        """Join both lanes' groups and start reading."""
        self._lifecycle.opening()
        try:
            self._lanes = make_lanes(self._settings, self._group_id)
            for lane in self._lanes:
                self._subscribe(lane)
            doorbell = self._doorbell
            await all_finished(  # together: each start waits to join its group
                *(
                    start_consumer(lane.consumer, f"starting the {lane.name} lane of the inboxes")
                    for lane in self._lanes
                ),
                *([doorbell.start()] if doorbell is not None else []),
            )
            self._reading = [
                asyncio.create_task(self._read(lane), name=f"inboxes-{lane.name}")
                for lane in self._lanes
            ]
            if doorbell is not None:
                self._reading.append(
                    asyncio.create_task(doorbell.run(asyncio.Event()), name="inboxes-doorbell")
                )
        except BaseException:
            await self._close()
            raise

    def _subscribe(self, lane: Lane) -> None:
        """Subscribe ``lane`` to the inboxes; put the express lane on the router's rings
        where the settings say so (``express_sweep_ms``)."""
        if not (lane.express and self._settings.express_sweep_ms > 0):
            lane.subscribe(topics=self._topics, on_revoked=self._forget)
            return
        layout = TopicLayout(self._settings.topic_prefix)
        self._doorbell = ExpressDoorbell(self._settings, lane, layout.inbox_doorbell, self.rings)
        self._doorbell.subscribe(topics=self._topics, on_revoked=self._forget)

    async def stop(self) -> None:
        """Stop reading and leave the groups; safe to call twice."""
        if self._lifecycle.closing():
            await self._close()

    async def _close(self) -> None:
        self._lifecycle.closing()
        reading, self._reading = self._reading, []
        for task in reading:
            task.cancel()
        await asyncio.gather(*reading, return_exceptions=True)
        lanes, self._lanes = self._lanes, []
        stopped = await asyncio.gather(
            *(lane.consumer.stop() for lane in lanes), return_exceptions=True
        )
        for lane, outcome in zip(lanes, stopped, strict=True):
            if isinstance(outcome, BaseException):
                log.warning("inbox_lane_stop_failed", lane=lane.name, error=repr(outcome))
        doorbell, self._doorbell = self._doorbell, None
        if doorbell is not None:
            await doorbell.stop()

    async def _read(self, lane: Lane) -> None:
        """Fetch the lane's partitions and hand each record to its inbox's mailbox."""
        while True:
            try:
                with kafka_errors(f"fetching the {lane.name} lane of the inboxes"):
                    fetched = await lane.consumer.getmany(timeout_ms=self._poll_timeout_ms)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a broker hiccup: the lane reads again, nothing lost
                log.warning("inbox_lane_fetch_failed", lane=lane.name, error=str(exc))
                await asyncio.sleep(0.5)
                continue
            if lane.express and self._doorbell is not None:
                for tp, records in fetched.items():  # paused before the loop turns
                    self._doorbell.read(tp, records[-1].offset + 1)
            for tp, records in fetched.items():
                box = self._boxes[tp.topic]
                box.put(tp, records)
                box.pause_if_full(lane)

    def _forget(self, revoked: set[TopicPartition]) -> None:
        """Partitions another process now reads: what waits from them is dropped (read
        again there, from the last commit)."""
        for tp in revoked:
            self._boxes[tp.topic].drop(tp)

    def _lane_of(self, tp: TopicPartition) -> Lane | None:
        return next((lane for lane in self._lanes if lane.owns(tp)), None)


class _Mailbox:
    """One inbox's records fetched by the shared lanes and not yet taken by its receiver."""

    def __init__(
        self, topic: str, max_waiting: int, lane_of: Callable[[TopicPartition], Lane | None]
    ) -> None:
        self.topic = topic
        self._max_waiting = max_waiting
        self._lane_of = lane_of
        self._waiting: dict[TopicPartition, collections.deque[Any]] = {}
        self._arrived = asyncio.Event()
        self._paused: set[Lane] = set()

    @property
    def waiting(self) -> int:
        """Records fetched and not taken."""
        return sum(map(len, self._waiting.values()))

    def put(self, tp: TopicPartition, records: list[Any]) -> None:
        self._waiting.setdefault(tp, collections.deque()).extend(records)
        self._arrived.set()

    def drop(self, tp: TopicPartition) -> None:
        self._waiting.pop(tp, None)

    def pause_if_full(self, lane: Lane) -> None:
        """Stop fetching this inbox's partitions of ``lane`` while ``max_waiting``
        records wait; fetched again once half of them are taken."""
        if self.waiting < self._max_waiting or lane in self._paused:
            return
        lane.consumer.pause(*self._mine(lane))
        self._paused.add(lane)

    def paused(self) -> list[TopicPartition]:
        """This inbox's partitions paused until its receiver takes what waits."""
        return [tp for lane in self._paused for tp in self._mine(lane)]

    def _mine(self, lane: Lane) -> list[TopicPartition]:
        return [tp for tp in lane.mine(lane.consumer.assignment()) if tp.topic == self.topic]

    async def start(self) -> None:
        """Nothing to join: the shared lanes read for every inbox."""

    async def stop(self) -> None:
        """Nothing to leave: the shared lanes go on for the others."""

    async def fetch(self, timeout_ms: int, max_records: int) -> Fetched:
        """The records waiting (express first), up to ``max_records``; waits up to
        ``timeout_ms`` for some."""
        if not self.waiting:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout_ms / 1000)
        return self._take(max_records, express_only=False)

    async def fetch_express(self) -> Fetched:
        """The express records waiting."""
        return self._take(None, express_only=True)

    def unread(self, fetched: Fetched) -> None:
        """Put ``fetched`` back in front of what waits."""
        for tp, records in fetched.items():
            self._waiting.setdefault(tp, collections.deque()).extendleft(reversed(records))
        if fetched:
            self._arrived.set()

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit each partition's offset in its lane's group."""
        by_lane: dict[Lane, dict[TopicPartition, int]] = {}
        for tp, offset in offsets.items():
            lane = self._lane_of(tp)
            if lane is not None and tp in lane.consumer.assignment():
                by_lane.setdefault(lane, {})[tp] = offset
        for lane, mine in by_lane.items():
            with kafka_errors(f"committing {self.topic}"):
                await lane.consumer.commit(mine)

    def _take(self, limit: int | None, *, express_only: bool) -> Fetched:
        taken: Fetched = {}
        left = limit
        for tp in sorted(self._waiting, key=lambda tp: tp.partition != EXPRESS_PARTITION):
            if express_only and tp.partition != EXPRESS_PARTITION:
                continue
            queue = self._waiting[tp]
            count = len(queue) if left is None else min(left, len(queue))
            if count:
                taken[tp] = [queue.popleft() for _ in range(count)]
                if left is not None:
                    left -= count
            if left == 0:
                break
        if self._paused and self.waiting < self._max_waiting // 2:
            for lane in self._paused:
                lane.consumer.resume(*self._mine(lane))
            self._paused.clear()
        return taken

"""The reading side of an express doorbell: fetch only the express partitions rings name.

A consumer of many topics' express partitions (a router's express lane over the
outboxes, rung by senders; a host of many receivers over the inboxes, rung by the
router) keeps them paused. A ring (:mod:`schemas._doorbell`) resumes the partition it
names until the lane has read past the ring's offset; a sweep every ``express_sweep_ms``
asks the broker for every partition's end and does the same for the records no ring
named (a writer without rings, a ring lost, records written before the reader started).
So an idle express lane costs the broker fetches of one doorbell partition and a list of
offsets a second, not fetches of every topic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

import structlog
from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError

from docbus._kafka import kafka_errors, make_consumer, start_consumer
from docbus._lanes import Lane
from docbus._metrics import CounterTable
from docbus._settings import Settings
from schemas import DOORBELL_PARTITION, Ring

__all__ = ["ExpressDoorbell"]

log = structlog.get_logger("docbus.doorbell")


class ExpressDoorbell:
    """Resumes the express ``lane``'s partitions that hold records not yet read, as the
    rings of doorbell ``topic`` and the sweeps say, and pauses the others; ``rings`` counts
    each ring by what became of it.

    ``start()`` and ``stop()`` open and close the doorbell's reader; ``run()`` reads rings
    and sweeps until ``stopping`` is set. The routing loop reports what it read
    (:meth:`read`); the lane's rebalance listener what it was given and lost.
    """

    def __init__(self, settings: Settings, lane: Lane, topic: str, rings: CounterTable) -> None:
        self._lane = lane
        self._rings = rings.values
        self._reader = make_consumer(settings, group_id=None, auto_offset_reset="latest")
        self._doorbell = TopicPartition(topic, DOORBELL_PARTITION)
        self._wait_ms = settings.fetch_max_wait_ms
        self._sweep_every_s = settings.express_sweep_ms / 1000
        #: A wanted partition: the offset to read past, and when to stop trying.
        self._wanted: dict[TopicPartition, tuple[int, float]] = {}
        #: The next offset to read of each partition, as far as this reader knows.
        self._read_to: dict[TopicPartition, int] = {}
        self._sweep_at = 0.0
        self._held = False

    def subscribe(
        self,
        pattern: str | None = None,
        *,
        topics: Iterable[str] = (),
        on_revoked: Callable[[set[TopicPartition]], None],
    ) -> None:
        """Subscribe the lane as :meth:`Lane.subscribe` does, this doorbell told of each
        rebalance too."""

        def revoked(partitions: set[TopicPartition]) -> None:
            on_revoked(partitions)
            self.revoked(partitions)

        self._lane.subscribe(pattern, topics=topics, on_revoked=revoked, on_assigned=self.assigned)

    async def start(self) -> None:
        """Start reading rings from now on (the first sweep finds what came before)."""
        await start_consumer(self._reader, "starting the express doorbell")
        self._reader.assign([self._doorbell])
        with kafka_errors("finding the end of the express doorbell"):
            await self._reader.seek_to_end(self._doorbell)

    async def stop(self) -> None:
        """Close the doorbell's reader."""
        await self._reader.stop()

    async def run(self, stopping: asyncio.Event) -> None:
        """Read rings, sweep when due and give up on unmet wants, until ``stopping``."""
        while not stopping.is_set():
            now = time.monotonic()
            if now >= self._sweep_at:
                self._sweep_at = now + self._sweep_every_s
                await self._sweep()
            self._give_up(now)
            with kafka_errors("reading the express doorbell"):
                batch = await self._reader.getmany(timeout_ms=self._wait_ms)
            for records in batch.values():
                for record in records:
                    self._take(record.key, record.value)

    def read(self, tp: TopicPartition, next_offset: int) -> None:
        """The lane has read ``tp`` up to ``next_offset``: pause it unless a ring or the
        sweep wants more of it (the caller pauses before the loop turns, so the consumer
        does not fetch it again meanwhile)."""
        self._read_to[tp] = next_offset
        wanted = self._wanted.get(tp)
        if wanted is None or next_offset > wanted[0]:
            self._wanted.pop(tp, None)
            self._pause([tp])

    def assigned(self, partitions: Iterable[TopicPartition]) -> None:
        """The lane was given ``partitions``: fetched as they are until the sweep, due now,
        pauses those that hold nothing unread (what waits is read at once, as without a
        doorbell)."""
        del partitions
        self._sweep_at = 0.0

    def revoked(self, partitions: Iterable[TopicPartition]) -> None:
        """``partitions`` are another reader's now."""
        for tp in partitions:
            self._wanted.pop(tp, None)
            self._read_to.pop(tp, None)

    def hold(self) -> None:
        """Fetch nothing until :meth:`release` (rings are still noted)."""
        self._held = True
        self._pause(self._lane.mine(self._lane.consumer.assignment()))

    def release(self) -> None:
        """Fetch again what is wanted, and sweep at once."""
        self._held = False
        assignment = self._lane.consumer.assignment()
        self._lane.consumer.resume(*(tp for tp in self._wanted if tp in assignment))
        self._sweep_at = 0.0

    def _take(self, key: bytes | None, value: bytes | None) -> None:
        try:
            ring = Ring.read(key, value)
        except ValueError as exc:
            self._rings[("refused",)] += 1
            log.warning("ring_refused", reason=str(exc))
            return
        self._rings[(self._want(TopicPartition(ring.topic, ring.partition), ring.offset),)] += 1

    async def _sweep(self) -> None:
        """Want every partition of the lane whose end is past what was read of it."""
        partitions = self._lane.mine(self._lane.consumer.assignment())
        if not partitions:
            return
        with kafka_errors("listing the ends of the express partitions"):
            ends = await self._lane.consumer.end_offsets(partitions)
        for tp, end in ends.items():
            if end > 0 and end > await self._position(tp):
                self._want(tp, end - 1)
        # What someone else resumed (a reader's own flow control) is the doorbell's again.
        self._pause([tp for tp in partitions if tp not in self._wanted])

    async def _position(self, tp: TopicPartition) -> int:
        """The next offset of ``tp`` the lane reads (0 while it cannot tell)."""
        if tp in self._read_to:
            return self._read_to[tp]
        try:
            position: int = await asyncio.wait_for(
                self._lane.consumer.position(tp), self._sweep_every_s
            )
        except (TimeoutError, IllegalStateError):
            return 0
        self._read_to[tp] = position
        return position

    def _want(self, tp: TopicPartition, offset: int) -> str:
        """Fetch ``tp`` until past ``offset``; what became of the want."""
        if not self._lane.owns(tp) or tp not in self._lane.consumer.assignment():
            return "elsewhere"
        if offset < self._read_to.get(tp, 0):
            return "read"
        previous = self._wanted.get(tp, (-1, 0.0))[0]
        self._wanted[tp] = (max(previous, offset), time.monotonic() + self._sweep_every_s)
        if not self._held:
            self._lane.consumer.resume(tp)
        return "fetched"

    def _give_up(self, now: float) -> None:
        """Pause what stayed wanted a sweep's time without being read (a false ring; a
        lane too busy to get to it): the next sweep looks again."""
        stale = [tp for tp, (_, until) in self._wanted.items() if now >= until]
        for tp in stale:
            del self._wanted[tp]
        self._pause(stale)

    def _pause(self, partitions: list[TopicPartition]) -> None:
        assignment = self._lane.consumer.assignment()
        mine = [tp for tp in partitions if tp in assignment]
        if mine:
            self._lane.consumer.pause(*mine)

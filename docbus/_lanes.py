"""Lanes: a consumer kept to the express partitions of its topics, or to the others.

A router (over every outbox) and a process hosting many agencies' receivers (over their
inboxes) read each lane with a consumer of its own, in a group of its own, each pausing
the other lane's partitions whenever it is assigned some, so a record is read by one
lane only. With its own consumer the express lane has its own fetches: an express record
is not read in the same fetch answer as megabytes of bulk backlog, nor held until the
bulk buffers are consumed (aiokafka fetches from a broker only when none of its
partitions has unconsumed records), and each lane waits for records as long as its role
allows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from docbus._kafka import make_consumer
from docbus._settings import Settings
from schemas import EXPRESS_PARTITION

__all__ = ["LANES", "Lane", "lane_names", "make_lanes"]

#: The lanes by name: a router or a host of receivers reads both unless told to read one.
LANES = ("express", "bulk")


@dataclass(frozen=True)
class Lane:
    """One lane: its name, whether it reads the express partitions or the others, its
    consumer."""

    name: str
    express: bool
    consumer: AIOKafkaConsumer

    def owns(self, tp: TopicPartition) -> bool:
        """Whether ``tp`` is this lane's to read."""
        partition: int = tp.partition
        return (partition == EXPRESS_PARTITION) == self.express

    def subscribe(
        self,
        pattern: str | None = None,
        *,
        topics: Iterable[str] = (),
        on_revoked: Callable[[set[TopicPartition]], None] | None = None,
        on_assigned: Callable[[set[TopicPartition]], None] | None = None,
    ) -> None:
        """Subscribe to the topics matching ``pattern``, or to ``topics``, keeping to this
        lane's partitions after each rebalance (``on_revoked`` is told of this lane's
        partitions each rebalance takes away, ``on_assigned`` of those it gives)."""
        listener = _KeepToLane(self, on_revoked, on_assigned)
        if pattern is not None:
            self.consumer.subscribe(pattern=pattern, listener=listener)
        else:
            self.consumer.subscribe(topics=list(topics), listener=listener)

    def mine(self, partitions: Iterable[TopicPartition]) -> list[TopicPartition]:
        """Those of ``partitions`` this lane reads."""
        return [tp for tp in partitions if self.owns(tp)]

    def pause(self) -> None:
        """Stop fetching this lane's partitions (the other lane's stay paused)."""
        self.consumer.pause(*self.consumer.assignment())

    def resume(self) -> None:
        """Fetch this lane's partitions again."""
        self.consumer.resume(*self.mine(self.consumer.assignment()))


class _KeepToLane(ConsumerRebalanceListener):  # type: ignore[misc]
    """Pauses the other lane's partitions as soon as they are assigned."""

    def __init__(
        self,
        lane: Lane,
        on_revoked: Callable[[set[TopicPartition]], None] | None,
        on_assigned: Callable[[set[TopicPartition]], None] | None,
    ) -> None:
        self._lane = lane
        self._on_revoked = on_revoked
        self._on_assigned = on_assigned

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Tell the owner of this lane's partitions revoked (the other lane's partitions
        are not this group's to read)."""
        if self._on_revoked is not None:
            self._on_revoked({tp for tp in revoked if self._lane.owns(tp)})

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Pause what belongs to the other lane; tell the owner of this lane's partitions."""
        others = [tp for tp in assigned if not self._lane.owns(tp)]
        if others:
            self._lane.consumer.pause(*others)
        if self._on_assigned is not None:
            self._on_assigned({tp for tp in assigned if self._lane.owns(tp)})


def lane_names(names: Iterable[str]) -> frozenset[str]:
    """``names`` checked: one or both of :data:`LANES` (ValueError otherwise)."""
    wanted = frozenset(names)
    if not wanted or wanted - set(LANES):
        raise ValueError(f"lanes must be one or both of {', '.join(LANES)}, not {sorted(wanted)}")
    return wanted


def make_lanes(settings: Settings, group_id: str, names: Iterable[str] = LANES) -> list[Lane]:
    """The lanes named: express (group ``<group_id>-express``; the broker answers a
    fetch as soon as a record waits, or after ``fetch_max_wait_ms``), bulk (``group_id``;
    held by the broker until ``bulk_fetch_min_bytes`` or ``bulk_gather_ms``)."""
    wanted = lane_names(names)
    lanes = []
    if "express" in wanted:
        lanes.append(Lane("express", True, make_consumer(settings, group_id=f"{group_id}-express")))
    if "bulk" in wanted:
        consumer = make_consumer(  # held by the broker until enough bytes or the wait
            settings,
            group_id=group_id,
            fetch_min_bytes=settings.bulk_fetch_min_bytes,
            fetch_max_wait_ms=settings.bulk_gather_ms,
        )
        lanes.append(Lane("bulk", False, consumer))
    return lanes

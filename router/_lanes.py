"""The router's two lanes: a consumer for the outboxes' express partitions, one for the rest.

Each lane is a consumer group of its own over every outbox, and each consumer pauses the
other lane's partitions whenever it is assigned some, so a record is routed by one lane
only. With its own consumer the express lane has its own fetches: an express document is
not read in the same fetch answer as megabytes of bulk backlog, nor held until the bulk
buffers are consumed (aiokafka fetches from a broker only when none of its partitions
has unconsumed records).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from docbus import Settings, make_consumer
from schemas import EXPRESS_PARTITION

__all__ = [
    "LANES",
    "Lane",
    "lane_names",
    "producer_linger_ms",
    "router_lanes",
]

#: The router's lanes by name: a router runs both unless told to run one.
LANES = ("express", "bulk")


@dataclass(frozen=True)
class Lane:
    """One lane of the router: its name, which partitions it routes, its consumer."""

    name: str
    express: bool
    consumer: AIOKafkaConsumer

    def owns(self, tp: TopicPartition) -> bool:
        """Whether ``tp`` is this lane's to route."""
        partition: int = tp.partition
        return (partition == EXPRESS_PARTITION) == self.express

    def subscribe(
        self, pattern: str, *, on_revoked: Callable[[set[TopicPartition]], None] | None = None
    ) -> None:
        """Subscribe to every outbox, keeping to this lane's partitions after each rebalance
        (``on_revoked`` is told of the partitions each rebalance takes away)."""
        self.consumer.subscribe(pattern=pattern, listener=_KeepToLane(self, on_revoked))

    def mine(self, partitions: Iterable[TopicPartition]) -> list[TopicPartition]:
        """Those of ``partitions`` this lane routes."""
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
        self, lane: Lane, on_revoked: Callable[[set[TopicPartition]], None] | None
    ) -> None:
        self._lane = lane
        self._on_revoked = on_revoked

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Tell the router of this lane's partitions revoked (offsets are committed per
        batch, after its acks; the other lane's partitions are not this group's to route)."""
        if self._on_revoked is not None:
            self._on_revoked({tp for tp in revoked if self._lane.owns(tp)})

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Pause what belongs to the other lane."""
        others = [tp for tp in assigned if not self._lane.owns(tp)]
        if others:
            self._lane.consumer.pause(*others)


def lane_names(names: Iterable[str]) -> frozenset[str]:
    """``names`` checked: one or both of :data:`LANES` (ValueError otherwise)."""
    wanted = frozenset(names)
    if not wanted or wanted - set(LANES):
        raise ValueError(f"lanes must be one or both of {', '.join(LANES)}, not {sorted(wanted)}")
    return wanted


def producer_linger_ms(settings: Settings, names: Iterable[str]) -> int:
    """How long the producer of a router of the lanes ``names`` lingers: as long as the
    bulk lane gathers when no express record passes through it, the ordinary time otherwise."""
    return settings.linger_ms if "express" in lane_names(names) else settings.bulk_gather_ms


def router_lanes(settings: Settings, group_id: str, names: Iterable[str] = LANES) -> list[Lane]:
    """The lanes named: express (group ``<group_id>-express``), bulk (``group_id``)."""
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

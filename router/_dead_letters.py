"""The dead-letter topic read back for operators: the latest records with their reasons."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from aiokafka import TopicPartition

from docbus import Settings, kafka_errors, make_consumer
from schemas import HEADER_ERROR, HEADER_ERROR_CLASS, TopicLayout

__all__ = ["DeadLetter", "recent_dead_letters"]

#: How long a read waits for the next fetch before it takes what it has as the end.
_QUIET_MS = 300


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One record the router would not deliver: why, what, and where it came from."""

    reason: str
    detail: str
    source: str
    key: str
    at: dt.datetime


async def recent_dead_letters(settings: Settings, *, last: int = 500) -> list[DeadLetter]:
    """Up to ``last`` of the newest dead letters per partition, oldest first."""
    topic = TopicLayout(settings.topic_prefix).deadletter
    consumer = make_consumer(settings, group_id=None)
    with kafka_errors("reading the dead letters"):
        await consumer.start()
        try:
            partitions = consumer.partitions_for_topic(topic) or set()
            assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
            if not assigned:
                return []
            consumer.assign(assigned)
            ends = await consumer.end_offsets(assigned)
            starts = await consumer.beginning_offsets(assigned)
            for tp in assigned:
                consumer.seek(tp, max(starts[tp], ends[tp] - last))
            found: list[DeadLetter] = []
            while batches := await consumer.getmany(timeout_ms=_QUIET_MS):
                for records in batches.values():
                    found += [_dead_letter(r.headers, r.key, r.timestamp) for r in records]
        finally:
            await consumer.stop()
    found.sort(key=lambda d: d.at)
    return found


def _dead_letter(
    headers: tuple[tuple[str, bytes], ...] | list[tuple[str, bytes]], key: bytes | None, ms: int
) -> DeadLetter:
    given = {name: value.decode("utf-8", "replace") for name, value in headers}
    return DeadLetter(
        reason=given.get(HEADER_ERROR_CLASS, "unknown"),
        detail=given.get(HEADER_ERROR, ""),
        source=given.get("docbus-source", ""),
        key=(key or b"").decode("utf-8", "replace"),
        at=dt.datetime.fromtimestamp(ms / 1000, dt.UTC),
    )

"""Notices that arrive before their document: held for a while instead of dead-lettered.

A status notice can reach a router before the document it is about is known there:
another router routed the document and its tracking row is still on its way to the
shared store, or a restarted router fetched the recipient's outbox before it re-routed
the sender's. Such a notice is parked and retried until ``grace_s`` after it was first
seen, and for as long as the router works through a backlog (the document may be in
it) and ``grace_s`` beyond; only then is it dead-lettered as ``unknown_document`` (a
notice about a document nobody sent still ends there).

While a notice is parked its partition is not committed past it (a crash reads it
again), and the later records of that partition about the same document wait behind it,
so that a recipient's 01 and 03 are applied in the order it sent them.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aiokafka import TopicPartition

__all__ = ["ParkedRecord", "Parking"]


@dataclass(frozen=True, slots=True)
class ParkedRecord:
    """A record held back, with when it may be held until."""

    tp: TopicPartition
    record: Any
    deadline: float


class Parking:
    """The parked records of one router, by partition, in the order they were read."""

    def __init__(self, *, grace_s: float, retry_every_s: float) -> None:
        self.grace_s = grace_s
        self._retry_every_s = retry_every_s
        self._by_tp: dict[TopicPartition, collections.deque[ParkedRecord]] = {}
        self._keys: dict[TopicPartition, collections.Counter[bytes | None]] = {}
        self._retried_at: dict[str, float] = {}  # by lane

    def __len__(self) -> int:
        return sum(len(queue) for queue in self._by_tp.values())

    def holds(self, tp: TopicPartition, key: bytes | None) -> bool:
        """Whether a record of ``tp`` with ``key`` (a document id) must wait behind one parked."""
        keys = self._keys.get(tp)
        return keys is not None and keys[key] > 0

    def park(self, tp: TopicPartition, record: Any, deadline: float) -> None:
        """Hold ``record`` of ``tp`` until ``deadline`` (monotonic seconds)."""
        self._by_tp.setdefault(tp, collections.deque()).append(ParkedRecord(tp, record, deadline))
        self._keys.setdefault(tp, collections.Counter())[record.key] += 1

    def due(self, now: float, lane: str, owned: Callable[[TopicPartition], bool]) -> bool:
        """Whether ``lane`` holds parked records and it is time to retry them (not more
        often than every few hundred milliseconds: each retry reads the store)."""
        since = now - self._retried_at.get(lane, float("-inf"))
        return since >= self._retry_every_s and any(owned(tp) for tp in self._by_tp)

    def take(
        self, now: float, lane: str, owned: Callable[[TopicPartition], bool]
    ) -> Iterator[ParkedRecord]:
        """Every parked record of ``lane`` (the partitions ``owned`` accepts), in order, to
        retry (re-park those that must still wait)."""
        self._retried_at[lane] = now
        for tp in [tp for tp in self._by_tp if owned(tp)]:
            queue = self._by_tp.pop(tp)
            self._keys.pop(tp, None)
            yield from queue

    def first_offset(self, tp: TopicPartition) -> int | None:
        """The offset of ``tp``'s first parked record: the commit must not pass it."""
        queue = self._by_tp.get(tp)
        return queue[0].record.offset if queue else None

    def drop(self, revoked: set[TopicPartition]) -> None:
        """Forget the records of partitions this router no longer owns (their new owner
        reads them again from the last commit, which did not pass them)."""
        for tp in revoked:
            self._by_tp.pop(tp, None)
            self._keys.pop(tp, None)

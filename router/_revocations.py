"""Which partitions a rebalance took away while a batch of them was being routed.

aiokafka runs a rebalance's revoke callback at any ``await`` of the routing task, so a
batch fetched before a rebalance can still be in the router's hands after its partitions
were revoked, and perhaps assigned back with the fetch position reset to the last commit.
The router forgets a revoked partition's parked notices at once (their new owner reads
them again), so routing the rest of that batch would route a notice no longer held
behind its parked predecessors (a 03 ahead of its 01), and committing it could pass
records never routed. A batch therefore stops at a partition revoked since it was
fetched, and commits nothing for it.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import TopicPartition

__all__ = ["Revocations"]


class Revocations:
    """Counts rebalances and remembers the last one that revoked each partition."""

    def __init__(self) -> None:
        self._round = 0
        self._revoked_in: dict[TopicPartition, int] = {}

    def revoke(self, partitions: Iterable[TopicPartition]) -> None:
        """``partitions`` were taken away now."""
        self._round += 1
        for tp in partitions:
            self._revoked_in[tp] = self._round

    def mark(self) -> int:
        """A mark to take when a batch is fetched, for :meth:`revoked_since`."""
        return self._round

    def revoked_since(self, tp: TopicPartition, mark: int) -> bool:
        """Whether ``tp`` was revoked after :meth:`mark` returned ``mark``."""
        return self._revoked_in.get(tp, 0) > mark

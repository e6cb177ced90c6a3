"""A lane's batches waiting to settle: each after the one before it, up to a bound.

A batch settles (its acks awaited, its tracking changes written, its offsets committed)
while the lane routes the next ones. Settlements run one at a time and in the order of
their batches, so offsets are committed in order and never past a batch not settled;
the lane waits for room only when ``most`` batches are waiting.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Coroutine
from typing import Any

__all__ = ["SettlementQueue"]


class SettlementQueue:
    """Settlements of one lane's batches, chained in order, at most ``most`` unsettled."""

    def __init__(self, most: int) -> None:
        if most < 1:
            raise ValueError(f"most must be at least 1, not {most}")
        self._most = most
        self._waiting: collections.deque[asyncio.Task[None]] = collections.deque()

    def __len__(self) -> int:
        return len(self._waiting)

    async def add(self, settlement: Coroutine[Any, Any, None]) -> None:
        """Queue ``settlement`` to run after every one queued before it.

        Waits while ``most`` are unsettled; raises the failure of any that failed (the
        ones behind a failed settlement fail with it, so nothing is committed past it).
        """
        try:
            while self._waiting and (self._waiting[0].done() or len(self._waiting) >= self._most):
                await self._waiting.popleft()
        except BaseException:
            settlement.close()
            raise
        before = self._waiting[-1] if self._waiting else None
        self._waiting.append(asyncio.create_task(_after(before, settlement)))

    async def drain(self) -> None:
        """Wait for every queued settlement; then raise the first failure, if any."""
        waiting, self._waiting = list(self._waiting), collections.deque()
        results = await asyncio.gather(*waiting, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result


async def _after(before: asyncio.Task[None] | None, settlement: Coroutine[Any, Any, None]) -> None:
    """Run ``settlement`` once ``before`` has settled; fail with it if it failed."""
    try:
        if before is not None:
            await asyncio.shield(before)
    except BaseException:
        settlement.close()
        raise
    await settlement

"""Counting overdue deliveries off the event loop, on one kept store connection."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from docbus import KeptThread
from router.tracking._store import TrackingStore, open_store

__all__ = ["OverdueCounter"]


class OverdueCounter:
    """Counts overdue deliveries by agency in a thread of its own.

    The store is opened once, in that thread (its DDL runs once, and an SQLite
    connection stays in the thread that made it), and kept until :meth:`close`.
    """

    def __init__(self, *, dsn: str | None, state_dir: Path) -> None:
        self._dsn = dsn
        self._state_dir = state_dir
        self._store: TrackingStore | None = None
        self._thread = KeptThread("docbus-overdue")
        self._closed = False

    async def count(self, now: dt.datetime | None = None) -> dict[str, int]:
        """Overdue deliveries by agency at ``now`` (default: the present)."""
        return await self._thread.run(self._count, now or dt.datetime.now(dt.UTC))

    def _count(self, now: dt.datetime) -> dict[str, int]:
        if self._store is None:
            self._store = open_store(dsn=self._dsn, state_dir=self._state_dir)
        return self._store.overdue_counts(now)

    async def close(self) -> None:
        """Close the kept store in its thread (after any count in flight) and end the
        thread; safe to call twice."""
        if not self._closed:
            self._closed = True
            await self._thread.run(self._close_store)
        await self._thread.close()

    def _close_store(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            store.close()

"""Tests for router.tracking._overdue: overdue counts on one kept store, off the event loop."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from router.tracking import OverdueCounter, open_store
from router.tracking._store import WriteBatch, micros

T0 = dt.datetime(2024, 11, 25, 2, 0, tzinfo=dt.UTC)


def _one_delivery(state_dir: Path) -> None:
    store = open_store(dsn=None, state_dir=state_dir)
    batch = WriteBatch()
    batch.documents.append(("doc-1", "G22", "1/VPCP", "s", 0, micros(T0), 0, "", None))
    batch.deliveries.append(("doc-1", "H29", "H29", micros(T0 + dt.timedelta(hours=8)), micros(T0)))
    store.write(batch)
    store.commit()
    store.close()


async def test_counts_on_one_store_opened_once_in_its_own_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Repeated counts reuse one store, opened in a thread that is not the event loop's."""
    _one_delivery(tmp_path)
    counter = OverdueCounter(dsn=None, state_dir=tmp_path)
    opened: list[str] = []
    real_open = open_store

    def counting_open(**kwargs):  # type: ignore[no-untyped-def]
        opened.append(threading.current_thread().name)
        return real_open(**kwargs)

    monkeypatch.setattr("router.tracking._overdue.open_store", counting_open)
    try:
        assert await counter.count(T0) == {}
        assert await counter.count(T0 + dt.timedelta(days=1)) == {"H29": 1}
    finally:
        await counter.close()
        await counter.close()  # safe twice
    assert len(opened) == 1
    assert opened[0].startswith("docbus-overdue")

"""Tests for router.tracking._writer: the tracking writer process."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from router.tracking import PendingChanges, Tracker, open_store
from router.tracking._writer import ProcessWriter
from tests.helpers import H29, letter


async def test_concurrent_async_writes_each_complete(tmp_path: Path) -> None:
    """Two lanes writing at once both get their reply, and both batches are stored."""
    writer = ProcessWriter(dsn=None, state_dir=tmp_path)
    await asyncio.to_thread(writer.start)
    try:
        tracker = Tracker(open_store(dsn=None, state_dir=tmp_path), writer=writer.write)
        batches: list[PendingChanges] = []
        for n in range(2):
            tracker.on_document(letter(number=n), [(H29, H29)])
            batches.append(tracker.take_changes())
        async with asyncio.timeout(10):  # without the turn-taking, the first waits forever
            await asyncio.gather(*(writer.write_async(b) for b in batches))
        store = open_store(dsn=None, state_dir=tmp_path)
        try:
            stored = [store.document(letter(number=n).document_id) for n in range(2)]
        finally:
            store.close()
        tracker.store.close()
    finally:
        await asyncio.to_thread(writer.stop)
    assert all(row is not None for row in stored)


async def test_a_batch_larger_than_the_pipe_goes_through_a_non_blocking_pipe(
    tmp_path: Path,
) -> None:
    """uvloop's ``add_reader`` leaves the pipe non-blocking; a batch larger than the
    pipe's buffer then failed with EAGAIN ("the tracking writer died") and stopped the
    router. The write now makes its send blocking again: the batch is stored whole."""
    writer = ProcessWriter(dsn=None, state_dir=tmp_path)
    await asyncio.to_thread(writer.start)
    try:
        tracker = Tracker(open_store(dsn=None, state_dir=tmp_path), writer=writer.write)
        for n in range(3000):
            tracker.on_document(letter(number=n), [(H29, H29)])
        batch = tracker.take_changes()
        assert writer._conn is not None
        os.set_blocking(writer._conn.fileno(), False)  # as uvloop leaves it
        async with asyncio.timeout(30):
            await writer.write_async(batch)
        store = open_store(dsn=None, state_dir=tmp_path)
        try:
            last = store.document(letter(number=2999).document_id)
        finally:
            store.close()
        tracker.store.close()
    finally:
        await asyncio.to_thread(writer.stop)
    assert last is not None

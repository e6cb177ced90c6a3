"""Tests for router.tracking._writer: the tracking writer process."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import pytest

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


async def test_large_batches_go_through_a_loop_whose_add_reader_makes_the_pipe_non_blocking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvloop's ``add_reader`` makes the pipe non-blocking; the next batch larger than the
    pipe's buffer then failed half-way with EAGAIN ("the tracking writer died") and
    stopped the router. Here the test's loop does what uvloop does: both batches are
    stored whole."""
    loop = asyncio.get_running_loop()
    add_reader = loop.add_reader

    def add_reader_as_uvloop_does(fd: int, callback: Callable[..., object], *args: object) -> None:
        os.set_blocking(fd, False)
        add_reader(fd, callback, *args)

    monkeypatch.setattr(loop, "add_reader", add_reader_as_uvloop_does)
    writer = ProcessWriter(dsn=None, state_dir=tmp_path)
    await asyncio.to_thread(writer.start)
    try:
        tracker = Tracker(open_store(dsn=None, state_dir=tmp_path), writer=writer.write)
        for first in (0, 3000):
            for n in range(first, first + 3000):
                tracker.on_document(letter(number=n), [(H29, H29)])
            async with asyncio.timeout(30):
                await writer.write_async(tracker.take_changes())
        store = open_store(dsn=None, state_dir=tmp_path)
        try:
            last = store.document(letter(number=5999).document_id)
        finally:
            store.close()
        tracker.store.close()
    finally:
        await asyncio.to_thread(writer.stop)
    assert last is not None

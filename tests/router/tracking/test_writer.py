"""Tests for router.tracking._writer: the tracking writer process."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from docbus import ConfigurationError, RouterError
from router.tracking import PendingChanges, Tracker, open_store
from router.tracking._writer import ProcessWriter
from schemas import DocumentEnvelope
from tests.helpers import H29, letter


async def test_concurrent_async_writes_each_complete(tmp_path: Path) -> None:
    """Two lanes writing at once both get their reply, and both batches are stored."""
    writer = ProcessWriter(dsn=None, state_dir=tmp_path)
    await asyncio.to_thread(writer.start)
    try:
        tracker = Tracker(open_store(dsn=None, state_dir=tmp_path), writer=writer.write)
        batches: list[PendingChanges] = []
        for n in range(2):
            tracker.on_document(DocumentEnvelope.of(letter(number=n)), [(H29, H29)])
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


async def test_large_batches_are_stored_whole(tmp_path: Path) -> None:
    """Two 3,000-document batches, larger than a pipe's buffer, are both written."""
    writer = ProcessWriter(dsn=None, state_dir=tmp_path)
    await asyncio.to_thread(writer.start)
    try:
        tracker = Tracker(open_store(dsn=None, state_dir=tmp_path), writer=writer.write)
        for first in (0, 3000):
            for n in range(first, first + 3000):
                tracker.on_document(DocumentEnvelope.of(letter(number=n)), [(H29, H29)])
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
        await asyncio.to_thread(writer.stop)  # safe twice
    assert last is not None


def test_a_store_that_cannot_open_fails_the_start_with_its_reason(tmp_path: Path) -> None:
    """An unreachable tracking database is the worker's ConfigurationError, raised at start."""
    writer = ProcessWriter(dsn="postgresql://nobody@127.0.0.1:1/none", state_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="tracking database"):
        writer.start()
    with pytest.raises(RouterError, match="not running"):
        writer.write(PendingChanges())


def test_the_worker_dies_with_a_killed_router(tmp_path: Path) -> None:
    """SIGKILL the process that started the writer: its worker process goes too."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import sys, time\n"
        "from pathlib import Path\n"
        "from router.tracking._writer import ProcessWriter\n"
        "if __name__ == '__main__':\n"
        f"    w = ProcessWriter(dsn=None, state_dir=Path({str(tmp_path)!r}))\n"
        "    w.start()\n"
        "    print('started', flush=True)\n"
        "    time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline() == "started\n"
        workers = [pid for pid in _children(parent.pid) if _name(pid) == "tracking-writer"]
        assert len(workers) == 1
    finally:
        parent.kill()
        parent.wait()
        assert parent.stdout is not None
        parent.stdout.close()
    deadline = time.monotonic() + 10
    while _alive(workers[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(workers[0])


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines())
            if int(fields["PPid"]) == pid:
                found.append(int(status.parent.name))
    return found


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"

"""Tests for router._directory_feed: the directory travels on a compacted topic to every router."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import warnings

from docbus import Settings
from docbus.directory import Directory
from producers import Sender
from router import DirectoryFollower, Router, publish_directory
from schemas import TopicLayout
from tests.helpers import G22, ensure_topics, letter, produce_raw, read_topic

NEW = "000.00.00.G23"


def with_new_ministry(directory: Directory, version: str) -> Directory:
    raw = directory.to_json()
    raw["version"] = version
    raw["agencies"].append(
        {"code": NEW, "name": "Bộ Thử nghiệm", "kind": "ministry", "illustrative": True}
    )
    return Directory.from_json(raw)


async def test_topic_round_trip(settings: Settings) -> None:
    """A published directory is read back whole, and a broken record in between is skipped."""
    await ensure_topics(settings, [G22])
    original = Directory.load()
    topic = TopicLayout(settings.topic_prefix).directory
    await produce_raw(settings, topic, [b"{not json"], key=b"directory")
    await publish_directory(settings, original)
    received: asyncio.Queue[Directory] = asyncio.Queue()

    async def on_update(directory: Directory) -> None:
        await received.put(directory)

    follower = asyncio.create_task(DirectoryFollower(settings=settings, on_update=on_update).run())
    try:
        got = await asyncio.wait_for(received.get(), 30)
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
    assert got.to_json() == original.to_json()


async def test_router_picks_up_a_new_directory_without_restart(settings: Settings) -> None:
    """A ministry added to the published directory receives mail from the running router
    (sent by an agency whose directory knew it first)."""
    layout = await ensure_topics(settings, [G22, NEW])
    updated = with_new_ministry(Directory.load(), "test-2")
    async with (
        Router(settings=settings) as router,
        Sender(agency=G22, settings=settings, directory=updated) as sender,
    ):
        await sender.send(letter(G22, (NEW,), number=1))
        (dead,) = await read_topic(settings, layout.deadletter, 1)
        assert b"G23" in dict(dead.headers)["docbus-error"]
        await publish_directory(settings, updated)
        await asyncio.wait_for(router.wait_for_directory("test-2"), 30)
        await sender.send(letter(G22, (NEW,), number=2))
        (delivered,) = await read_topic(settings, layout.inbox(NEW), 1)
    assert delivered.key.decode().endswith(",2/VPCP-KSTT")


async def test_a_follower_cancelled_while_starting_closes_its_consumer(settings: Settings) -> None:
    """A router stopped right after it started used to leak the follower's connection."""

    async def ignore(directory: Directory) -> None:
        pass

    for delay in (0.0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05):
        task = asyncio.create_task(DirectoryFollower(settings=settings, on_update=ignore).run())
        await asyncio.sleep(delay)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]

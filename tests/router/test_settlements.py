"""A lane's settlements: in order, one at a time, nothing settled past a failure; and the
express lane goes on routing while a tracking write is held."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from docbus import Settings
from producers import Sender
from router import Router
from router._settlements import SettlementQueue
from router.tracking import PendingChanges, Tracker, open_store
from router.tracking._tracker import write_changes
from schemas import EXPRESS_PARTITION
from tests.helpers import G22, H29, ensure_topics, letter, read_topic


async def _settlement(name: str, log: list[str], delay_s: float, fail: bool = False) -> None:
    log.append(f"{name} starts")
    await asyncio.sleep(delay_s)
    if fail:
        raise RuntimeError(f"{name} failed")
    log.append(f"{name} ends")


async def test_settlements_run_one_at_a_time_in_order_while_the_lane_goes_on() -> None:
    """A slow first settlement holds the later ones, not the lane: adding returns at once
    while fewer than ``most`` wait, and the later ones start only after it ends."""
    log: list[str] = []
    queue = SettlementQueue(most=4)
    await queue.add(_settlement("1", log, 0.2))
    await queue.add(_settlement("2", log, 0))
    await queue.add(_settlement("3", log, 0))
    assert len(queue) == 3  # the lane was not held
    await queue.drain()
    assert log == ["1 starts", "1 ends", "2 starts", "2 ends", "3 starts", "3 ends"]
    assert len(queue) == 0


async def test_with_room_for_one_the_lane_waits_for_the_settlement_before() -> None:
    """``most=1`` (the bulk lane): adding the next settlement waits for the one queued."""
    log: list[str] = []
    queue = SettlementQueue(most=1)
    await queue.add(_settlement("1", log, 0.05))
    await queue.add(_settlement("2", log, 0))
    assert log == ["1 starts", "1 ends"]  # 2 is queued only once 1 has settled
    await queue.drain()
    assert log[-2:] == ["2 starts", "2 ends"]


async def test_nothing_behind_a_failed_settlement_runs_and_the_failure_is_raised() -> None:
    """A settlement behind a failed one never starts (it would commit past the failed
    batch); the lane hears of the failure when it adds the next, or when it drains."""
    log: list[str] = []
    queue = SettlementQueue(most=8)
    await queue.add(_settlement("1", log, 0.05, fail=True))
    await queue.add(_settlement("2", log, 0))
    await asyncio.sleep(0.1)
    with pytest.raises(RuntimeError, match="1 failed"):
        await queue.add(_settlement("3", log, 0))
    with pytest.raises(RuntimeError, match="1 failed"):
        await queue.drain()
    assert log == ["1 starts"]


def test_room_for_fewer_than_one_settlement_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SettlementQueue(most=0)


async def test_express_documents_are_routed_while_a_tracking_write_is_held(
    settings: Settings, tmp_path: Path
) -> None:
    """With the tracking store's writes held (as when the bulk lane's big write has the
    SQLite lock), express documents sent one after another still reach the inbox: the
    express lane does not wait for the settlement of its batch before. Nothing is
    committed until the writes go through; then everything is."""
    layout = await ensure_topics(settings, [G22, H29])
    released = threading.Event()
    store = open_store(dsn=None, state_dir=tmp_path)

    def held_write(changes: PendingChanges) -> None:
        released.wait(60)
        write_changes(store, tracker.calendar, changes)

    tracker = Tracker(store, writer=held_write)
    express = [letter(number=n, priority=3) for n in range(6)]
    try:
        async with (
            Router(settings=settings, tracker=tracker) as router,
            Sender(agency=G22, settings=settings) as sender,
        ):
            for sent, doc in enumerate(express, start=1):
                await sender.send(doc)
                await read_topic(settings, layout.inbox(H29), sent, timeout_s=20)
            lane = next(lane for lane in router._lanes if lane.express)
            outbox = TopicPartition(layout.outbox(G22), EXPRESS_PARTITION)
            assert await lane.consumer.committed(outbox) is None  # not before the writes
            released.set()
            await _committed(lane.consumer, outbox, len(express))
    finally:
        released.set()
    assert set(store.digests([d.document_id for d in express])) == {d.document_id for d in express}
    store.close()


async def _committed(consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
    """Wait until ``consumer``'s group has committed ``tp`` up to ``offset``."""
    async with asyncio.timeout(20):
        while await consumer.committed(tp) != offset:
            await asyncio.sleep(0.1)

"""The express doorbell: the router's express lane fetches what senders' rings name."""

from __future__ import annotations

import asyncio
import time

from aiokafka import TopicPartition

from consumers import Receiver
from docbus import (
    CounterTable,
    ExpressDoorbell,
    Settings,
    make_lanes,
    make_producer,
    start_consumer,
)
from producers import Sender
from router import Router
from schemas import DOORBELL_PARTITION, EXPRESS_PARTITION, Ring, TopicLayout
from tests.helpers import G22, H29, ensure_topics, eventually, in_background, letter


async def _ring(settings: Settings, *records: tuple[bytes | None, bytes | None]) -> None:
    """Produce ``records`` (key, value) to the doorbell as they are."""
    producer = make_producer(settings)
    await producer.start()
    try:
        doorbell = TopicLayout(settings.topic_prefix).doorbell
        for key, value in records:
            await producer.send_and_wait(doorbell, value, key=key, partition=DOORBELL_PARTITION)
    finally:
        await producer.stop()


async def test_a_ring_has_its_partition_fetched_until_read_and_a_false_one_is_given_up(
    settings: Settings,
) -> None:
    """The express lane's partitions stay paused; a ring resumes the one it names until the
    lane reads past the ring's offset; a ring of a record that never comes is given up
    after the sweep's time; what is no ring is counted as refused."""
    settings = settings.replace(express_sweep_ms=500)
    layout = await ensure_topics(settings, [G22, H29])
    (lane,) = make_lanes(settings, settings.group_id("doorbell-test"), ["express"])
    rings = CounterTable("rings", "Rings.", ["outcome"])
    doorbell = ExpressDoorbell(settings, lane, layout.doorbell, rings)
    g22, h29 = (TopicPartition(layout.outbox(a), EXPRESS_PARTITION) for a in (G22, H29))
    doorbell.subscribe(topics=[layout.outbox(G22), layout.outbox(H29)], on_revoked=lambda _: None)
    await start_consumer(lane.consumer, "test")
    await doorbell.start()
    stopping = asyncio.Event()
    try:
        async with in_background(doorbell.run(stopping)):
            await eventually(lambda: {g22, h29} <= lane.consumer.paused())
            async with Sender(agency=G22, settings=settings) as sender:
                receipt = await sender.send(letter(priority=3))
            assert (receipt.topic, receipt.partition) == (g22.topic, g22.partition)
            await eventually(lambda: g22 not in lane.consumer.paused())
            batch = await lane.consumer.getmany(g22, timeout_ms=5000)
            assert [r.offset for r in batch[g22]] == [receipt.offset]
            doorbell.read(g22, receipt.offset + 1)
            assert g22 in lane.consumer.paused()

            await _ring(settings, (b"not a ring", b"?"), (h29.topic.encode(), b"0:99"))
            await eventually(lambda: h29 not in lane.consumer.paused())
            given_up_from = time.monotonic()
            await eventually(lambda: h29 in lane.consumer.paused())
            assert time.monotonic() - given_up_from < 3
            # The sender's ring may find its record read already (a sweep came first).
            counted = rings.values
            assert counted.get(("fetched",), 0) + counted.get(("read",), 0) == 2
            assert counted.get(("refused",)) == 1 and ("elsewhere",) not in counted
    finally:
        stopping.set()
        await doorbell.stop()
        await lane.consumer.stop()


async def test_express_documents_are_routed_from_rings_and_without_them_by_the_sweep(
    settings: Settings,
) -> None:
    """A router on the doorbell routes a ringing sender's express documents, a sender that
    does not ring is found by the sweep, and rings of other buses' topics are left alone."""
    settings = settings.replace(express_sweep_ms=300)
    await ensure_topics(settings, [G22, H29])
    got: list[str] = []

    async def collect(receiver: Receiver) -> None:
        async for received in receiver:
            got.append(received.document.document_id)
            received.ack()

    async with (
        Router(settings=settings) as router,
        Receiver(agency=H29, settings=settings) as receiver,
        in_background(collect(receiver)),
    ):
        ringing = letter(number=1, priority=4)
        async with Sender(agency=G22, settings=settings) as sender:
            await sender.send(ringing)
        await eventually(lambda: ringing.document_id in got)
        silent = letter(number=2, priority=3)
        async with Sender(agency=G22, settings=settings.replace(express_sweep_ms=0)) as sender:
            await sender.send(silent)
        await eventually(lambda: silent.document_id in got, timeout_s=10)
        elsewhere = Ring("other.outbox.000.00.00.G22", EXPRESS_PARTITION, 0)
        await _ring(settings, (elsewhere.key, elsewhere.value))
        rings = router.metrics.doorbell_rings.values
        await eventually(lambda: rings[("elsewhere",)] == 1)
        # One ring, the ringing sender's (found read already if a sweep came first).
        assert rings.get(("fetched",), 0) + rings.get(("read",), 0) == 1
        assert sorted(got) == sorted([ringing.document_id, silent.document_id])

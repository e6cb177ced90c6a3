"""Tests for producers._sender: send returns once the broker holds the document."""

from __future__ import annotations

import dataclasses

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from docbus import (
    ClientStateError,
    InvalidDocumentError,
    Keystore,
    Settings,
    UnknownRecipientError,
)
from producers import Sender
from schemas import EXPRESS_PARTITION, HEADER_PROOF, HEADER_SIGNATURE, Codec, today_vn
from tests.helpers import G12, G22, H29, ensure_topics, letter, read_topic


async def outbox_is_empty(settings: Settings, topic: str) -> bool:
    """Whether ``topic`` holds no record (Tansu's end offsets are exact only for an empty topic)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(settings.partitions)]
        return sum((await consumer.end_offsets(parts)).values()) == 0
    finally:
        await consumer.stop()


async def test_send_returns_where_the_broker_holds_it(settings: Settings) -> None:
    """The receipt names the outbox, partition and offset of the stored document."""
    layout = await ensure_topics(settings, [G22, H29])
    doc = letter()
    async with Sender(agency=G22, settings=settings) as sender:
        receipt = await sender.send(doc)
    assert receipt.topic == layout.outbox(G22) and receipt.document_id == doc.document_id
    (record,) = await read_topic(settings, layout.outbox(G22), 1)
    assert (record.partition, record.offset) == (receipt.partition, receipt.offset)
    assert record.key == doc.document_id.encode()
    assert Codec().decode(record.value) == doc


async def test_express_documents_go_to_the_express_lane(settings: Settings) -> None:
    """Priority 3 and 4 land in partition 0 of the outbox; 0-2 and notices never do."""
    await ensure_topics(settings, [G22, H29])
    async with Sender(agency=G22, settings=settings) as sender:
        lanes = {
            priority: {
                (await sender.send(letter(number=10 * priority + n, priority=priority))).partition
                for n in range(8)
            }
            for priority in range(5)
        }
    assert lanes[3] == lanes[4] == {EXPRESS_PARTITION}
    assert all(EXPRESS_PARTITION not in lanes[p] for p in (0, 1, 2))


async def test_many_concurrent_sends_all_land(settings: Settings) -> None:
    """Five hundred concurrent sends each get a receipt, and all are in the outbox."""
    layout = await ensure_topics(settings, [G22, H29])
    docs = [letter(number=n) for n in range(500)]
    async with Sender(agency=G22, settings=settings) as sender:
        receipts = await sender.send_many(docs)
    assert [r.document_id for r in receipts] == [d.document_id for d in docs]
    records = await read_topic(settings, layout.outbox(G22), 500)
    assert sorted(r.key.decode() for r in records) == sorted(d.document_id for d in docs)


async def test_concurrent_sends_share_signatures_and_a_lone_send_signs_alone(
    settings: Settings,
) -> None:
    """Sends of one turn are signed under batch roots (128 records a root at most), each
    record checkable alone by its proof; a send on its own carries no proof."""
    layout = await ensure_topics(settings, [G22, H29])
    docs = [letter(number=n) for n in range(300)]
    async with Sender(agency=G22, settings=settings) as sender:
        await sender.send_many(docs)
        await sender.send(letter(number=999))
    records = await read_topic(settings, layout.outbox(G22), 301)
    ring = Keystore(settings.keys_root).keyring()
    signatures = set()
    for record in records:
        headers = dict(record.headers)
        ring.verify(record.value, record.headers, signer=G22, day=today_vn())
        if record.key == letter(number=999).document_id.encode():
            assert HEADER_PROOF not in headers
        else:
            assert HEADER_PROOF in headers
            signatures.add(headers[HEADER_SIGNATURE])
    assert len(signatures) == 3  # 128 + 128 + 44


async def test_invalid_documents_are_refused_before_sending(settings: Settings) -> None:
    """A bad document raises InvalidDocumentError naming the rule, and nothing is sent."""
    layout = await ensure_topics(settings, [G22, H29])
    async with Sender(agency=G22, settings=settings) as sender:
        with pytest.raises(InvalidDocumentError, match="priority"):
            await sender.send(dataclasses.replace(letter(), priority=5))
        with pytest.raises(InvalidDocumentError, match="more than once"):
            await sender.send(letter(recipients=(H29, H29)))
        with pytest.raises(InvalidDocumentError, match="not a unit of"):
            await sender.send(letter(sender=G12))
        with pytest.raises(UnknownRecipientError, match=r"000\.00\.00\.Z99"):
            await sender.send(letter(recipients=(H29, "000.00.00.Z99")))
    assert await outbox_is_empty(settings, layout.outbox(G22))


async def test_oversized_documents_are_refused(settings: Settings) -> None:
    """A document over the size limit is refused with advice to use a blob reference."""
    small = settings.replace(max_document_bytes=2048)
    await ensure_topics(small, [G22, H29])
    from schemas import Attachment

    content = b"x" * 4096
    big = dataclasses.replace(
        letter(),
        attachments=(Attachment.inline("a", "a.pdf", content),),
    )
    async with Sender(agency=G22, settings=small) as sender:
        with pytest.raises(InvalidDocumentError, match="blob reference"):
            await sender.send(big)


async def test_lifecycle(settings: Settings) -> None:
    """Sending before start or after stop is refused; stop is safe twice."""
    sender = Sender(agency=G22, settings=settings)
    with pytest.raises(ClientStateError):
        await sender.send(letter())
    await sender.start()
    await sender.stop()
    await sender.stop()
    with pytest.raises(ClientStateError):
        await sender.send(letter())


async def test_wait_for_acceptance_and_status_changes(settings: Settings) -> None:
    """send(wait_for=03) returns once every recipient accepted, following a merged province."""
    import asyncio
    import datetime as dt

    from consumers import Receiver
    from router import Router
    from schemas import StatusCode

    hung_yen, thai_binh = "000.00.00.H31", "000.00.00.H54"
    await ensure_topics(settings, [G22, H29, hung_yen, thai_binh])
    after_merger = dt.datetime(2025, 7, 2, 2, 0, tzinfo=dt.UTC)
    doc = letter(G22, (H29, thai_binh), sent_at=after_merger)

    async def accept_one(receiver: Receiver) -> None:
        received = await anext(receiver)
        await received.notify(StatusCode.ACCEPTED)

    async with (
        Router(settings=settings),
        Sender(agency=G22, settings=settings) as sender,
        Receiver(agency=H29, settings=settings) as h29,
        Receiver(agency=hung_yen, settings=settings) as hy,
    ):
        changes: list[str] = []

        async def watch() -> None:
            async for notice in sender.status_changes():
                changes.append(f"{notice.from_agency}:{notice.status_code}")

        watcher = asyncio.create_task(watch())
        clerks = [asyncio.create_task(accept_one(r)) for r in (h29, hy)]
        receipt = await sender.send(doc, wait_for=StatusCode.ACCEPTED, timeout=30)
        await asyncio.gather(*clerks)
        watcher.cancel()
    assert receipt.statuses == {H29: "03", hung_yen: "03"}
    # each recipient's 01 came in one record with its 03: both steps are seen, in order
    assert {f"{H29}:03", f"{hung_yen}:03", "docbus:90"} <= set(changes)
    for unit in (H29, hung_yen):
        assert changes.index(f"{unit}:01") < changes.index(f"{unit}:03")


async def test_wait_for_reports_a_rejection_and_a_timeout(settings: Settings) -> None:
    """A rejection raises DeliveryRejected naming who; silence raises DeliveryTimeout."""
    import asyncio

    from consumers import Receiver
    from docbus import DeliveryRejected, DeliveryTimeout
    from router import Router
    from schemas import StatusCode

    await ensure_topics(settings, [G22, H29, G12])

    async def reject_one(receiver: Receiver) -> None:
        received = await anext(receiver)
        await received.notify(StatusCode.REJECTED, "Sai thẩm quyền")

    async with (
        Router(settings=settings),
        Sender(agency=G22, settings=settings) as sender,
        Receiver(agency=H29, settings=settings) as h29,
    ):
        clerk = asyncio.create_task(reject_one(h29))
        with pytest.raises(DeliveryRejected, match=H29):
            await sender.send(
                letter(G22, (H29,), number=1), wait_for=StatusCode.ACCEPTED, timeout=30
            )
        await clerk
        with pytest.raises(DeliveryTimeout, match=G12):
            await sender.send(
                letter(G22, (G12,), number=2), wait_for=StatusCode.ACCEPTED, timeout=1
            )
        with pytest.raises(ValueError, match="groups"):
            await sender.send(letter(G22, ("group:all",), number=3), wait_for=StatusCode.ACCEPTED)

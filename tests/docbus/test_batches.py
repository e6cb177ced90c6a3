"""Tests for docbus._batches: records sent as one batch per partition, on a real broker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from docbus import (
    InvalidNoticeError,
    Keystore,
    OutboxWriter,
    PartitionBatches,
    Settings,
    TrustedKeys,
    create_missing_topics,
    make_producer,
)
from schemas import EXPRESS_PARTITION, Codec, StatusCode, StatusNotice, bulk_partition
from tests.helpers import G22, H29, ensure_topics, letter, read_all, read_topic


async def test_batches_place_keys_like_send_keep_order_and_carry_headers(
    settings: Settings,
) -> None:
    """Keyed records land where ``send()`` would put them, in order within a partition,
    with their headers; an explicit partition is kept; a full batch leaves at once and
    the record that did not fit starts the next one (which takes a record of any size)."""
    topics = [f"{settings.topic_prefix}.batched-a", f"{settings.topic_prefix}.batched-b"]
    await create_missing_topics(settings, topics)
    producer = make_producer(settings, max_batch_size=16 * 1024)
    await producer.start()
    try:
        batches = PartitionBatches(producer)
        sent = []
        for n in range(300):
            topic, key = topics[n % 2], f"doc-{n % 7}".encode()
            value = (f"{n}:" + "x" * (4000 if n % 50 == 0 else 10)).encode()
            await batches.add(topic, value, key=key, headers=[("n", str(n).encode())])
            sent.append((topic, key, value))
        await batches.add(topics[0], b"express", key=b"doc-1", partition=EXPRESS_PARTITION)
        assert len(batches) > 0
        acks = await batches.flush()
        assert len(batches) == 0 and await batches.flush() == []
        await asyncio.gather(*acks)
    finally:
        await producer.stop()
    for topic in topics:
        expected = [(k, v) for t, k, v in sent if t == topic]
        records = await read_topic(settings, topic, len(expected) + (topic == topics[0]))
        for record in records:
            if record.value == b"express":
                assert record.partition == EXPRESS_PARTITION
                continue
            assert record.partition == bulk_partition(record.key, settings.partitions)
            assert dict(record.headers)["n"] == record.value.split(b":")[0]
        for key in {k for k, _ in expected}:  # one key's records in the order they were added
            ordered = sorted(records, key=lambda r: r.offset)
            got = [r.value for r in ordered if r.key == key and r.value != b"express"]
            assert got == [v for k, v in expected if k == key]


async def test_a_receivers_notices_go_as_one_batch_each_signed(settings: Settings) -> None:
    """``write_notices`` checks every notice before anything is sent, then sends them
    signed, keyed by document id, each where ``write_notice`` would put it."""
    layout = await ensure_topics(settings, [G22, H29])
    async with _h29_writer(settings) as writer:
        documents = [letter(number=n) for n in range(5)]
        notices = [
            StatusNotice.about(d, from_agency=H29, to_agency=G22, status_code=StatusCode.ARRIVED)
            for d in documents
        ]
        foreign = StatusNotice.about(
            documents[0], from_agency=G22, to_agency=H29, status_code=StatusCode.ARRIVED
        )
        with pytest.raises(InvalidNoticeError, match="not a unit of"):
            await writer.write_notices([*notices[:2], foreign])
        await writer.write_notices(notices)
    records = await read_topic(settings, layout.outbox(H29), 5)
    keys = TrustedKeys(Keystore(settings.keys_root))
    assert sorted(r.key for r in records) == sorted(n.document_id.encode() for n in notices)
    for record in records:
        notice = Codec().decode(record.value)
        keys.verify(record.value, record.headers, notice, timestamp_ms=record.timestamp)
        assert record.partition == bulk_partition(record.key, settings.partitions)


async def test_one_deliverys_notices_go_as_one_record(settings: Settings) -> None:
    """01 and 03 of one delivery, given apart among others', leave as one record (in the
    order given); each notice's receipt names the record that carries it."""
    layout = await ensure_topics(settings, [G22, H29])
    async with _h29_writer(settings) as writer:
        first, second = letter(number=1), letter(number=2)

        def notice(document, code: StatusCode) -> StatusNotice:  # type: ignore[no-untyped-def]
            return StatusNotice.about(document, from_agency=H29, to_agency=G22, status_code=code)

        given = [
            notice(first, StatusCode.ARRIVED),
            notice(second, StatusCode.ARRIVED),
            notice(first, StatusCode.ACCEPTED),
        ]
        receipts = await writer.write_notices(given)
    assert receipts[0] == receipts[2] != receipts[1]
    records = await read_all(settings, layout.outbox(H29), 2, quiet_s=1)
    assert len(records) == 2
    by_document = {r.key.decode(): Codec().decode(r.value).steps() for r in records}
    assert by_document[first.document_id] == (given[0], given[2])
    assert by_document[second.document_id] == (given[1],)


@contextlib.asynccontextmanager
async def _h29_writer(settings: Settings) -> AsyncIterator[OutboxWriter]:
    """H29's outbox writer on a producer of its own, stopped afterwards."""
    producer = make_producer(settings)
    await producer.start()
    try:
        yield OutboxWriter(
            agency=H29,
            settings=settings,
            producer=producer,
            codec=Codec(),
            signer=Keystore(settings.keys_root).signer(H29),
        )
    finally:
        await producer.stop()

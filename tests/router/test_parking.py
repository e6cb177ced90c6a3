"""A notice that reaches the router before its document is held, not dead-lettered."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

from aiokafka import TopicPartition

from docbus import Settings
from router import Router
from router._parking import Parking
from router._revocations import Revocations
from router.tracking import Tracker, open_store
from schemas import HEADER_RECIPIENT, Codec, Document, DocumentEnvelope, StatusCode, StatusNotice
from tests.helpers import G22, H29, ensure_topics, letter, produce_raw, read_topic


def letter_and_answers() -> tuple[Document, list[StatusNotice]]:
    """A letter from G22 to H29, and H29's 01 and 03 about it."""
    doc = letter(G22, (H29,))
    return doc, [
        StatusNotice.about(doc, from_agency=H29, to_agency=G22, status_code=code)
        for code in (StatusCode.ARRIVED, StatusCode.ACCEPTED)
    ]


async def test_a_notice_before_its_document_waits_for_it(settings: Settings) -> None:
    """H29's 01 and 03 are in its outbox before G22's document is: both are parked, then
    routed in their order once the document is; nothing is dead-lettered."""
    layout = await ensure_topics(settings, [G22, H29])
    codec = Codec()
    doc, notices = letter_and_answers()
    key = doc.document_id.encode()
    await produce_raw(settings, layout.outbox(H29), [codec.encode(n) for n in notices], key=key)
    async with Router(settings=settings, unknown_notice_grace_s=30) as router:
        await read_topic(settings, layout.outbox(H29), 2)
        await produce_raw(settings, layout.outbox(G22), [codec.encode(doc)], key=key)
        inbox = await read_topic(settings, layout.inbox(G22), 2)
        delivered = await read_topic(settings, layout.inbox(H29), 1)
        assert router.stats.dead_lettered == 0
        assert router.stats.notices_routed == 2
    assert [codec.decode(r.value).status_code for r in inbox] == ["01", "03"]
    assert dict(delivered[0].headers)[HEADER_RECIPIENT] == H29.encode()


async def test_a_notice_about_no_document_is_dead_lettered_after_the_grace(
    settings: Settings,
) -> None:
    """Nobody ever sends the document: after the grace period the notice is a dead letter."""
    layout = await ensure_topics(settings, [G22, H29])
    doc = letter(G22, (H29,))
    notice = StatusNotice.about(doc, from_agency=H29, to_agency=G22, status_code="01")
    await produce_raw(settings, layout.outbox(H29), [Codec().encode(notice)])
    async with Router(settings=settings, unknown_notice_grace_s=1.0) as router:
        (dead,) = await read_topic(settings, layout.deadletter, 1)
        assert router.stats.dead_letters == {"unknown_document": 1}
    assert dict(dead.headers)["docbus-error-class"] == b"unknown_document"


def test_parking_holds_later_records_of_a_parked_document_until_it_is_taken() -> None:
    """Records about a parked document wait behind it on its partition only; once the
    parked records are taken (or the partition revoked) nothing is held any more."""
    parking = Parking(grace_s=30, retry_every_s=0.2)
    mine, other = TopicPartition("outbox", 1), TopicPartition("outbox", 2)
    parking.park(mine, SimpleNamespace(key=b"doc-1", offset=7), deadline=100.0)
    parking.park(mine, SimpleNamespace(key=b"doc-1", offset=9), deadline=100.0)
    assert parking.holds(mine, b"doc-1")
    assert not parking.holds(mine, b"doc-2") and not parking.holds(other, b"doc-1")
    assert parking.first_offset(mine) == 7 and len(parking) == 2
    taken = list(parking.take(0.0, "bulk", lambda tp: tp == mine))
    assert [p.record.offset for p in taken] == [7, 9]
    assert not parking.holds(mine, b"doc-1") and len(parking) == 0
    parking.park(mine, SimpleNamespace(key=b"doc-1", offset=11), deadline=100.0)
    parking.drop({mine})
    assert not parking.holds(mine, b"doc-1") and parking.first_offset(mine) is None


async def test_a_partition_revoked_mid_batch_is_neither_routed_further_nor_committed(
    settings: Settings,
) -> None:
    """aiokafka runs a rebalance's revoke callback at any await of the routing task.

    H29's 01 is parked (G22's document not known yet); at the next yield another router's
    tracking row for the document lands and a rebalance revokes the partition, which
    forgets the parked 01. The batch must stop there: routing its 03 would dead-letter it
    as "03 before 01", and committing the partition would pass the 01 (both lost, as
    once in the two-router failover test), and a batch fetched before the revoke must
    not commit it. Afterwards the partition is read again and both notices go to G22 in
    order."""
    layout = await ensure_topics(settings, [G22, H29])
    codec = Codec()
    doc, notices = letter_and_answers()
    async with Router(settings=settings, unknown_notice_grace_s=30) as router:
        router.pause_routing()
        await produce_raw(
            settings,
            layout.outbox(H29),
            [codec.encode(n) for n in notices],
            key=doc.document_id.encode(),
        )
        records = await read_topic(settings, layout.outbox(H29), 2)
        tp = TopicPartition(records[0].topic, records[0].partition)

        def another_router_routed_it_then_a_rebalance() -> None:
            other = Tracker(open_store(dsn=None, state_dir=settings.home))
            other.on_document(DocumentEnvelope.of(doc), [(H29, H29)])
            other.flush()
            other.store.close()
            router._forget({tp})  # what the lane's rebalance listener calls

        fetched = router._revocations.mark()
        asyncio.get_running_loop().call_soon(another_router_routed_it_then_a_rebalance)
        bulk = next(lane for lane in router._lanes if not lane.express)
        routed, acks, offsets = await router._route_batch(bulk, {tp: records}, 2, fetched)
        assert routed == [] and offsets == {}
        assert router.stats.dead_lettered == 0
        # nor does a batch fetched before the revoke commit it when it settles
        await router._settle(bulk.consumer, acks, {tp: 2}, None, [], time.time(), fetched)
        assert await bulk.consumer.committed(tp) is None
        router.resume_routing()
        inbox = await read_topic(settings, layout.inbox(G22), 2)
        assert router.stats.dead_lettered == 0
    assert [codec.decode(r.value).status_code for r in inbox] == ["01", "03"]


def test_revocations_tell_a_batch_which_of_its_partitions_were_taken_since_it_was_fetched() -> None:
    """Only a revoke after the mark counts, and only for the partitions it names."""
    revocations = Revocations()
    one, two = TopicPartition("outbox", 1), TopicPartition("outbox", 2)
    revocations.revoke({one})
    fetched = revocations.mark()
    assert not revocations.revoked_since(one, fetched)
    revocations.revoke({two})
    assert revocations.revoked_since(two, fetched) and not revocations.revoked_since(one, fetched)
    assert not revocations.revoked_since(two, revocations.mark())

"""Tests for consumers._inboxes: many agencies' receivers read through two shared consumers."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import TopicPartition

from consumers import Receiver, SharedInboxes
from docbus import ClientStateError, Settings
from producers import Sender
from router import Router
from schemas import EXPRESS_PARTITION, StatusCode, TopicLayout
from tests.helpers import G12, G22, H29, H41, deliver, ensure_topics, eventually, letter, take

AGENCIES = (H29, H41, G12)


def _shared(settings: Settings, *, max_waiting: int = 2000) -> SharedInboxes:
    layout = TopicLayout(settings.topic_prefix)
    return SharedInboxes(
        settings,
        [layout.inbox(code) for code in AGENCIES],
        group_id=settings.group_id("receivers.test"),
        max_waiting=max_waiting,
    )


async def test_each_receiver_gets_its_own_inbox_through_two_consumers(settings: Settings) -> None:
    """Three agencies' receivers on one SharedInboxes: two consumers in all; each receiver
    is handed its own documents, express first; what they handled is committed, so the
    next run of the process hands over only what was left unhandled."""
    await ensure_topics(settings, AGENCIES)
    sent = {code: [letter(recipients=(code,), number=n) for n in range(1, 4)] for code in AGENCIES}
    urgent = letter(recipients=(H29,), number=9, priority=4)
    for code, documents in sent.items():
        await deliver(settings, documents, recipient=code)
    await deliver(settings, [urgent], recipient=H29)
    async with _shared(settings) as inboxes:
        assert inboxes.consumers == 2
        receivers = [Receiver(agency=code, settings=settings, inboxes=inboxes) for code in AGENCIES]
        for receiver in receivers:
            await receiver.start()
        got = {r.agency: await take(r, len(sent[r.agency]) + (r.agency == H29)) for r in receivers}
        for code, received in got.items():
            expected = sent[code] + ([urgent] if code == H29 else [])
            assert sorted(r.document.document_id for r in received) == sorted(
                d.document_id for d in expected
            )
            assert all(r.recipient == code for r in received)
        assert got[H29][0].document == urgent  # waiting with the others, handed over first
        for received in got[H29] + got[H41]:
            await received.notify(StatusCode.ACCEPTED)
        for receiver in receivers:
            await receiver.stop()
    async with _shared(settings) as inboxes:
        receivers = [Receiver(agency=code, settings=settings, inboxes=inboxes) for code in AGENCIES]
        for receiver in receivers:
            await receiver.start()
        (g12, h29, h41) = sorted(receivers, key=lambda r: r.agency)
        (left,) = await take(g12, 1)  # asking for the next handled the first two
        assert left.document == got[G12][-1].document
        for done in (g12, h29, h41):
            try:
                stray = await take(done, 1, timeout_s=2)
            except TimeoutError:
                stray = []
            assert stray == []
        for receiver in receivers:
            await receiver.stop()


async def test_an_inbox_nobody_reads_is_paused_and_holds_no_one_back(settings: Settings) -> None:
    """An agency whose receiver does not read has its partitions paused once
    ``max_waiting`` records wait; another agency's documents still flow, and the paused
    inbox is read again, whole, once its receiver takes."""
    await ensure_topics(settings, AGENCIES)
    backlog = [letter(recipients=(H41,), number=n) for n in range(1, 41)]
    await deliver(settings, backlog, recipient=H41)
    async with _shared(settings, max_waiting=10) as inboxes:
        idle = Receiver(agency=H41, settings=settings, inboxes=inboxes, max_batch_records=5)
        busy = Receiver(agency=H29, settings=settings, inboxes=inboxes)
        async with idle, busy:
            await asyncio.sleep(2)  # the lanes fetch the backlog until the inbox is full
            paused = inboxes.paused()
            assert paused and {tp.topic for tp in paused} == {
                TopicLayout(settings.topic_prefix).inbox(H41)
            }
            fresh = letter(recipients=(H29,), number=77)
            await deliver(settings, [fresh], recipient=H29)
            (got,) = await take(busy, 1)
            assert got.document == fresh
            every = await take(idle, len(backlog))
            assert sorted(r.document.document_id for r in every) == sorted(
                d.document_id for d in backlog
            )


async def test_a_receiver_of_an_inbox_not_shared_is_refused_by_name(settings: Settings) -> None:
    """A receiver given shared inboxes that do not hold its agency's inbox fails to start,
    naming the inbox; the receiver is left closed."""
    await ensure_topics(settings, (*AGENCIES, G22))
    async with _shared(settings) as inboxes:
        stranger = Receiver(agency=G22, settings=settings, inboxes=inboxes)
        with pytest.raises(ValueError, match=r"inbox\.000\.00\.00\.G22 is not one of these"):
            await stranger.start()
        with pytest.raises(ClientStateError):
            await anext(stranger)


async def test_express_deliveries_are_read_on_the_routers_rings_or_by_the_sweep(
    settings: Settings,
) -> None:
    """On the embedded broker the shared express lane follows the inbox doorbell: a
    delivery the router rang for is read at once and one nobody rang for (put straight into
    the inbox) by the next sweep; meanwhile the express partitions stay paused."""
    settings = settings.replace(express_sweep_ms=500)
    await ensure_topics(settings, (*AGENCIES, G22))
    layout = TopicLayout(settings.topic_prefix)
    express = {TopicPartition(layout.inbox(code), EXPRESS_PARTITION) for code in AGENCIES}
    async with (
        Router(settings=settings),
        _shared(settings) as inboxes,
        Receiver(agency=H29, settings=settings, inboxes=inboxes) as receiver,
    ):
        await eventually(lambda: express.isdisjoint(inboxes.fetching()))
        routed = letter(recipients=(H29,), number=1, priority=4)
        async with Sender(agency=G22, settings=settings) as sender:
            await sender.send(routed)
        (got,) = await take(receiver, 1, timeout_s=10)
        assert got.document == routed
        assert (
            inboxes.rings.values.get(("fetched",), 0) + inboxes.rings.values.get(("read",), 0) == 1
        )
        unrung = letter(recipients=(H29,), number=2, priority=3)
        await deliver(settings, [unrung], recipient=H29)
        (got,) = await take(receiver, 1, timeout_s=10)
        assert got.document == unrung
        await eventually(lambda: express.isdisjoint(inboxes.fetching()))
        assert inboxes.paused() == set()  # none held back for a slow receiver

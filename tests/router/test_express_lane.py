"""The express lane: express documents overtake a bulk backlog, in the router and the receiver."""

from __future__ import annotations

import pytest

from consumers import Receiver
from docbus import Settings, make_lanes, produce_in_batches
from producers import Sender
from router import Router, producer_linger_ms
from schemas import Codec, TopicLayout
from tests.helpers import G22, H29, ensure_topics, eventually, in_background, letter

BULK = 6000
EXPRESS = 20


async def _preload_bulk(settings: Settings, layout: TopicLayout) -> None:
    """``BULK`` normal-priority letters G22 -> H29 waiting in G22's outbox."""
    codec = Codec()
    await produce_in_batches(
        settings,
        (
            (layout.outbox(G22), doc.document_id.encode(), codec.encode(doc))
            for doc in (letter(number=n) for n in range(BULK))
        ),
    )


async def _collect(receiver: Receiver, order: list[tuple[str, int]]) -> None:
    """Note each document the application gets, in order, and hand it back as handled."""
    async for received in receiver:
        order.append((received.document.document_id, received.document.priority))
        received.ack()


async def test_express_documents_sent_after_a_backlog_are_delivered_first(
    settings: Settings,
) -> None:
    """Express documents sent after 6,000 bulk ones reach the application ahead of them."""
    layout = await ensure_topics(settings, [G22, H29])
    await _preload_bulk(settings, layout)
    express = [letter(number=BULK + n, priority=3 + n % 2) for n in range(EXPRESS)]
    async with Sender(agency=G22, settings=settings) as sender:
        await sender.send_many(express)
    order: list[tuple[str, int]] = []
    async with (
        Router(settings=settings),
        Receiver(agency=H29, settings=settings) as receiver,
        in_background(_collect(receiver, order)),
    ):
        await eventually(lambda: len(order) >= BULK + EXPRESS, timeout_s=90)
    ids = {d.document_id for d in express}
    positions = [at for at, (document_id, _) in enumerate(order) if document_id in ids]
    # Routed first; a bulk record produced in the same request may still be read before them.
    assert len(positions) == EXPRESS and max(positions) < 300, positions
    assert len({document_id for document_id, _ in order}) == BULK + EXPRESS


async def test_express_documents_overtake_bulk_while_the_router_is_busy(
    settings: Settings,
) -> None:
    """Sent while the router works through a 6,000-document backlog, express documents are
    delivered within a router chunk and a receiver batch of being sent, not after the backlog."""
    layout = await ensure_topics(settings, [G22, H29])
    await _preload_bulk(settings, layout)
    order: list[tuple[str, int]] = []
    async with (
        Router(settings=settings),
        Receiver(agency=H29, settings=settings) as receiver,
        Sender(agency=G22, settings=settings) as sender,
        in_background(_collect(receiver, order)),
    ):
        await eventually(lambda: len(order) > 0, timeout_s=60, every_s=0.01)
        express = [letter(number=BULK + n, priority=3 + n % 2) for n in range(EXPRESS)]
        await sender.send_many(express)
        delivered_before = len(order)
        await eventually(lambda: len(order) >= BULK + EXPRESS, timeout_s=90)
    assert BULK - delivered_before > BULK // 2, "the backlog was gone before express was sent"
    ids = {d.document_id for d in express}
    positions = [at for at, (document_id, _) in enumerate(order) if document_id in ids]
    assert len(positions) == EXPRESS
    # At most a receiver batch (1,000) and a router chunk (250) ahead of them, with slack.
    assert max(positions) - delivered_before < 2000, (delivered_before, positions)


def test_a_router_refuses_an_unknown_or_empty_choice_of_lanes(settings: Settings) -> None:
    """An unknown or empty choice of lanes is refused when the router is built (routing
    one lane alone: tests/docbus/test_router_process.py)."""
    with pytest.raises(ValueError, match="one or both of express, bulk"):
        Router(settings=settings, lanes=["fast"])
    with pytest.raises(ValueError, match="one or both"):
        Router(settings=settings, lanes=[])


@pytest.mark.parametrize(
    ("bulk_fetch_min_bytes", "embedded", "expected"),
    [(None, False, 1024 * 1024), (None, True, 1), (65536, True, 65536)],
)
async def test_only_the_bulk_lane_waits_for_its_fetches_to_gather(
    bulk_fetch_min_bytes: int | None, embedded: bool, expected: int
) -> None:
    """The bulk lane asks the broker for ``bulk_fetch_min_bytes`` (a megabyte on a cluster,
    1 byte on the embedded broker unless set) or ``bulk_gather_ms``; the express lane's
    fetches keep the ordinary wait and are answered as soon as a record is there."""
    settings = Settings(
        fetch_max_wait_ms=50, bulk_gather_ms=700, bulk_fetch_min_bytes=bulk_fetch_min_bytes
    )
    address = "127.0.0.1:9"
    settings = (
        settings.for_embedded(address) if embedded else settings.replace(bootstrap_servers=address)
    )
    express, bulk = make_lanes(settings, "docbus-router")
    try:
        assert (express.name, bulk.name) == ("express", "bulk")
        assert (bulk.consumer._fetch_min_bytes, bulk.consumer._fetch_max_wait_ms) == (
            expected,
            700,
        )
        assert (express.consumer._fetch_min_bytes, express.consumer._fetch_max_wait_ms) == (1, 50)
    finally:
        for lane in (express, bulk):
            await lane.consumer.stop()


def test_a_bulk_only_router_lingers_as_long_as_the_lane_gathers() -> None:
    """Only a producer no express record passes through lingers: a router of the bulk
    lane alone; a router with the express lane keeps the ordinary linger."""
    settings = Settings(linger_ms=5, bulk_gather_ms=250)
    assert producer_linger_ms(settings, ["bulk"]) == 250
    assert producer_linger_ms(settings, ["express"]) == 5
    assert producer_linger_ms(settings, ["express", "bulk"]) == 5

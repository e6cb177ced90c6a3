"""Tests for router.tracking._rebuild: the store rebuilt from the topics equals the live one."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from consumers import Receiver
from docbus import Settings
from producers import Sender
from router import Router
from router.tracking import Tracker, open_store, rebuild_tracking
from schemas import StatusCode
from tests.helpers import G12, G22, H29, H41, NoticeCollector, drain, ensure_topics, letter, take


def snapshot(tracker: Tracker, document_ids: list[str]) -> dict:  # type: ignore[type-arg]
    result = {}
    for document_id in document_ids:
        doc = tracker.store.document(document_id)
        result[document_id] = (
            doc,
            [
                (d.recipient, d.agency, d.status, d.recall, d.deadline, d.history)
                for d in tracker.store.deliveries(document_id)
            ],
        )
    return result


async def test_rebuild_gives_the_live_states(settings: Settings, tmp_path: Path) -> None:
    """After a lifecycle with a recall and a rejection, a rebuild from the inboxes matches."""
    agencies = [G22, H29, G12, H41]
    await ensure_topics(settings, agencies)
    first = letter(G22, (H29, G12), number=1)
    second = letter(G22, (H41,), number=2)
    told = NoticeCollector()
    async with contextlib.AsyncExitStack() as stack:
        router = await stack.enter_async_context(Router(settings=settings))
        sender = await stack.enter_async_context(Sender(agency=G22, settings=settings))
        g22 = await stack.enter_async_context(
            Receiver(agency=G22, settings=settings, on_notice=told)
        )
        drainer = asyncio.create_task(drain(g22))
        stack.callback(drainer.cancel)
        h29 = await stack.enter_async_context(Receiver(agency=H29, settings=settings))
        g12 = await stack.enter_async_context(Receiver(agency=G12, settings=settings))
        h41 = await stack.enter_async_context(Receiver(agency=H41, settings=settings))
        await sender.send(first)
        await sender.send(second)
        (at_h29,) = await take(h29, 1)
        (at_g12,) = await take(g12, 1)
        (at_h41,) = await take(h41, 1)
        await at_h29.notify(StatusCode.ACCEPTED)
        await at_g12.notify(StatusCode.ACCEPTED)
        await at_g12.notify(StatusCode.DONE)
        await at_h41.notify(StatusCode.REJECTED, "Không đúng thẩm quyền")
        await told.wait_for(3 + 4)  # three arrivals, four answers
        await sender.recall(first, H29, "Gửi nhầm")
        collector = NoticeCollector()
        h29_notices = Receiver(
            agency=H29, settings=settings, on_notice=collector, group_id="h29-recall"
        )
        await stack.enter_async_context(h29_notices)
        watcher = asyncio.create_task(drain(h29_notices))
        stack.callback(watcher.cancel)
        await collector.wait_for(1)
        await at_h29.notify(StatusCode.RECALL_AGREED)
        await told.wait_for(3 + 4 + 1)
        assert router.tracker is not None
        # The router writes a batch's tracking beside its acks, not before them: G22 may
        # hold the 15 a moment before the store does.
        async with asyncio.timeout(20):
            while live := snapshot(router.tracker, [first.document_id, second.document_id]):
                if all(d[3] != StatusCode.RECALL_REQUESTED for d in live[first.document_id][1]):
                    break
                await asyncio.sleep(0.05)
    states = {r: (s, rc) for r, _, s, rc, _, _ in live[first.document_id][1]}
    assert states == {H29: ("03", "15"), G12: ("06", None)}
    assert live[second.document_id][1][0][2] == "02"

    rebuilt = Tracker(open_store(dsn=None, state_dir=tmp_path / "rebuilt"))
    report = await rebuild_tracking(settings, rebuilt, agencies)
    assert report.documents == 2 and report.deliveries == 3 and report.notices_skipped == 0
    assert snapshot(rebuilt, [first.document_id, second.document_id]) == live
    rebuilt.store.close()

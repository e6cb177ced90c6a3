"""Tests for shell.cli._track_cmd: `docbus track` reads what the router tracked."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

from consumers import Receiver
from docbus import Settings
from producers import Sender
from router import Router
from schemas import StatusCode, TopicLayout
from tests.helpers import G12, G22, H29, NoticeCollector, ensure_topics, letter, read_topic, take
from tests.shell.test_cli import docbus


async def test_track_a_document_and_list_overdue(settings: Settings) -> None:
    """`track ID --json` shows each recipient's state, history and deadline; `--overdue` the late ones."""
    await ensure_topics(settings, [G22, H29, G12])
    last_week = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    doc = letter(G22, (H29, G12), sent_at=last_week)
    told = NoticeCollector()
    async with (
        Router(settings=settings),
        Sender(agency=G22, settings=settings) as sender,
        Receiver(agency=H29, settings=settings) as h29,
        Receiver(agency=G12, settings=settings, group_id="g12-silent", auto_arrival=False) as g12,
        Receiver(agency=G22, settings=settings, on_notice=told) as g22,
    ):
        await sender.send(doc)
        (received,) = await take(h29, 1)
        await received.notify(StatusCode.ACCEPTED)
        await take(g12, 1)  # G12's system takes it but never answers
        drainer = asyncio.create_task(take(g22, 1, timeout_s=30))
        await told.wait_for(2)
        drainer.cancel()
        shown = await docbus(settings, "track", doc.document_id, "--json")
        overdue = await docbus(settings, "track", "--overdue", "--json")
        overdue_h29 = await docbus(settings, "track", "--overdue", "--agency", H29, "--json")
    assert shown.returncode == 0, shown.stderr
    tracked = json.loads(shown.stdout)
    assert tracked["document_id"] == doc.document_id
    by_code = {r["code"]: r for r in tracked["recipients"]}
    assert by_code[H29]["status"] == "03" and [h["code"] for h in by_code[H29]["history"]] == [
        "01",
        "03",
    ]
    assert by_code[H29]["overdue"] is False
    assert by_code[G12]["status"] is None and by_code[G12]["overdue"] is True
    assert by_code[G12]["deadline"] < dt.datetime.now(dt.UTC).isoformat()
    late = json.loads(overdue.stdout)
    assert [(d["document_id"], d["code"]) for d in late["deliveries"]] == [(doc.document_id, G12)]
    assert json.loads(overdue_h29.stdout)["overdue"] == 0


async def test_track_rebuild_and_unknown(settings: Settings) -> None:
    """`--rebuild` refills the store from the topics; an unknown document is a clear error."""
    await ensure_topics(settings, [G22, H29])
    doc = letter(G22, (H29,))
    async with Router(settings=settings), Sender(agency=G22, settings=settings) as sender:
        await sender.send(doc)
        async with Receiver(agency=H29, settings=settings) as h29:
            await take(h29, 1)
        await read_topic(
            settings, TopicLayout(settings.topic_prefix).inbox(G22), 1
        )  # the 01, routed
    rebuilt = await docbus(settings, "track", "--rebuild", doc.document_id, "--json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout)["recipients"][0]["status"] == "01"
    missing = await docbus(settings, "track", "000.00.00.G22,2020/01/01,1/X-Y")
    assert missing.returncode != 0 and "no document" in missing.stderr

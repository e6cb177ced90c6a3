"""Tests for router._service: the router on the embedded broker, end to end."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import multiprocessing
import signal
import subprocess
import sys

import pytest

from consumers import Receiver
from docbus import ClientMetrics, ConfigurationError, Settings
from producers import Sender
from router import Router
from router.tracking import Tracker, open_store
from schemas import BUS_AGENCY, HEADER_ERROR, HEADER_ERROR_CLASS, VN_TIME, StatusCode
from tests.helpers import (
    G12,
    G22,
    H29,
    H41,
    NoticeCollector,
    cli_env,
    drain,
    ensure_topics,
    in_background,
    letter,
    produce_raw,
    read_topic,
    registry_samples,
    sample,
    scrape,
    take,
)


async def test_unicast_and_multicast_with_status_back(settings: Settings) -> None:
    """Documents reach every recipient once, and arrival and acceptance come back to the sender."""
    await ensure_topics(settings, [G22, H29, G12, H41])
    notices = NoticeCollector()
    async with (
        Router(settings=settings),
        Sender(agency=G22, settings=settings) as sender,
        Receiver(agency=G22, settings=settings, on_notice=notices) as g22,
        Receiver(agency=H29, settings=settings) as h29,
        Receiver(agency=G12, settings=settings) as g12,
        Receiver(agency=H41, settings=settings) as h41,
        in_background(drain(g22)),
    ):
        unicast = letter(G22, (H29,), number=1)
        multicast = letter(G22, (H29, G12, "000.00.07.H41"), number=2)
        await sender.send(unicast)
        await sender.send(multicast)
        got_h29 = await take(h29, 2)
        (got_g12,) = await take(g12, 1)
        (got_h41,) = await take(h41, 1)
        assert {d.document.document_id for d in got_h29} == {
            unicast.document_id,
            multicast.document_id,
        }
        assert got_g12.document == multicast and got_h41.recipient == "000.00.07.H41"
        for received in [*got_h29, got_g12, got_h41]:
            await received.notify(StatusCode.ACCEPTED, "Đã vào sổ")
        arrived = await notices.wait_for(8)
    seen = {(n.document_id, n.from_agency, n.status_code) for n in arrived}
    for doc_id, unit in [
        (unicast.document_id, H29),
        (multicast.document_id, H29),
        (multicast.document_id, G12),
        (multicast.document_id, "000.00.07.H41"),
    ]:
        assert (doc_id, unit, "01") in seen and (doc_id, unit, "03") in seen


async def test_a_deliverys_01_and_03_cross_as_one_record_and_reach_the_sender_apart(
    settings: Settings,
) -> None:
    """H29 answers at once: its 01 and 03 leave in one record, the router forwards that
    record as it came, and G22's on_notice sees 01 then 03, each counted."""
    layout = await ensure_topics(settings, [G22, H29])
    notices = NoticeCollector()
    metrics = ClientMetrics()
    async with (
        Router(settings=settings),
        Sender(agency=G22, settings=settings) as sender,
        Receiver(agency=G22, settings=settings, on_notice=notices, metrics=metrics) as g22,
        Receiver(agency=H29, settings=settings) as h29,
        in_background(drain(g22)),
    ):
        doc = letter(G22, (H29,))
        await sender.send(doc)
        (received,) = await take(h29, 1)
        await received.notify(StatusCode.ACCEPTED, "Đã vào sổ")
        got = await notices.wait_for(2)
    assert [(n.document_id, n.from_agency, n.status_code) for n in got] == [
        (doc.document_id, H29, "01"),
        (doc.document_id, H29, "03"),
    ]
    assert got[1].description == "Đã vào sổ"
    (sent,) = await read_topic(settings, layout.outbox(H29), 1)
    (forwarded,) = await read_topic(settings, layout.inbox(G22), 1)
    assert forwarded.value == sent.value
    samples = registry_samples(metrics.registry)
    for code in ("01", "03"):
        counted = sample(
            samples, "docbus_client_notices_received_total", agency=G22, status_code=code
        )
        assert counted == 1


async def test_bad_record_is_dead_lettered_and_routing_goes_on(settings: Settings) -> None:
    """Garbage in an outbox lands in the dead-letter topic with its reason; the next document is delivered."""
    layout = await ensure_topics(settings, [G22, H29])
    rejections = NoticeCollector()
    async with (
        Router(settings=settings) as router,
        Sender(agency=G22, settings=settings) as sender,
        Receiver(agency=G22, settings=settings, on_notice=rejections) as g22,
        Receiver(agency=H29, settings=settings) as h29,
        in_background(drain(g22)),
    ):
        await produce_raw(settings, layout.outbox(G22), [b"not avro at all"], key=b"broken-1")
        good = letter(G22, (H29,), number=3)
        await sender.send(good)
        (received,) = await take(h29, 1)
        assert received.document == good
        (rejection,) = await rejections.wait_for(1)
        (dead,) = await read_topic(settings, layout.deadletter, 1)
        assert router.stats.dead_letters["bad_marker"] == 1
    headers = dict(dead.headers)
    assert headers[HEADER_ERROR_CLASS] == b"bad_marker"
    assert b"marker" in headers[HEADER_ERROR]
    assert dead.value == b"not avro at all" and dead.key == b"broken-1"
    assert rejection.from_agency == BUS_AGENCY and rejection.status_code == "02"
    assert rejection.document_id == "broken-1"


async def test_committed_records_are_not_routed_again(settings: Settings) -> None:
    """After a clean stop the next router in the group starts after what was routed."""
    layout = await ensure_topics(settings, [G22, H29])
    async with Sender(agency=G22, settings=settings) as sender:
        async with Router(settings=settings) as router:
            await sender.send_many([letter(G22, (H29,), number=n) for n in range(1, 11)])
            await read_topic(settings, layout.inbox(H29), 10)
        assert router.stats.documents_routed == 10
        async with Router(settings=settings) as second:
            await sender.send(letter(G22, (H29,), number=11))
            records = await read_topic(settings, layout.inbox(H29), 11)
            assert second.stats.documents_routed == 1
    assert len(records) == 11


async def test_a_router_whose_tracking_store_cannot_open_fails_to_start_and_leaves_nothing(
    settings: Settings,
) -> None:
    """The tracking writer starts while the consumers join their group: a store that
    cannot open fails start() with its reason once both are done, no writer process is
    left, and the group is free for the next router, which routes at once."""
    layout = await ensure_topics(settings, [G22, H29])
    unreachable = settings.replace(tracking_dsn="postgresql://nobody@127.0.0.1:1/none")
    broken = Router(settings=unreachable)
    children = set(multiprocessing.active_children())
    with pytest.raises(ConfigurationError, match="tracking database"):
        await broken.start()
    assert not broken.is_alive()
    assert set(multiprocessing.active_children()) <= children
    async with Sender(agency=G22, settings=settings) as sender, Router(settings=settings):
        await sender.send(letter(G22, (H29,)))
        (record,) = await read_topic(settings, layout.inbox(H29), 1)
    assert record.key is not None and record.key.startswith(H29.encode())


async def test_cli_router_logs_json_serves_metrics_and_stops_on_sigterm(
    settings: Settings,
) -> None:
    """`docbus router --lane bulk` logs JSON lines, serves its metrics, routes the bulk
    lane alone, and on SIGTERM commits and exits 0."""
    layout = await ensure_topics(settings, [G22, H29])
    env = cli_env(settings)
    cli = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shell.cli",
            "router",
            "--log-level",
            "DEBUG",
            "--metrics-port",
            "0",
            "--lane",
            "bulk",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    events: asyncio.Queue[dict] = asyncio.Queue()  # type: ignore[type-arg]
    loop = asyncio.get_running_loop()

    def read_stderr() -> None:  # reads all along, so the router never blocks on a full pipe
        assert cli.stderr is not None
        for line in cli.stderr:
            loop.call_soon_threadsafe(events.put_nowait, json.loads(line))  # JSON, every line

    reader = loop.run_in_executor(None, read_stderr)

    async def next_event() -> dict:  # type: ignore[type-arg]
        return await asyncio.wait_for(events.get(), 30)

    try:
        while (started := await next_event())["event"] != "metrics_serving":
            pass
        url = started["url"]
        while (router_started := await next_event())["event"] != "router_started":
            pass
        assert router_started["lanes"] == ["bulk"]
        doc = letter(G22, (H29,))
        async with Sender(agency=G22, settings=settings) as sender:
            await sender.send(doc)
        await read_topic(settings, layout.inbox(H29), 1)
        while (routed_event := await next_event())["event"] != "document_routed":
            pass
        assert routed_event["document_id"] == doc.document_id
        assert (routed_event["sender"], routed_event["recipient"]) == (G22, H29)
        assert {"level", "timestamp"} <= routed_event.keys()
        routed = await asyncio.to_thread(scrape, url)
        assert sample(routed, "docbus_deliveries_total", recipient=H29, priority="0") == 1
        cli.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(cli.wait, 10) == 0
        await reader
        last = None
        while not events.empty():
            last = events.get_nowait()
        assert last is not None and last["event"] == "router_stopped" and last["documents"] == 1
    finally:
        cli.kill()
        cli.wait()
        if cli.stderr:
            cli.stderr.close()


PROVINCE_MERGERS = {
    "000.00.00.H54": "000.00.00.H31",  # Thái Bình -> Hưng Yên
    "000.00.00.H26": "000.00.00.H27",  # Hải Dương -> Hải Phòng
    "000.00.00.H17": "000.00.00.H36",  # Đắk Nông -> Lâm Đồng
}
MINISTRY_MERGERS = {
    "000.00.00.G05": "000.00.00.G12",  # Planning and Investment -> Finance
    "000.00.00.G04": "000.00.00.G17",  # Transport -> Construction
    "000.00.00.G14": "000.00.00.G06",  # Information and Communications -> Science and Technology
    "000.00.00.G13": "000.00.00.G10",  # Natural Resources and Environment -> Agriculture and Environment
    "000.00.00.G07": "000.00.00.G09",  # Labour, Invalids and Social Affairs -> Home Affairs
}


def sent_on(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9), VN_TIME).astimezone(dt.UTC)


async def test_mail_follows_the_2025_reorganisation(settings: Settings) -> None:
    """Mail dated before a merger reaches the old agency; mail dated after reaches its successor."""
    mergers = {**PROVINCE_MERGERS, **MINISTRY_MERGERS}
    await ensure_topics(settings, [G22, *mergers, *mergers.values()])
    changes = {
        **dict.fromkeys(PROVINCE_MERGERS, dt.date(2025, 7, 1)),
        **dict.fromkeys(MINISTRY_MERGERS, dt.date(2025, 3, 1)),
    }
    told = NoticeCollector()
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(Router(settings=settings))
        sender = await stack.enter_async_context(Sender(agency=G22, settings=settings))
        g22 = Receiver(agency=G22, settings=settings, on_notice=told)
        receivers = {
            code: Receiver(agency=code, settings=settings) for code in {*mergers, *mergers.values()}
        }
        await asyncio.gather(*(stack.enter_async_context(r) for r in [g22, *receivers.values()]))
        await stack.enter_async_context(in_background(drain(g22)))
        number = 0
        expected: dict[str, str] = {}
        for closed, change in changes.items():
            for day, inbox in [(change - dt.timedelta(days=1), closed), (change, mergers[closed])]:
                number += 1
                doc = letter(G22, (closed,), number=number, sent_at=sent_on(day))
                await sender.send(doc)
                expected[doc.document_id] = inbox
        got: dict[str, str] = {}
        for code, receiver in receivers.items():
            count = sum(1 for inbox in expected.values() if inbox == code)
            for received in await take(receiver, count):
                got[received.document.document_id] = code
        redirects = [n for n in await told.wait_for(len(changes) * 3) if n.status_code == "90"]
    assert got == expected
    assert len(redirects) == len(changes)
    assert all(n.from_agency == BUS_AGENCY for n in redirects)


async def test_per_record_lines_only_when_settings_ask_for_debug(settings: Settings) -> None:
    """An application that never configured logging is not flooded with a line per record."""
    from structlog.testing import capture_logs

    for level, expected in [("INFO", 0), ("DEBUG", 1)]:
        tuned = settings.replace(log_level=level, topic_prefix=f"{settings.topic_prefix}{level}")
        await ensure_topics(tuned, [G22, H29])
        with capture_logs() as logs:
            async with Router(settings=tuned, track=False), Sender(agency=G22, settings=tuned) as s:
                await s.send(letter(G22, (H29,)))
                await read_topic(tuned, f"{tuned.topic_prefix}.inbox.{H29}", 1)
        routed = [e for e in logs if e["event"] == "document_routed"]
        assert len(routed) == expected, level


async def test_notices_for_forgotten_deliveries_are_read_back_off_the_loop(
    settings: Settings,
) -> None:
    """A tracker that remembers one delivery: the router reads the others back from the
    store in its store thread (StoreReadNeeded), and every notice still goes through."""
    await ensure_topics(settings, [G22, H29])
    tracker = Tracker(open_store(dsn=None, state_dir=settings.home), cache_size=1)
    notices = NoticeCollector()
    docs = [letter(G22, (H29,), number=n) for n in range(1, 4)]
    try:
        async with (
            Router(settings=settings, tracker=tracker),
            Sender(agency=G22, settings=settings) as sender,
            Receiver(agency=G22, settings=settings, on_notice=notices) as g22,
            Receiver(agency=H29, settings=settings, auto_arrival=False) as h29,
            in_background(drain(g22)),
        ):
            for doc in docs:
                await sender.send(doc)
            for received in await take(h29, 3):  # one notice a delivery, each forgotten
                await received.notify(StatusCode.ARRIVED)
            arrived = await notices.wait_for(3)
        assert tracker.reads_inline is False
        assert sorted((n.document_id, n.status_code) for n in arrived) == sorted(
            (doc.document_id, "01") for doc in docs
        )
        rows = [tracker.store.delivery(d.document_id, H29) for d in docs]
        assert [row.status if row else None for row in rows] == ["01", "01", "01"]
    finally:
        tracker.store.close()

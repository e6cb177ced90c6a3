"""Tests for router._metrics: the router's series as Prometheus scrapes them over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import urllib.error
import urllib.request

import pytest

from consumers import Receiver
from docbus import ConfigurationError, Settings, scraped_total
from producers import Sender
from router import Router
from schemas import Priority, StatusCode, TopicLayout
from tests.helpers import (
    G12,
    G22,
    H29,
    NoticeCollector,
    drain,
    ensure_topics,
    eventually,
    in_background,
    letter,
    produce_raw,
    sample,
    scrape,
    take,
)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


async def test_router_series_follow_the_traffic(settings: Settings) -> None:
    """Documents, deliveries, notices, dead letters, latency, lag and overdue are exported."""
    await ensure_topics(settings, [G22, H29, G12])
    notices = NoticeCollector()
    router = Router(
        settings=settings.replace(metrics_port=0), lag_interval_s=0.2, overdue_interval_s=0.2
    )
    async with (
        router,
        Sender(agency=G22, settings=settings) as sender,
        Receiver(agency=G22, settings=settings, on_notice=notices) as g22,
        Receiver(agency=H29, settings=settings) as h29,
        in_background(drain(g22)),
    ):
        assert router.metrics_url is not None
        await sender.send(letter(G22, (H29,), number=1))
        await sender.send(letter(G22, (H29, G12), number=2, priority=Priority.EXPRESS))
        week_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
        await sender.send(letter(G22, (G12,), number=3, sent_at=week_ago))
        await produce_raw(settings, TopicLayout(settings.topic_prefix).outbox(G22), [b"junk"])
        for received in await take(h29, 2):
            await received.notify(StatusCode.ACCEPTED)
        await notices.wait_for(5)  # 01 and 03 from H29 for both, 02 from the bus for the junk
        url = router.metrics_url

        def settled() -> dict | None:  # type: ignore[type-arg]
            samples = scrape(url)
            done = sample(samples, "docbus_status_notices_total", status_code="03") == 2
            lagging = [v for (n, _), v in samples.items() if n == "docbus_consumer_lag"]
            overdue = sample(samples, "docbus_overdue_deliveries", recipient=G12)
            return samples if done and lagging and not any(lagging) and overdue else None

        samples = await eventually(settled)
        ready = await asyncio.to_thread(_status, url.replace("/metrics", "/readyz"))
        handled = await asyncio.to_thread(
            scraped_total, url, ("docbus_documents_routed_total", "docbus_dead_letters_total")
        )

    def value(name: str, **labels: str) -> float | None:
        return sample(samples, name, **labels)

    assert value("docbus_documents_routed_total", sender=G22, priority="0", document_type="1") == 2
    assert value("docbus_documents_routed_total", sender=G22, priority="3", document_type="1") == 1
    assert value("docbus_deliveries_total", recipient=H29, priority="0") == 1
    assert value("docbus_deliveries_total", recipient=H29, priority="3") == 1
    assert value("docbus_deliveries_total", recipient=G12, priority="3") == 1
    assert value("docbus_deliveries_total", recipient=G12, priority="0") == 1
    assert value("docbus_status_notices_total", status_code="01") == 2
    assert value("docbus_dead_letters_total", reason="bad_marker") == 1
    assert value("docbus_delivery_latency_seconds_count", priority="3") == 1
    # 3 documents, 1 junk, 3 notice records: H29's first 01 left alone when it asked for
    # the second letter (asking marks the first handled), the second's 01 went with its 03
    assert value("docbus_routing_latency_seconds_count") == 7
    assert value("docbus_in_flight_records") == 0
    # G12 never answered the week-old letter (the express one is due in an hour); H29 did.
    assert value("docbus_overdue_deliveries", recipient=G12) == 1
    assert value("docbus_overdue_deliveries", recipient=H29) is None
    assert value("docbus_directory_info", version=router.directory_version) == 1
    assert any(name == "docbus_build_info" for name, _ in samples)
    assert ready == 200
    assert handled == 4  # what tools read: 3 documents routed, 1 dead letter (all labels)
    assert not any(dict(labels).get("document_id") for _, labels in samples)


async def test_the_bulk_lanes_router_counts_overdue_and_an_express_only_one_does_not(
    settings: Settings,
) -> None:
    """With the lanes in two routers on one store, the bulk lane's router exports the
    overdue count; the express-only router, counting more often if it counted at all,
    exports none (the count scans the whole store, off the express lane's process)."""
    await ensure_topics(settings, [G22, G12])
    with_metrics = settings.replace(metrics_port=0)
    express = Router(settings=with_metrics, lanes=["express"], overdue_interval_s=0.05)
    bulk = Router(settings=with_metrics, lanes=["bulk"], overdue_interval_s=0.2)
    assert (express.counts_overdue, bulk.counts_overdue) == (False, True)
    week_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    async with express, bulk, Sender(agency=G22, settings=settings) as sender:
        await sender.send(letter(G22, (G12,), number=1, sent_at=week_ago))
        await sender.send(letter(G22, (G12,), number=2, priority=Priority.EXPRESS))
        assert bulk.metrics_url is not None and express.metrics_url is not None
        await eventually(
            lambda: sample(scrape(bulk.metrics_url), "docbus_overdue_deliveries", recipient=G12)
        )
        express_samples = await asyncio.to_thread(scrape, express.metrics_url)
    assert sample(express_samples, "docbus_deliveries_total", recipient=G12, priority="3") == 1
    assert not [name for name, _ in express_samples if name == "docbus_overdue_deliveries"]


async def test_probes_answer_while_running_and_the_port_closes_after(settings: Settings) -> None:
    """/healthz and /readyz answer 200 while routing; the server is gone after stop."""
    router = Router(settings=settings.replace(metrics_port=0), track=False)
    async with router:
        assert router.metrics_url is not None
        base = router.metrics_url.removesuffix("/metrics")
        assert await asyncio.to_thread(_status, base + "/healthz") == 200
        assert await asyncio.to_thread(_status, base + "/readyz") == 200
        assert await asyncio.to_thread(_status, base + "/nothing") == 404
    try:
        await asyncio.to_thread(_status, base + "/healthz")
    except urllib.error.URLError:
        pass
    else:
        raise AssertionError("the metrics server still answers after the router stopped")


async def test_a_taken_metrics_port_is_a_clear_error_and_leaves_nothing_running(
    settings: Settings,
) -> None:
    """The router refuses to start, names the port, and releases what it had opened."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        router = Router(settings=settings.replace(metrics_port=port))
        with pytest.raises(ConfigurationError, match=f"cannot serve metrics on 127.0.0.1:{port}"):
            await router.start()
        assert not router.is_alive() and router.metrics_url is None
        await router.stop()  # nothing to release: safe all the same


def test_a_metrics_port_out_of_range_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="metrics_port"):
        Settings(metrics_port=70000)
    with pytest.raises(ConfigurationError, match="DOCBUS_METRICS_PORT"):
        Settings.from_env({"DOCBUS_METRICS_PORT": "ninety"})

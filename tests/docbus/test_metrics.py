"""Tests for docbus._metrics: the HTTP endpoint the probes and Prometheus use (uvicorn)."""

from __future__ import annotations

import asyncio
import gc
import urllib.request

from prometheus_client import CollectorRegistry, Counter

from docbus import MetricsServer, register_build_info, register_process_metrics


async def _request(port: int, raw: bytes) -> tuple[str, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    writer.write_eof()
    await writer.drain()
    response = await reader.read()
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return head.decode().split("\r\n")[0], body


async def test_serves_the_registry_and_the_probes() -> None:
    registry = CollectorRegistry()
    register_build_info(registry, "test")
    Counter("docbus_things", "Things.", registry=registry).inc(3)
    ready = False
    async with MetricsServer(registry, port=0, ready=lambda: ready) as server:
        status, body = await _request(server.port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == "HTTP/1.1 200 OK"
        assert b"docbus_things_total 3.0" in body
        assert b'docbus_build_info{component="test"' in body
        status, _ = await _request(server.port, b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == "HTTP/1.1 503 Service Unavailable"
        ready = True
        status, _ = await _request(server.port, b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == "HTTP/1.1 200 OK"
        status, _ = await _request(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == "HTTP/1.1 200 OK"


async def test_openmetrics_head_and_bad_requests() -> None:
    registry = CollectorRegistry()
    Counter("docbus_things", "Things.", registry=registry).inc()
    async with MetricsServer(registry, port=0) as server:
        accept = {"Accept": "application/openmetrics-text; version=1.0.0"}
        request = urllib.request.Request(server.url, headers=accept)
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(request, timeout=5).read())
        assert body.rstrip().endswith(b"# EOF")
        status, body = await _request(server.port, b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status.endswith("200 OK") and body == b""
        status, _ = await _request(server.port, b"POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status.endswith("405 Method Not Allowed")
        status, _ = await _request(server.port, b"GET /admin HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status.endswith("404 Not Found")
        status, _ = await _request(server.port, b"GET /readyz HTTP/1.1\r\n\r\n")
        assert status.endswith("400 Bad Request")  # HTTP/1.1 without Host
        # A client that sends half a request and hangs up gets nothing and harms nothing.
        assert await _request(server.port, b"GET /met") == ("", b"")
        status, _ = await _request(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status.endswith("200 OK")


def test_tables_export_what_prometheus_client_would() -> None:
    """CounterTable and HistogramTable expose the same samples as the library's own types."""
    from prometheus_client import Histogram, generate_latest

    from docbus import LATENCY_BUCKETS, CounterTable, HistogramTable

    ours, theirs = CollectorRegistry(), CollectorRegistry()
    counts = CounterTable("docbus_things", "Things.", ["kind"])
    latency = HistogramTable("docbus_wait_seconds", "Waits.", ["priority"])

    class Tables:
        def collect(self):  # type: ignore[no-untyped-def]
            yield counts.family()
            yield latency.family()

    ours.register(Tables())  # type: ignore[arg-type]
    reference_counter = Counter("docbus_things", "Things.", ["kind"], registry=theirs)
    reference = Histogram(
        "docbus_wait_seconds", "Waits.", ["priority"], buckets=LATENCY_BUCKETS, registry=theirs
    )
    for kind, value, priority in [("a", 0.25, "3"), ("a", 0.0049, "3"), ("b", 7200.0, "0")]:
        counts.values[(kind,)] += 1
        reference_counter.labels(kind).inc()
        latency.observe((priority,), value)
        reference.labels(priority).observe(value)
    latency.observe(("0",), 0.5, count=3)
    for _ in range(3):
        reference.labels("0").observe(0.5)

    def samples(registry: CollectorRegistry) -> set[str]:
        lines = generate_latest(registry).decode().splitlines()
        return {line for line in lines if not line.startswith("#") and "_created" not in line}

    assert samples(ours) == samples(theirs)


async def test_a_silent_client_does_not_hold_the_probes() -> None:
    """A connection that never sends a request leaves /healthz answering at once."""
    async with MetricsServer(CollectorRegistry(), port=0) as server:
        _, silent = await asyncio.open_connection("127.0.0.1", server.port)
        async with asyncio.timeout(2):
            status, body = await _request(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (status, body) == ("HTTP/1.1 200 OK", b"ok\n")
        silent.close()


async def test_the_service_keeps_its_signal_handlers() -> None:
    """Serving metrics installs no SIGTERM handler of its own (the router's stays)."""
    import signal

    before = signal.getsignal(signal.SIGTERM)
    async with MetricsServer(CollectorRegistry(), port=0) as server:
        await _request(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert signal.getsignal(signal.SIGTERM) is before


def test_a_service_exports_its_process_cpu_memory_and_collections() -> None:
    """A service's registry carries its process's CPU and memory and the collector's work
    by generation, read from this process when scraped."""
    registry = CollectorRegistry()
    register_process_metrics(registry)
    before = registry.get_sample_value("process_cpu_seconds_total")
    assert before is not None
    sum(n * n for n in range(300_000))  # some CPU, to see the counter move
    after = registry.get_sample_value("process_cpu_seconds_total")
    assert after is not None and after > before
    assert (registry.get_sample_value("process_resident_memory_bytes") or 0) > 10 * 1024 * 1024
    collections = registry.get_sample_value("python_gc_collections_total", {"generation": "0"})
    assert collections is not None and 0 < collections <= gc.get_stats()[0]["collections"]

"""Tests for docbus._metrics: the HTTP endpoint the probes and Prometheus use."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, Counter

from docbus._metrics import MetricsServer, register_build_info


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
        status, _ = await _request(server.port, b"GET /readyz HTTP/1.1\r\n\r\n")
        assert status == "HTTP/1.1 503 Service Unavailable"
        ready = True
        status, _ = await _request(server.port, b"GET /readyz HTTP/1.1\r\n\r\n")
        assert status == "HTTP/1.1 200 OK"
        status, _ = await _request(server.port, b"GET /healthz HTTP/1.1\r\n\r\n")
        assert status == "HTTP/1.1 200 OK"


async def test_openmetrics_head_and_bad_requests() -> None:
    registry = CollectorRegistry()
    Counter("docbus_things", "Things.", registry=registry).inc()
    async with MetricsServer(registry, port=0) as server:
        accept = b"Accept: application/openmetrics-text; version=1.0.0\r\n"
        status, body = await _request(server.port, b"GET /metrics HTTP/1.1\r\n" + accept + b"\r\n")
        assert status.endswith("200 OK") and body.rstrip().endswith(b"# EOF")
        status, body = await _request(server.port, b"HEAD /metrics HTTP/1.1\r\n\r\n")
        assert status.endswith("200 OK") and body == b""
        status, _ = await _request(server.port, b"POST /metrics HTTP/1.1\r\n\r\n")
        assert status.endswith("405 Method Not Allowed")
        status, _ = await _request(server.port, b"GET /admin HTTP/1.1\r\n\r\n")
        assert status.endswith("404 Not Found")
        # A client that sends half a request and hangs up gets nothing and harms nothing.
        assert await _request(server.port, b"GET /met") == ("", b"")
        status, _ = await _request(server.port, b"GET /healthz HTTP/1.1\r\n\r\n")
        assert status.endswith("200 OK")

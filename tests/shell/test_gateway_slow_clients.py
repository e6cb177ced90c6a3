"""A slow or vanished client does not hold the gateway: headers must be whole within a
deadline, a body must arrive at a minimum rate (else 408), and the gateway goes on
serving everyone else. Driven with raw sockets, as such clients behave."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from urllib.parse import urlsplit

from docbus import Settings
from shell.gateway import GatewayLimits, TokenStore
from tests.helpers import G22
from tests.shell.gateway_support import bearer, curl, serving

LIMITS = GatewayLimits(
    header_seconds=0.5, upload_grace_seconds=0.5, min_upload_bytes_per_second=1000
)


async def connect(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(url)
    return await asyncio.open_connection(parts.hostname, parts.port)


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (at most 10 s)."""
    async with asyncio.timeout(10):
        return await reader.read()


async def test_slow_headers_and_idle_connections_are_closed(
    settings: Settings, tmp_path: Path
) -> None:
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    token = tokens.issue(G22)
    async with serving(settings, tokens, LIMITS) as url:
        idle_reader, idle = await connect(url)  # connects and says nothing
        slow_reader, slow = await connect(url)
        slow.write(b"GET /v1/agencies HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never ends them
        await slow.drain()
        assert await closed_by_server(idle_reader) == b""
        assert await closed_by_server(slow_reader) == b""
        for writer in (idle, slow):
            writer.close()
        # A keep-alive client asking twice, a moment apart, is served both times.
        reader, writer = await connect(url)
        request = (
            f"GET /v1/agencies HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
        ).encode()
        for _ in range(2):
            writer.write(request)
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), 10)
            assert status.startswith(b"HTTP/1.1 200"), status
            length = 0
            while (line := await reader.readline()) != b"\r\n":
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            await asyncio.sleep(0.8)  # longer than the headers deadline, idle between
        writer.close()
        assert (await curl(f"{url}/v1/agencies", *bearer(token))).status == 200


async def test_a_body_slower_than_the_rate_is_a_408(settings: Settings, tmp_path: Path) -> None:
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    token = tokens.issue(G22)
    async with serving(settings, tokens, LIMITS) as url:
        reader, writer = await connect(url)
        writer.write(
            (
                "POST /v1/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                'Content-Length: 2000\r\n\r\n{"sender": '
            ).encode()
        )  # then nothing: 2.5 s allowed (0.5 s, and 2,000 bytes at 1,000 a second)
        await writer.drain()
        answer = await closed_by_server(reader)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), answer
        assert b"application/problem+json" in head
        assert json.loads(body)["type"] == "/problems/too-slow"
        writer.close()
        assert (await curl(f"{url}/v1/agencies", *bearer(token))).status == 200

"""What the gateway's tests share: a gateway served in the test's loop, and curl."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from docbus import Settings
from shell.gateway import (
    GatewayLimits,
    GatewayMetrics,
    TokenStore,
    create_app,
    gateway_protocol,
)
from tests.helpers import eventually

PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: str

    def json(self) -> dict:  # type: ignore[type-arg]
        return json.loads(self.body)


async def curl(url: str, *args: str, check: bool = True, save_to: Path | None = None) -> Answer:
    """One request with curl: its status, content type and body (status 0 and curl's
    error as the body when no HTTP answer came and ``check`` is False); with ``save_to``
    the body goes to that file instead."""
    output = str(save_to) if save_to is not None else "-"
    process = await asyncio.create_subprocess_exec(
        "curl", "-sS", "-o", output, "-w", "\n%{http_code} %{content_type}", *args, url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    if process.returncode != 0 and not check:
        return Answer(0, "", err.decode())
    assert process.returncode == 0, err.decode()
    body, _, tail = out.decode().rpartition("\n")
    status, _, content_type = tail.partition(" ")
    return Answer(int(status), content_type, body)


async def post_json(url: str, token: str, body: Any) -> Answer:
    """``body`` POSTed as JSON to ``url`` with ``token``."""
    json_type = ("-H", "Content-Type: application/json")
    return await curl(
        url, "-X", "POST", *bearer(token), *json_type, "--data-binary", json.dumps(body)
    )


def bearer(token: str) -> tuple[str, str]:
    return ("-H", f"Authorization: Bearer {token}")


@contextlib.asynccontextmanager
async def serving(
    settings: Settings,
    tokens: TokenStore,
    limits: GatewayLimits | None = None,
    metrics: GatewayMetrics | None = None,
    **server_options: Any,
) -> AsyncIterator[str]:
    """The gateway on a free port of 127.0.0.1, in this event loop: its base URL;
    ``server_options`` go to uvicorn (TLS: the URL is then https)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(settings, tokens=tokens, limits=limits, metrics=metrics)
    server_options.setdefault("http", gateway_protocol((limits or GatewayLimits()).header_seconds))
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **server_options
        )
    )
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started, timeout_s=10)
    try:
        yield f"{'https' if 'ssl_certfile' in server_options else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task

"""`docbus gateway` as operators run it, a process of its own: killed (SIGKILL) between a
delivery's hand-out and its status, it hands the delivery out again when restarted, and
never after the status."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from docbus import Settings
from router import Router
from shell import free_port
from shell.gateway import TokenStore
from tests.helpers import G22, H29, cli_env, ensure_topics
from tests.shell.gateway_support import bearer, curl, post_json


@contextlib.contextmanager
def gateway_process(settings: Settings, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``docbus gateway`` on ``port``; killed on the way out if still running."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "shell.cli", "gateway", "--port", str(port)],
            env=cli_env(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


async def serving_at(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        assert process.poll() is None, "the gateway exited"
        if (await curl(f"{url}/openapi.json", check=False)).status == 200:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the gateway did not start")


async def test_a_killed_gateway_hands_the_delivery_out_again(
    settings: Settings, tmp_path: Path
) -> None:
    await ensure_topics(settings, [G22, H29])
    tokens = TokenStore(settings.home / "gateway-tokens.sqlite")  # where the command looks
    g22, h29 = tokens.issue(G22), tokens.issue(H29)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "gateway.log"
    async with Router(settings=settings):
        with gateway_process(settings, port, log) as gateway:
            await serving_at(url, gateway)
            sent = await post_json(
                f"{url}/v1/documents",
                g22,
                {"sender": G22, "recipients": [H29], "subject": "V/v cổng bị tắt"},
            )
            assert sent.status == 202, sent.body
            (first,) = (await curl(f"{url}/v1/inbox?wait=20", *bearer(h29))).json()["items"]
            gateway.kill()  # between hand-out and status
        with gateway_process(settings, port, log) as gateway:
            await serving_at(url, gateway)
            (again,) = (await curl(f"{url}/v1/inbox?wait=20", *bearer(h29))).json()["items"]
            assert again["delivery_id"] == first["delivery_id"]
            answered = await post_json(
                f"{url}/v1/inbox/{again['delivery_id']}/status", h29, {"status_code": "03"}
            )
            assert answered.status == 200
            gateway.kill()  # after the status, before any commit
        with gateway_process(settings, port, log) as gateway:
            await serving_at(url, gateway)
            assert (await curl(f"{url}/v1/inbox?wait=3", *bearer(h29))).json() == {"items": []}
            assert sent.json()["document_id"] == first["document_id"]

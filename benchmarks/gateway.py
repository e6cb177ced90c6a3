"""Benchmark: the HTTP gateway against the sender SDK, and its inbox hand-out latency.

Prints one JSON object. Usage:
    python benchmarks/gateway.py [--documents 2000] [--clients 16] [--handouts 100]

On an embedded broker, in one sitting:

- ``sdk_docs_per_s``: ``--clients`` tasks in this process send ``--documents`` letters
  from the Government Office through one ``Sender`` (each send awaited, as a client of
  the gateway awaits its 202);
- ``gateway_docs_per_s``: ``--clients`` threads, each with a keep-alive HTTP connection,
  ``POST /v1/documents`` the same number of letters (JSON, only sender, recipients and
  subject) to a ``docbus gateway`` process on 127.0.0.1; ``ratio`` is gateway / SDK;
- ``handout_ms``: with a router process running, an inbox long poll (``wait=30``) is
  waiting when a document is sent with the SDK; the time from ``send()`` returning to the
  long poll answering with it, ``--handouts`` times (each answered 03 before the next).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import http.client
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _shared import docbus_env

from docbus import Keystore, Settings
from docbus.directory import Directory
from producers import Sender, official_letter
from router import ensure_bus_topics
from schemas import BUS_AGENCY
from shell import EmbeddedBroker
from shell._replay_timeline import percentiles_ms
from shell._router_process import RouterProcess

G22, H29 = "000.00.00.G22", "000.00.00.H29"


def _letter_json(n: int) -> bytes:
    return json.dumps({"sender": G22, "recipients": [H29], "subject": f"V/v thử {n}"}).encode()


class _Client:
    """One keep-alive HTTP/1.1 connection to the gateway."""

    def __init__(self, port: int, token: str) -> None:
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self._headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        self._connection.request(method, path, body=body, headers=headers)
        response = self._connection.getresponse()
        return response.status, json.loads(response.read() or b"null")


async def _sdk_rate(settings: Settings, documents: int, clients: int) -> float:
    async with Sender(agency=G22, settings=settings) as sender:
        counter = iter(range(documents))
        started = time.perf_counter()

        async def client() -> None:
            for n in counter:
                now = dt.datetime.now(dt.UTC)
                await sender.send(
                    official_letter(
                        sender=G22, recipients=[H29], subject=f"V/v thử {n}",
                        number=f"s{n}", notation="VP", sent_at=now,
                    )
                )  # fmt: skip

        await asyncio.gather(*(client() for _ in range(clients)))
        return documents / (time.perf_counter() - started)


def _gateway_rate(port: int, token: str, documents: int, clients: int) -> float:
    counter = iter(range(documents))
    lock = threading.Lock()

    def client() -> None:
        connection = _Client(port, token)
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            status, _ = connection.call("POST", "/v1/documents", _letter_json(n))
            assert status == 202, status

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        for done in [pool.submit(client) for _ in range(clients)]:
            done.result()
    return documents / (time.perf_counter() - started)


async def _handouts(settings: Settings, port: int, token: str, count: int) -> list[float]:
    latencies: list[float] = []
    poller = _Client(port, token)
    async with Sender(agency=G22, settings=settings) as sender:
        for n in range(count):
            polling = asyncio.create_task(
                asyncio.to_thread(poller.call, "GET", "/v1/inbox?wait=30")
            )
            await asyncio.sleep(0.2)  # the long poll is waiting
            now = dt.datetime.now(dt.UTC)
            await sender.send(
                official_letter(
                    sender=G22, recipients=[H29], subject=f"V/v giao {n}", number=f"h{n}",
                    notation="VP", sent_at=now,
                )
            )  # fmt: skip
            sent = time.perf_counter()
            status, body = await polling
            latencies.append(time.perf_counter() - sent)
            assert status == 200 and body["items"], body
            for item in body["items"]:
                answer = json.dumps({"status_code": "03"}).encode()
                await asyncio.to_thread(
                    poller.call, "POST", f"/v1/inbox/{item['delivery_id']}/status", answer
                )
    return latencies


@contextlib.contextmanager
def _gateway_process(settings: Settings, port: int) -> Any:
    env = docbus_env(settings)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shell.cli",
            "gateway",
            "--port",
            str(port),
            "--requests-per-second",
            "1000000",
            "--burst",
            "1000000",
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the gateway did not start")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        process.wait(30)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--handouts", type=int, default=100)
    parser.add_argument("--port", type=int, default=18080)
    args = parser.parse_args()
    from shell.gateway import TokenStore

    async with EmbeddedBroker() as broker:
        with tempfile.TemporaryDirectory(prefix="docbus-gateway-bench-") as home:
            settings = Settings(
                topic_prefix="gwbench", home=Path(home), session_timeout_ms=1500
            ).for_embedded(broker.bootstrap_servers)
            Keystore(settings.keys_root).ensure([BUS_AGENCY, G22, H29])
            await ensure_bus_topics(settings, Directory.load())
            tokens = TokenStore(settings.home / "gateway-tokens.sqlite")
            g22, h29 = tokens.issue(G22), tokens.issue(H29)
            sdk = await _sdk_rate(settings, args.documents, args.clients)
            with _gateway_process(settings, args.port):
                gateway = await asyncio.to_thread(
                    _gateway_rate, args.port, g22, args.documents, args.clients
                )
                async with RouterProcess(settings):
                    # the backlog of both runs reaches H29's inbox first: drain it
                    drainer = _Client(args.port, h29)
                    while True:
                        _, body = drainer.call("GET", "/v1/inbox?wait=5&limit=200")
                        if not body["items"]:
                            break
                        for item in body["items"]:
                            answer = json.dumps({"status_code": "03"}).encode()
                            drainer.call("POST", f"/v1/inbox/{item['delivery_id']}/status", answer)
                    latencies = await _handouts(settings, args.port, h29, args.handouts)
    print(
        json.dumps(
            {
                "benchmark": "gateway",
                "documents": args.documents,
                "clients": args.clients,
                "sdk_docs_per_s": round(sdk, 1),
                "gateway_docs_per_s": round(gateway, 1),
                "ratio": round(gateway / sdk, 3),
                "handouts": args.handouts,
                "handout_ms": percentiles_ms(latencies),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())

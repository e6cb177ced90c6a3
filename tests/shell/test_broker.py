"""Tests for shell._broker: the embedded broker never outlives whoever started it."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from docbus import ClientStateError, EmbeddedBrokerError
from shell import EmbeddedBroker


def wait_for_exit(pid: int, timeout_s: float) -> bool:
    """Block until process ``pid`` (not necessarily our child) exits; False on timeout."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout_s)
        return bool(readable)
    finally:
        os.close(fd)


def children_of(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


async def test_start_gives_an_address_and_stop_ends_the_process() -> None:
    """A started broker accepts connections on 127.0.0.1; after stop its process is gone."""
    broker = EmbeddedBroker()
    await broker.start()
    host, port = broker.bootstrap_servers.split(":")
    assert host == "127.0.0.1" and int(port) > 0
    _, writer = await asyncio.open_connection(host, int(port))
    writer.close()
    await writer.wait_closed()
    pid = broker.pid
    assert broker.peak_rss_bytes() > 0
    await broker.stop()
    assert wait_for_exit(pid, 10)
    await broker.stop()  # a second stop is safe


async def test_cannot_start_twice() -> None:
    """Starting a running broker again is refused."""
    async with EmbeddedBroker() as broker:
        with pytest.raises(ClientStateError):
            await broker.start()


async def test_a_binary_that_dies_is_reported() -> None:
    """A broker binary that exits at once raises EmbeddedBrokerError with its exit code."""
    with pytest.raises(EmbeddedBrokerError, match="exited"):
        await EmbeddedBroker(binary="/bin/false").start()


async def test_broker_dies_with_a_killed_parent(tmp_path: Path) -> None:
    """When the process that started the broker is SIGKILLed, the broker goes too."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import asyncio, sys\n"
        "from shell import EmbeddedBroker\n"
        "async def main():\n"
        "    broker = EmbeddedBroker()\n"
        "    await broker.start()\n"
        "    print(broker.pid, flush=True)\n"
        "    await asyncio.Event().wait()\n"
        "asyncio.run(main())\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        broker_pid = int(await asyncio.to_thread(parent.stdout.readline))
        parent.kill()
        parent.wait(10)
        assert await asyncio.to_thread(wait_for_exit, broker_pid, 10)
    finally:
        parent.kill()
        parent.wait()
        if parent.stdout:
            parent.stdout.close()


async def test_cli_broker_prints_address_and_stops_on_ctrl_c() -> None:
    """`docbus broker` prints host:port; SIGINT stops it and its broker process, exit 0."""
    cli = subprocess.Popen(
        [sys.executable, "-m", "shell.cli", "broker"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert cli.stdout is not None
        address = (await asyncio.to_thread(cli.stdout.readline)).strip()
        host, port = address.split(":")
        assert host == "127.0.0.1"
        _, writer = await asyncio.open_connection(host, int(port))
        writer.close()
        await writer.wait_closed()
        (broker_pid,) = children_of(cli.pid)
        cli.send_signal(signal.SIGINT)
        assert await asyncio.to_thread(cli.wait, 15) == 0
        assert wait_for_exit(broker_pid, 10)
    finally:
        cli.kill()
        cli.wait()
        if cli.stdout:
            cli.stdout.close()

"""Faults against the embedded broker: routers killed, a broker frozen, a router told to stop.

Each test runs the whole bus as the demo does (every agency's sender, receiver and
clerk answering 01 then 03 or 02) with the routers as ``docbus router`` processes that
the test kills and restarts. The guarantees checked are the ones RELIABILITY.md states:
every delivery reaches its application exactly once, every sender gets every notice,
and nothing is stuck afterwards.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest
from aiokafka import TopicPartition

from consumers import Receiver
from consumers.simulation import AcknowledgingAgency, DeliveryLedger
from docbus import Settings, make_consumer, produce_in_batches
from docbus.directory import Directory
from producers.simulation import DocumentMix
from schemas import HEADER_RECIPIENT, Codec, TopicLayout, today_vn, top_level_of
from shell import EmbeddedBroker
from shell._simulated_bus import SimulatedBus, simulated_bus, wait_complete
from tests.helpers import cli_env, eventually

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]


class RouterFleet:
    """``docbus router`` processes on the test's bus, each with a state folder of its own
    that survives its restarts (its tracking store), killed and restarted at will."""

    def __init__(self, settings: Settings, root: Path, names: list[str]) -> None:
        self._settings = settings
        self._root = root
        self._names = names
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self.starts = 0
        self.exit_codes: list[int] = []

    def start(self, name: str) -> None:
        """Start router ``name`` (again)."""
        env = {
            **cli_env(self._settings),
            "DOCBUS_HOME": str(self._root / name),
            "DOCBUS_LOG_LEVEL": "WARNING",
            **(
                {"DOCBUS_TRACKING_DSN": self._settings.tracking_dsn}
                if self._settings.tracking_dsn
                else {}
            ),
        }
        with (self._root / f"{name}.log").open("ab") as log:  # JSON lines, kept for a failure
            self._processes[name] = subprocess.Popen(
                [sys.executable, "-m", "shell.cli", "router"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        self.starts += 1

    def signal(self, name: str, sig: int) -> None:
        """Send ``sig`` to router ``name``."""
        self._processes[name].send_signal(sig)

    def wait(self, name: str, timeout_s: float) -> int:
        """Router ``name``'s exit code, waiting up to ``timeout_s``."""
        code = self._processes[name].wait(timeout_s)
        self.exit_codes.append(code)
        return code

    def alive(self, name: str) -> bool:
        """Whether router ``name`` is running."""
        return self._processes[name].poll() is None

    @contextlib.asynccontextmanager
    async def running(self, _settings: Settings) -> AsyncIterator[RouterFleet]:
        """Every router started for the block; stopped with SIGTERM (killed if stuck) after."""
        for name in self._names:
            self.start(name)
        try:
            yield self
        finally:
            for process in self._processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in self._processes.values():
                try:
                    await asyncio.to_thread(process.wait, 15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    await asyncio.to_thread(process.wait)


async def send_documents(bus: SimulatedBus, count: int, seed: int) -> int:
    """Send ``count`` documents from the mix in chunks; the deliveries they are due."""
    mix = DocumentMix(Directory.load(), seed=seed)
    expected = 0
    chunk = []
    for document in mix.documents(count):
        chunk.append(document)
        if len(chunk) == 500:
            await asyncio.gather(*(bus.senders[d.sender].send(d) for d in chunk))
            expected += sum(len(d.recipients) for d in chunk)
            chunk = []
    await asyncio.gather(*(bus.senders[d.sender].send(d) for d in chunk))
    return expected + sum(len(d.recipients) for d in chunk)


class RegisteringClerk:
    """A clerk that registers each document and answers nothing (the SDK sent its 01)."""

    def __init__(self, receiver: Receiver, ledger: DeliveryLedger) -> None:
        self._receiver = receiver
        self._ledger = ledger

    async def run(self) -> None:
        """Hand each document to the ledger, as an application would take it."""
        async for received in self._receiver:
            self._ledger.delivered(received.document.document_id, received.recipient)
            received.ack()


async def preload_documents(bus: SimulatedBus, count: int, seed: int) -> int:
    """Put ``count`` signed documents of the mix in their senders' outboxes at once (as
    senders would have, faster); the deliveries they are due."""
    codec = Codec()
    layout = TopicLayout(bus.settings.topic_prefix)
    documents = list(DocumentMix(Directory.load(), seed=seed).documents(count))
    await produce_in_batches(
        bus.settings,
        (
            (
                layout.outbox(top_level_of(d.sender)),
                d.document_id.encode(),
                codec.encode(d),
            )
            for d in documents
        ),
    )
    return sum(len(d.recipients) for d in documents)


@contextlib.asynccontextmanager
async def whole_bus(
    settings: Settings, fleet: RouterFleet, ledger: DeliveryLedger, *, answer: bool = True
) -> AsyncIterator[SimulatedBus]:
    """Every agency open today, with ``fleet`` as the routers; clerks that answer 03 or
    02 after the SDK's 01, or (``answer`` False) only register what they get."""
    directory = Directory.load()
    codes = [a.code for a in directory.open_at(today_vn())]
    async with simulated_bus(
        settings,
        directory=directory,
        codec=Codec(),
        codes=codes,
        ledger=ledger,
        clerk=lambda r, i: (
            AcknowledgingAgency(r, ledger, seed=i) if answer else RegisteringClerk(r, ledger)
        ),
        router=fleet.running,
    ) as bus:
        yield bus


def assert_everything_arrived(
    ledger: DeliveryLedger, expected: int, completed: bool, notices_each: int = 2
) -> None:
    """Every delivery handed over once, every notice back, nothing rejected by the bus."""
    assert completed, (
        f"{len(ledger.received)}/{expected} deliveries, "
        f"{len(ledger.notices)}/{expected * notices_each} notices"
    )
    assert len(ledger.received) == expected
    assert ledger.duplicates == 0
    assert len(ledger.notices) == expected * notices_each
    assert ledger.bus_rejections == set()


async def test_router_killed_five_times_during_50000_documents(
    settings: Settings, tmp_path: Path
) -> None:
    """SIGKILL at random points of the run, five times, each followed by a restart: every
    delivery arrives, no application sees one twice, every sender gets every recipient's
    01 (the clerks answer nothing more here: the other fault tests carry the 03s and 02s).

    The run is cut into five stretches between 5% and 95% of its deliveries, and the
    router is killed at a random point of each, so that every kill finds it mid-drain.
    (Kills at random 2-6 s apart all fell in the first 17 s, while a restarting router was
    still joining its group, with 638 of the deliveries made.)"""
    fleet = RouterFleet(settings, tmp_path, ["router"])
    ledger = DeliveryLedger()
    rng = random.Random(7)
    kills: list[int] = []  # the deliveries made when each kill came

    async def kill_at_five_points(expected: int) -> None:
        bounds = [0.05 + 0.9 * i / 5 for i in range(6)]  # five stretches from 5% to 95%
        for low, high in itertools.pairwise(bounds):
            point = int(expected * rng.uniform(low, high))
            await eventually(lambda point=point: len(ledger.received) >= point, timeout_s=300)
            fleet.signal("router", signal.SIGKILL)
            assert await asyncio.to_thread(fleet.wait, "router", 10) == -signal.SIGKILL
            kills.append(len(ledger.received))
            fleet.start("router")

    async with whole_bus(settings, fleet, ledger, answer=False) as bus:
        expected = await preload_documents(bus, 50_000, seed=50)
        await kill_at_five_points(expected)
        ledger.expect(deliveries=expected, notices=expected, rejections=0)
        completed = await wait_complete(ledger, 300)
    assert fleet.starts == 6
    assert kills[-1] < expected, kills  # the last kill, too, came mid-run
    print(f"killed at {kills} of {expected} deliveries")
    assert_everything_arrived(ledger, expected, completed, notices_each=1)


def fresh_database(dsn: str, name: str) -> str:
    """A new, empty PostgreSQL database on ``dsn``'s server: its DSN."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return dsn.rsplit("/", 1)[0] + "/" + name


async def test_two_routers_one_killed_the_other_takes_over(
    settings: Settings, tmp_path: Path, postgres_dsn: str
) -> None:
    """Two routers in one group, sharing a PostgreSQL tracking store as in deploy/; one is
    killed mid-run and not restarted: the other takes its partitions, nothing is lost."""
    shared = settings.replace(tracking_dsn=fresh_database(postgres_dsn, settings.topic_prefix))
    fleet = RouterFleet(shared, tmp_path, ["a", "b"])
    ledger = DeliveryLedger()
    async with whole_bus(shared, fleet, ledger) as bus:
        sending = asyncio.create_task(send_documents(bus, 4_000, seed=51))
        await asyncio.sleep(3)
        fleet.signal("a", signal.SIGKILL)
        assert await asyncio.to_thread(fleet.wait, "a", 10) == -signal.SIGKILL
        expected = await sending
        ledger.expect(deliveries=expected, notices=expected * 2, rejections=0)
        completed = await wait_complete(ledger, 180)
        assert fleet.alive("b")
    assert_everything_arrived(ledger, expected, completed)


async def test_broker_frozen_for_15_seconds(
    settings: Settings, tmp_path: Path, broker: EmbeddedBroker
) -> None:
    """SIGSTOP the broker mid-run for 15 s, then SIGCONT: clients retry, nothing is lost,
    nothing stays stuck (the run completes after the broker is back)."""
    fleet = RouterFleet(settings, tmp_path, ["router"])
    ledger = DeliveryLedger()
    async with whole_bus(settings, fleet, ledger) as bus:
        sending = asyncio.create_task(send_documents(bus, 2_000, seed=52))
        await asyncio.sleep(1.5)
        os.kill(broker.pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(15)
        finally:
            os.kill(broker.pid, signal.SIGCONT)
        resumed = time.monotonic()
        expected = await sending
        ledger.expect(deliveries=expected, notices=expected * 2, rejections=0)
        completed = await wait_complete(ledger, 180)
        recovered_s = time.monotonic() - resumed
        assert fleet.alive("router")
    assert_everything_arrived(ledger, expected, completed)
    print(f"complete {recovered_s:.1f} s after the broker resumed")


async def test_sigterm_under_load_finishes_commits_and_exits_0_within_10_s(
    settings: Settings, tmp_path: Path
) -> None:
    """SIGTERM while the router works through a backlog: exit 0 in under 10 s; a new
    router then routes the rest, and no record routed before the stop is routed again."""
    fleet = RouterFleet(settings, tmp_path, ["router"])
    ledger = DeliveryLedger()
    async with whole_bus(settings, fleet, ledger) as bus:
        sending = asyncio.create_task(send_documents(bus, 3_500, seed=53))
        # Signalled once routing is under way, not after a fixed time: a loaded machine
        # can take seconds to start a router (a 2 s wait once stopped it before any).
        await eventually(lambda: len(ledger.received) >= 100, timeout_s=120)
        fleet.signal("router", signal.SIGTERM)
        stopping = time.monotonic()
        code = await asyncio.to_thread(fleet.wait, "router", 10)
        took = time.monotonic() - stopping
        assert code == 0 and took < 10
        routed_before_stop = len(ledger.received)
        fleet.start("router")
        expected = await sending
        assert 0 < routed_before_stop < expected  # stopped mid-run, with work left
        ledger.expect(deliveries=expected, notices=expected * 2, rejections=0)
        completed = await wait_complete(ledger, 180)
    assert_everything_arrived(ledger, expected, completed)
    copies = await delivery_copies(settings, bus.senders)
    assert len(copies) == expected  # every delivery in an inbox...
    assert max(copies.values()) == 1  # ...once: what the first router committed was not redone


async def delivery_copies(settings: Settings, agencies: Iterable[str]) -> collections.Counter[str]:
    """How many records each delivery (recipient|document id) has across the inboxes."""
    layout = TopicLayout(settings.topic_prefix)
    consumer = make_consumer(settings, group_id=None)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(layout.inbox(code), p)
            for code in agencies
            for p in sorted(consumer.partitions_for_topic(layout.inbox(code)) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        copies: collections.Counter[str] = collections.Counter()
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for records in batch.values():
                copies.update(
                    r.key.decode() for r in records if HEADER_RECIPIENT in dict(r.headers)
                )
    finally:
        await consumer.stop()
    return copies

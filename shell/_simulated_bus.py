"""The simulated agencies' side of a whole-bus run (the demo, the replay): receivers and clerks."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from consumers import Receiver, SharedInboxes
from consumers.simulation import DeliveryLedger
from docbus import (
    Keystore,
    Settings,
    TrustedKeys,
    all_finished,
    make_producer,
    start_producer,
)
from docbus.directory import Directory
from producers import Sender
from router import ensure_bus_topics
from schemas import BUS_AGENCY, Codec, TopicLayout, top_level_of
from shell._refusals import RefusalWatch
from shell._router_process import RouterProcesses

__all__ = [
    "Clerk",
    "ClerkFactory",
    "SimulatedBus",
    "bus_home",
    "receiving_agencies",
    "shared_producer",
    "simulated_bus",
    "wait_complete",
]

log = structlog.get_logger("docbus.simulation")


class Clerk(Protocol):
    """A receiving agency's clerk: handles what its receiver yields until cancelled."""

    async def run(self) -> None: ...


#: Makes the clerk of a receiver (the receiver, and its index for a seed).
ClerkFactory = Callable[[Receiver, int], Clerk]


@contextlib.asynccontextmanager
async def shared_producer(settings: Settings) -> AsyncIterator[Any]:
    """One started producer for many simulated agencies."""
    producer = make_producer(settings)
    await start_producer(producer, settings, "the simulation's producer")
    try:
        yield producer
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def receiving_agencies(
    settings: Settings,
    codes: list[str],
    codec: Codec,
    ledger: DeliveryLedger,
    clerk: ClerkFactory,
    refusals: RefusalWatch,
) -> AsyncIterator[None]:
    """Every agency's receiver with its clerk, answering on one shared producer; what the
    receivers and the bus refuse is counted in ``refusals``. The receivers read their
    inboxes through two shared consumers (:class:`~consumers.SharedInboxes`) and share
    one ring of trusted keys: a batch's signature, whose records reach many inboxes, is
    checked once in the process, not once per inbox."""
    trusted = TrustedKeys(Keystore(settings.keys_root))
    layout = TopicLayout(settings.topic_prefix)
    inboxes = SharedInboxes(
        settings,
        {layout.inbox(top_level_of(code)) for code in codes},
        group_id=settings.group_id("receivers.simulated"),
    )
    async with (
        shared_producer(settings) as producer,
        inboxes,
        contextlib.AsyncExitStack() as stack,
    ):
        receivers = [
            Receiver(
                agency=code,
                settings=settings,
                codec=codec,
                producer=producer,
                trusted_keys=trusted,
                inboxes=inboxes,
                on_notice=refusals.watching(ledger.on_notice),
                on_refused=refusals.refused,
            )
            for code in codes
        ]
        await asyncio.gather(*(stack.enter_async_context(r) for r in receivers))
        clerks = [
            asyncio.create_task(clerk(r, i).run(), name=f"clerk-{r.agency}")
            for i, r in enumerate(receivers)
        ]
        try:
            yield
        finally:
            for task in clerks:
                task.cancel()
            results = await asyncio.gather(*clerks, return_exceptions=True)
            for task, result in zip(clerks, results, strict=True):
                if isinstance(result, BaseException) and not isinstance(
                    result, asyncio.CancelledError
                ):
                    log.error("clerk_failed", clerk=task.get_name(), error=repr(result))


@dataclass(frozen=True)
class SimulatedBus:
    """A whole bus on this machine: its settings, the router, every agency's sender."""

    settings: Settings
    #: A :class:`RouterProcesses` (a process for each lane) unless the caller brought its own.
    router: Any
    senders: dict[str, Sender]
    #: The senders' shared producer (None without senders).
    producer: Any
    #: What the bus (dead letters) and the receivers refused, by class.
    refusals: RefusalWatch


@contextlib.contextmanager
def bus_home(settings: Settings, directory: Directory) -> Iterator[Settings]:
    """``settings`` with a temporary home holding a key pair for the bus and for every
    agency of ``directory``: what a run's routers, agencies and helpers share."""
    with tempfile.TemporaryDirectory(prefix="docbus-run-") as state:
        settings = settings.replace(home=Path(state))
        Keystore(settings.keys_root).ensure([BUS_AGENCY, *directory.codes()])
        yield settings


@contextlib.asynccontextmanager
async def simulated_bus(
    settings: Settings,
    *,
    directory: Directory,
    codec: Codec,
    codes: list[str],
    ledger: DeliveryLedger,
    clerk: ClerkFactory,
    router: Callable[[Settings], contextlib.AbstractAsyncContextManager[Any]] = RouterProcesses,
    with_senders: bool = True,
    prepared: bool = False,
) -> AsyncIterator[SimulatedBus]:
    """The bus's topics, a router and every agency in ``codes`` with its sender and its
    receiver answering through ``clerk``; state in a temporary folder (:func:`bus_home`).
    ``prepared``: the caller made the topics (``ensure_bus_topics``) and the home
    (:func:`bus_home`) already, and ``settings`` points at that home.

    The router runs in processes of its own, one for each lane, as in production
    (routing by the packaged directory, which ``directory`` should be): an express
    document then waits neither for the simulated agencies' event loop nor for bulk
    records. Fault tests pass ``router``: routers of their own that they kill and restart.
    Without ``with_senders`` (a caller that sends from elsewhere) ``senders`` is empty and
    ``producer`` None: no producer is started for them.
    """
    if not prepared:
        await ensure_bus_topics(settings, directory)
    refusals = RefusalWatch()
    with (
        contextlib.nullcontext(settings) if prepared else bus_home(settings, directory) as settings
    ):
        async with contextlib.AsyncExitStack() as stack:
            running_router, _ = await all_finished(  # each waits seconds to join its groups
                stack.enter_async_context(router(settings)),
                stack.enter_async_context(
                    receiving_agencies(settings, codes, codec, ledger, clerk, refusals)
                ),
            )
            senders: dict[str, Sender] = {}
            if not with_senders:
                yield SimulatedBus(settings, running_router, senders, None, refusals)
                return
            producer = await stack.enter_async_context(shared_producer(settings))
            for code in codes:
                sender = Sender(
                    agency=code,
                    settings=settings,
                    producer=producer,
                    codec=codec,
                    directory=directory,
                )
                senders[code] = await stack.enter_async_context(sender)
            yield SimulatedBus(settings, running_router, senders, producer, refusals)


async def wait_complete(
    ledger: DeliveryLedger,
    timeout_s: float,
    tick: Callable[[], None] | None = None,
    refusals: RefusalWatch | None = None,
) -> bool:
    """Wait until ``ledger`` has all it expects (False on timeout), calling ``tick`` 5 times
    a second; :class:`RunRefused` as soon as ``refusals`` sees a pattern."""
    waiter = asyncio.create_task(ledger.wait_complete(timeout_s))
    try:
        while not waiter.done():
            if tick is not None:
                tick()
            if refusals is not None:
                refusals.check()
            await asyncio.wait([waiter], timeout=0.2)
    finally:
        waiter.cancel()
    if tick is not None:
        tick()
    return waiter.result()

"""The simulated agencies' side of a whole-bus run (the demo, the replay): receivers and clerks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import structlog

from consumers import Receiver
from consumers._simulation import DeliveryLedger
from docbus._kafka import make_producer, start_producer
from docbus._settings import Settings
from schemas import Codec

__all__ = ["Clerk", "ClerkFactory", "receiving_agencies", "shared_producer"]

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
) -> AsyncIterator[None]:
    """Every agency's receiver with its clerk, answering on one shared producer."""
    async with shared_producer(settings) as producer, contextlib.AsyncExitStack() as stack:
        receivers = [
            Receiver(
                agency=code,
                settings=settings,
                codec=codec,
                producer=producer,
                on_notice=ledger.on_notice,
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

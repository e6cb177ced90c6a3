"""A router in a process of its own, as it runs in production: for whole-bus runs on one machine.

The demo and the replay run every simulated agency in one event loop; the router shares
no loop with them here, so an express document waits only for the router's own work.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from multiprocessing.connection import Connection

from docbus._child import HelperProcess, Ready, run_child
from docbus._heap import tune_service_heap
from docbus._logging import configure_logging
from docbus._procfs import status_bytes
from docbus._settings import Settings

__all__ = ["RouterProcess", "RouterTotals"]


@dataclass(frozen=True)
class RouterTotals:
    """What a router process routed before it stopped."""

    documents_routed: int
    deliveries: int
    notices_routed: int
    dead_lettered: int


class RouterProcess:
    """``async with RouterProcess(settings) as router: ...``; ``router.totals`` after the block."""

    def __init__(self, settings: Settings) -> None:
        self._child = HelperProcess(_serve, (settings,), name="docbus-router")
        #: Where the router serves its metrics (with ``settings.metrics_port`` set).
        self.metrics_url: str | None = None
        #: What it routed, once it has stopped.
        self.totals: RouterTotals | None = None

    async def __aenter__(self) -> RouterProcess:
        url = await self._child.start()
        self.metrics_url = url if isinstance(url, str) else None
        return self

    def rss_bytes(self) -> int:
        """The router process's resident memory now (Linux ``VmRSS``), 0 where unknown."""
        return status_bytes(self._child.pid, "VmRSS")

    async def __aexit__(self, *exc: object) -> None:
        totals = await self._child.stop()
        assert isinstance(totals, RouterTotals)
        self.totals = totals


def _serve(conn: Connection, parent_pid: int, settings: Settings) -> None:
    """The child's entry point: a process of its own, so it logs as ``docbus router`` does."""
    configure_logging(settings.log_level)
    run_child(conn, parent_pid, functools.partial(_route, settings))


async def _route(settings: Settings, ready: Ready, stop: asyncio.Event) -> RouterTotals:
    from router import Router  # the child's import: the parent need not load the router

    async with Router(settings=settings) as router:
        tune_service_heap()
        ready(router.metrics_url)
        stopping = asyncio.create_task(stop.wait())
        routing = asyncio.create_task(router.join())
        await asyncio.wait([stopping, routing], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if routing.done():
            routing.result()  # the routing task failed: raised, told to the parent
        routing.cancel()
    stats = router.stats
    return RouterTotals(
        documents_routed=stats.documents_routed,
        deliveries=stats.deliveries,
        notices_routed=stats.notices_routed,
        dead_lettered=stats.dead_lettered,
    )

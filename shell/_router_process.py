"""Routers in processes of their own, as they run in production: for whole-bus runs on one machine.

The demo and the replay run every simulated agency in one event loop; the router shares
no loop with them. :class:`RouterProcesses` goes one step further and gives each lane a
process: an express document then waits for no bulk record at all, and the operating
system, not the bulk lane's yields, gives the nearly idle express process its turn on a
busy machine (benchmarks/express_lane.py, 2026-11-30, router saturated: express p99
488-527 ms with both lanes in one process, 66-74 ms with a process each).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Collection
from dataclasses import astuple, dataclass
from multiprocessing.connection import Connection

from docbus import LANES, Settings, all_finished, configure_logging
from docbus.process import status_bytes, tune_service_heap
from router import Router
from shell._child import HelperProcess, Ready, run_child
from shell._priority import BULK_NICE, lower_process_priority

__all__ = ["RouterProcess", "RouterProcesses", "RouterTotals"]


@dataclass(frozen=True)
class RouterTotals:
    """What a router process routed before it stopped."""

    documents_routed: int
    deliveries: int
    notices_routed: int
    dead_lettered: int

    def __add__(self, other: RouterTotals) -> RouterTotals:
        return RouterTotals(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


class RouterProcess:
    """``async with RouterProcess(settings) as router: ...``; ``router.totals`` after the block."""

    def __init__(self, settings: Settings, lanes: Collection[str] = LANES, nice: int = 0) -> None:
        """``nice``: how many steps below normal the process runs (:mod:`shell._priority`)."""
        name = "docbus-router" if set(lanes) == set(LANES) else f"docbus-router-{'-'.join(lanes)}"
        self._child = HelperProcess(_serve, (settings, tuple(lanes), nice), name=name)
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

    @property
    def cpu_s(self) -> dict[str, float]:
        """CPU seconds the process (and its tracking writer) used, by name, once stopped."""
        return self._child.cpu_by_name

    async def __aexit__(self, *exc: object) -> None:
        totals = await self._child.stop()
        assert isinstance(totals, RouterTotals)
        self.totals = totals


class RouterProcesses:
    """The router as two processes on one broker and tracking store: the express lane in
    one, the bulk lane in the other. ``async with RouterProcesses(settings) as router``;
    ``router.totals`` (both added up) after the block. The bulk process runs ``bulk_nice``
    steps below the express one, which then gets the CPU first on a shared machine."""

    def __init__(self, settings: Settings, bulk_nice: int = BULK_NICE) -> None:
        express_settings = (  # a port of its own, if metrics are served at all
            settings if settings.metrics_port is None else settings.replace(metrics_port=0)
        )
        self.bulk = RouterProcess(settings, lanes=["bulk"], nice=bulk_nice)
        self.express = RouterProcess(express_settings, lanes=["express"])
        self._stack = contextlib.AsyncExitStack()
        #: What both routed, once they have stopped.
        self.totals: RouterTotals | None = None

    @property
    def metrics_url(self) -> str | None:
        """Where the bulk lane's router (every notice, most documents) serves its metrics."""
        return self.bulk.metrics_url

    def rss_bytes(self) -> int:
        """Both processes' resident memory now."""
        return self.bulk.rss_bytes() + self.express.rss_bytes()

    @property
    def cpu_s(self) -> dict[str, float]:
        """CPU seconds each process used, by name, once stopped."""
        return self.bulk.cpu_s | self.express.cpu_s

    async def __aenter__(self) -> RouterProcesses:
        async with contextlib.AsyncExitStack() as stack:
            await all_finished(  # together: each waits about 2 s to join its group
                stack.enter_async_context(self.bulk), stack.enter_async_context(self.express)
            )
            self._stack = stack.pop_all()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()
        assert self.bulk.totals is not None and self.express.totals is not None
        self.totals = self.bulk.totals + self.express.totals


def _serve(
    conn: Connection, parent_pid: int, settings: Settings, lanes: tuple[str, ...], nice: int
) -> None:
    """The child's entry point: a process of its own, so it logs as ``docbus router`` does."""
    lower_process_priority(nice)  # before its threads and its tracking writer start
    configure_logging(settings.log_level)
    run_child(conn, parent_pid, functools.partial(_route, settings, lanes))


async def _route(
    settings: Settings, lanes: tuple[str, ...], ready: Ready, stop: asyncio.Event
) -> RouterTotals:
    async with Router(settings=settings, lanes=lanes) as router:
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

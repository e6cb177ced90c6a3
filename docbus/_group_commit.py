"""Calls to a blocking store in groups: one thread hop and one transaction for many calls.

A receiver answering a fetched batch reads and writes its store for every delivery. Made
one at a time, each call is a hop to the store's thread and back and a transaction of
its own. A :class:`GroupCommit` queues the calls made while the loop runs; the first
queued starts a group at the loop's next turn, and calls made while a group runs in the
thread go together in the next one (group commit, as databases do for their logs). Calls
keep their order, so a read sees every write queued before it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from docbus._threads import KeptThread

__all__ = ["GroupCommit"]

_T = TypeVar("_T")

#: One call of a group, and how it ended: (True, result) or (False, the exception).
_Outcome = tuple[bool, Any]


class GroupCommit:
    """Runs calls in ``thread`` in groups, each group inside one ``transaction()``.

    A call that raises fails alone (its caller gets the exception; the group's other calls
    are committed); a failed commit fails every call of its group.
    """

    def __init__(
        self, thread: KeptThread, transaction: Callable[[], AbstractContextManager[Any]]
    ) -> None:
        self._thread = thread
        self._transaction = transaction
        self._queued: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        self._running: asyncio.Future[list[_Outcome]] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    def call(self, fn: Callable[..., _T], *args: Any) -> asyncio.Future[_T]:
        """Queue ``fn(*args)`` for the next group; a future of its result."""
        loop = asyncio.get_running_loop()
        result: asyncio.Future[_T] = loop.create_future()
        self._queued.append((functools.partial(fn, *args), result))
        self._idle.clear()
        if self._running is None and len(self._queued) == 1:
            loop.call_soon(self._start)  # after this turn: its other calls join the group
        return result

    async def drain(self) -> None:
        """Return once every queued call has run."""
        await self._idle.wait()

    def _start(self) -> None:
        if self._running is not None or not self._queued:
            return
        group, self._queued = self._queued, []
        self._running = self._thread.submit(
            _run_group, [call for call, _ in group], self._transaction
        )
        self._running.add_done_callback(functools.partial(self._finished, group))

    def _finished(
        self,
        group: list[tuple[Callable[[], Any], asyncio.Future[Any]]],
        running: asyncio.Future[list[_Outcome]],
    ) -> None:
        self._running = None
        if running.cancelled():
            outcomes: list[_Outcome] = [(False, asyncio.CancelledError())] * len(group)
        elif (failure := running.exception()) is not None:
            outcomes = [(False, failure)] * len(group)
        else:
            outcomes = running.result()
        for (_, result), (ok, value) in zip(group, outcomes, strict=True):
            if result.done():  # its caller gave up waiting
                continue
            if ok:
                result.set_result(value)
            else:
                result.set_exception(value)
        if self._queued:
            self._start()
        else:
            self._idle.set()


def _run_group(
    calls: list[Callable[[], Any]], transaction: Callable[[], AbstractContextManager[Any]]
) -> list[_Outcome]:
    """In the thread: every call inside one transaction, each call's outcome."""
    outcomes: list[_Outcome] = []
    with transaction():
        for call in calls:
            try:
                outcomes.append((True, call()))
            except Exception as exc:
                outcomes.append((False, exc))
    return outcomes

"""One thread kept for blocking calls that must leave an event loop and stay in order."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["KeptThread"]

_T = TypeVar("_T")


class KeptThread:
    """A single worker thread: calls run one at a time, in the order given, off the loop.

    For a connection that must stay in one thread (SQLite) or whose round trips must not
    hold an event loop (PostgreSQL). :meth:`close` is safe to call twice.
    """

    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._closed = False

    def submit(self, call: Callable[..., _T], *args: Any, **kwargs: Any) -> asyncio.Future[_T]:
        """Queue ``call`` in the thread; a future of the running loop for its result."""
        return asyncio.wrap_future(self._executor.submit(call, *args, **kwargs))

    async def run(self, call: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Run ``call`` in the thread and return its result (or raise what it raised)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(call, *args, **kwargs))

    async def close(self) -> None:
        """Let queued calls finish, then end the thread."""
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._executor.shutdown)

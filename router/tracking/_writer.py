"""A writer process for the tracking store, so that the router's event loop keeps its core.

The router hands each batch's changes (plain values) to a one-worker
:class:`~concurrent.futures.ProcessPoolExecutor` (spawned); the worker builds the rows
and commits them. The worker asks the kernel to kill it when the router dies, so it
never outlives the router (even one killed with SIGKILL).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import pickle
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from docbus import ConfigurationError, DocbusError, RouterError
from docbus.calendar import WorkingCalendar
from docbus.process import die_with_parent, show_process_name, tune_service_heap
from router.tracking._store import TrackingStore, open_store
from router.tracking._tracker import PendingChanges, write_changes

__all__ = ["ProcessWriter"]

_START_TIMEOUT_S = 60.0


class ProcessWriter:
    """Writes tracking changes in a worker process, one batch at a time, in order."""

    def __init__(self, *, dsn: str | None, state_dir: Path) -> None:
        self._dsn = dsn
        self._state_dir = state_dir
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the worker and wait until its store is open (its tables made)."""
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_Worker.start,
            initargs=(os.getpid(), self._dsn, str(self._state_dir)),
        )
        try:
            self._wait(self._pool.submit(_Worker.open_store), _START_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise

    def write(self, changes: PendingChanges) -> None:
        """Have the worker write and commit ``changes``; return once it has (blocking)."""
        self._wait(self._submit(changes), None)

    async def write_async(self, changes: PendingChanges) -> None:
        """:meth:`write` from the event loop: the batch is queued at once, in order, and
        awaited without holding the loop."""
        future = self._submit(changes)
        try:
            await asyncio.wrap_future(future)
        except Exception as exc:
            raise _translated(exc) from exc

    def stop(self) -> None:
        """Let the worker finish what it was given, then end it; safe to call twice."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        with contextlib.suppress(Exception):  # a dead worker has nothing left to close
            pool.submit(_Worker.close_store).result(_START_TIMEOUT_S)
        pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, changes: PendingChanges) -> Future[None]:
        if self._pool is None:
            raise RouterError("the tracking writer is not running")
        try:
            # Pickled here, on the caller's thread: the pool's feeder thread then copies
            # bytes instead of pickling beside the router's loop (they traded the GIL:
            # the router routed 5-8% fewer documents/s, measured with bench router).
            payload = pickle.dumps(changes, protocol=pickle.HIGHEST_PROTOCOL)
            return self._pool.submit(_Worker.write, payload)
        except BrokenProcessPool as exc:
            raise RouterError(f"the tracking writer died: {exc!r}") from exc

    @staticmethod
    def _wait(future: Future[None], timeout: float | None) -> None:
        try:
            future.result(timeout)
        except TimeoutError as exc:
            raise RouterError("the tracking writer did not start") from exc
        except Exception as exc:
            raise _translated(exc) from exc


def _translated(exc: Exception) -> DocbusError:
    """What the worker raised, as the router's error (its own errors pass as they are)."""
    if isinstance(exc, DocbusError):
        return exc
    if isinstance(exc, BrokenProcessPool):
        return RouterError(f"the tracking writer died: {exc!r}")
    return RouterError(f"the tracking writer failed: {exc!r}")


class _Worker:
    """The worker process's one store and calendar.

    A pool worker keeps its state between tasks only in its own module: this class's
    attributes, set in the worker process alone (the router process never sets them).
    """

    dsn: str | None = None
    state_dir: str = ""
    store: TrackingStore | None = None
    calendar: WorkingCalendar | None = None

    @classmethod
    def start(cls, parent_pid: int, dsn: str | None, state_dir: str) -> None:
        """The pool's initializer: die with the router, name the process, tune the heap."""
        die_with_parent(parent_pid)
        show_process_name("tracking-writer")
        tune_service_heap()  # this process's entry point: the same heap settings as the router's
        cls.dsn, cls.state_dir = dsn, state_dir

    @classmethod
    def open_store(cls) -> None:
        """Open the store and load the calendar (ConfigurationError, raised in the router)."""
        if cls.store is None:
            store = open_store(dsn=cls.dsn, state_dir=Path(cls.state_dir))
            try:
                cls.calendar = WorkingCalendar.load()
            except ConfigurationError:
                store.close()
                raise
            cls.store = store

    @classmethod
    def close_store(cls) -> None:
        """Close the store (the pool is about to end this process)."""
        store, cls.store = cls.store, None
        if store is not None:
            store.close()

    @classmethod
    def write(cls, payload: bytes) -> None:
        """Write and commit one batch of changes (pickled)."""
        changes: PendingChanges = pickle.loads(payload)
        cls.open_store()
        assert cls.store is not None and cls.calendar is not None
        write_changes(cls.store, cls.calendar, changes)

"""A writer process for the tracking store, so that the router's event loop keeps its core.

The router sends each batch's changes (plain values) down a pipe; the child builds the
rows and commits them, then answers. The child exits when the pipe closes, so it never
outlives the router (even one killed with SIGKILL).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import pickle
from multiprocessing.connection import Connection
from pathlib import Path

from docbus import ConfigurationError, RouterError
from docbus.calendar import WorkingCalendar
from docbus.process import add_pipe_reader, show_process_name, tune_service_heap
from router.tracking._store import open_store
from router.tracking._tracker import PendingChanges, write_changes

__all__ = ["ProcessWriter"]

_START_TIMEOUT_S = 60.0


class ProcessWriter:
    """Writes tracking changes from a child process; call :meth:`write` from one thread at a time."""

    def __init__(self, *, dsn: str | None, state_dir: Path) -> None:
        self._dsn = dsn
        self._state_dir = state_dir
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._async_lock = asyncio.Lock()

    def start(self) -> None:
        """Start the child and wait until its store is open."""
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_serve,
            args=(child, self._dsn, str(self._state_dir)),
            name="docbus-tracking",
            daemon=True,
        )
        process.start()
        child.close()
        self._conn, self._process = parent, process
        if not parent.poll(_START_TIMEOUT_S):
            self.stop()
            raise RouterError("the tracking writer did not start")
        self._check(parent.recv())

    def write(self, changes: PendingChanges) -> None:
        """Have the child write and commit ``changes``; return once it has (blocking)."""
        if self._conn is None:
            raise RouterError("the tracking writer is not running")
        try:
            self._conn.send(changes)
            reply = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise RouterError(f"the tracking writer died: {exc!r}") from exc
        self._check(reply)

    async def write_async(self, changes: PendingChanges) -> None:
        """:meth:`write` from the event loop, without a thread: pickle, send, await the reply.

        A worker thread per batch cost the router more than the pickling it took off the
        loop (the two threads trade the GIL); the send may block for as long as the
        child takes to read the bytes, which it does at once. Concurrent calls wait their
        turn, in order: the reply is awaited with one reader on the pipe, and a second
        reader would take the first one's place (the router's two lanes hung on it).
        """
        async with self._async_lock:
            await self._write_async(changes)

    async def _write_async(self, changes: PendingChanges) -> None:
        conn = self._conn
        if conn is None:
            raise RouterError("the tracking writer is not running")
        loop = asyncio.get_running_loop()
        replied: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            if not replied.done():
                replied.set_result(None)

        try:
            conn.send_bytes(pickle.dumps(changes, protocol=pickle.HIGHEST_PROTOCOL))
            add_pipe_reader(loop, conn, readable)
            try:
                await replied
            finally:
                loop.remove_reader(conn.fileno())
            reply = conn.recv()
        except (EOFError, OSError) as exc:
            raise RouterError(f"the tracking writer died: {exc!r}") from exc
        self._check(reply)

    def stop(self) -> None:
        """Close the pipe and wait for the child; safe to call twice."""
        conn, self._conn = self._conn, None
        process, self._process = self._process, None
        if conn is not None:
            with contextlib.suppress(OSError, BrokenPipeError):
                conn.send(None)
            conn.close()
        if process is not None:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()

    @staticmethod
    def _check(reply: tuple[str, str]) -> None:
        status, detail = reply
        if status == "config":
            raise ConfigurationError(detail)
        if status != "ok":
            raise RouterError(f"the tracking writer failed: {detail}")


def _serve(conn: Connection, dsn: str | None, state_dir: str) -> None:
    """The child: open the store, then write each batch it is sent until the pipe closes."""
    show_process_name("tracking-writer")
    try:
        store = open_store(dsn=dsn, state_dir=Path(state_dir))
        calendar = WorkingCalendar.load()
    except ConfigurationError as exc:
        conn.send(("config", str(exc)))
        return
    tune_service_heap()  # this process's entry point: the same heap settings as the router's
    conn.send(("ok", ""))
    try:
        while True:
            try:
                changes = conn.recv()
            except EOFError:
                return
            if changes is None:
                return
            try:
                write_changes(store, calendar, changes)
            except Exception as exc:  # the parent decides; this process only reports
                conn.send(("error", repr(exc)))
            else:
                conn.send(("ok", ""))
    finally:
        store.close()

"""A helper process spoken to over a pipe: started, told to stop, its result sent back.

The top process forks its helpers from a fork server that imported docbus's layers once,
so each span of a replay does not pay every helper's imports again. The child is killed
when the process that started it dies (:func:`~docbus.process.die_with_parent`), so a
helper never outlives its run. Protocol: the child sends ``("ready", payload)`` once started; the
parent may then :meth:`HelperProcess.tell` it messages (each handed to the child's
``on_message``), and ``"stop"`` ends it: the child sends ``("done", (result, cpu))``, cpu
being the CPU seconds it and the children it reaped used. A failure anywhere is
``("failed", reason)``, raised in the parent as :class:`ChildFailed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import multiprocessing.forkserver
import os
from collections.abc import Callable, Coroutine
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext
from typing import Any

from docbus import DocbusError
from docbus.process import die_with_parent, lifetime_cpu_seconds, show_process_name

__all__ = ["ChildFailed", "HelperProcess", "Ready", "run_child", "stop_fork_server"]

#: How the child says it is started, with a payload for the parent.
Ready = Callable[[object], None]
#: The child's work: ``main(ready, stop)`` returns the result sent back on stop.
ChildMain = Callable[[Ready, asyncio.Event], Coroutine[Any, Any, object]]

_TIMEOUT_S = 60.0
#: What the fork server imports once, so that a helper forked from it starts with them:
#: the layers below the shell, most of a helper's start-up (0.7-0.9 s of CPU each).
_PRELOAD = ("docbus", "schemas", "router", "producers.simulation", "consumers.simulation")


def _context() -> SpawnContext | ForkServerContext:
    """The top process forks its helpers from its fork server (started once, with
    :data:`_PRELOAD` imported); a helper spawns its own helpers. A forked helper has the
    server's environment and folder, as they were when it started: helpers take what
    they need (their settings) as arguments."""
    if multiprocessing.parent_process() is not None:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(_PRELOAD))
    return context


def stop_fork_server() -> None:
    """End this process's fork server, if one runs, and wait for it; call it only when
    no helper it forked is still running (they die with it).

    The helpers are the server's children, not this process's: their CPU joins this
    process's reaped children (``RUSAGE_CHILDREN``, what :class:`~docbus.process.CpuMeter`
    reads) only once the server is reaped. A later helper starts a new server.
    """
    server = multiprocessing.forkserver._forkserver  # no public way to stop it
    getattr(server, "_stop", lambda: None)()


class ChildFailed(DocbusError):
    """A helper process failed to start, failed while working, or did not answer."""


class HelperProcess:
    """A child process running ``target(conn, parent_pid, *args)`` (which calls :func:`run_child`)."""

    def __init__(self, target: Callable[..., None], args: tuple[object, ...], name: str) -> None:
        self._target, self._args, self.name = target, args, name
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        #: CPU seconds the child (and the processes it reaped) used, once it has stopped.
        self.cpu_s: float | None = None

    @property
    def cpu_by_name(self) -> dict[str, float]:
        """``{name: CPU seconds}`` once the child has stopped; empty before."""
        return {} if self.cpu_s is None else {self.name: self.cpu_s}

    @property
    def alive(self) -> bool:
        """Whether the child is started and its process still runs."""
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        """The child's process id, once started."""
        return None if self._process is None else self._process.pid

    async def start(self) -> object:
        """Start the child; return what it sent when ready."""
        context = _context()
        parent, child = context.Pipe()
        self._process = context.Process(
            target=self._target, args=(child, os.getpid(), *self._args), name=self.name
        )
        self._process.start()
        child.close()
        self._conn = parent
        try:
            return await self._answer("ready")
        except BaseException:
            await self._end()
            raise

    def tell(self, message: object) -> None:
        """Send ``message`` to the started child's ``on_message`` (picklable; not ``"stop"``)."""
        if self._conn is None:
            raise ChildFailed(f"{self.name} is not running")
        self._conn.send(message)

    async def stop(self) -> object:
        """Tell the child to stop; return its result (or raise why it failed)."""
        conn = self._conn
        if conn is None:
            raise ChildFailed(f"{self.name} is not running")
        try:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send("stop")
            done = await self._answer("done")
            assert isinstance(done, tuple)
            result, self.cpu_s = done
            return result
        finally:
            await self._end()

    async def _answer(self, expected: str) -> object:
        assert self._conn is not None
        kind, payload = await asyncio.to_thread(_receive, self._conn)
        if kind != expected:
            raise ChildFailed(f"{self.name}: {payload}")
        return payload

    async def _end(self) -> None:
        """Close the pipe and reap the child, killing it if it outstays the timeout."""
        conn, self._conn = self._conn, None
        process, self._process = self._process, None
        if conn is not None:
            conn.close()
        if process is not None:
            await asyncio.to_thread(process.join, _TIMEOUT_S)
            if process.is_alive():
                process.kill()
                await asyncio.to_thread(process.join)


def _receive(conn: Connection) -> tuple[str, object]:
    if not conn.poll(_TIMEOUT_S):
        return ("failed", f"no answer within {_TIMEOUT_S:g} s")
    try:
        reply: tuple[str, object] = conn.recv()
    except EOFError:
        return ("failed", "the process ended without a word (see its log)")
    return reply


def run_child(
    conn: Connection,
    parent_pid: int,
    main: ChildMain,
    on_message: Callable[[object], None] | None = None,
) -> None:
    """In the child: run ``main`` until told to stop, handing the parent's other messages
    to ``on_message``; send back its result or its failure."""
    die_with_parent(parent_pid)
    show_process_name(multiprocessing.current_process().name)

    async def serve() -> object:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def told() -> None:
            try:
                message = conn.recv()
            except EOFError:  # the parent closed the pipe: as good as told to stop
                message = "stop"
            if message != "stop" and on_message is not None:
                on_message(message)
                return
            loop.remove_reader(conn.fileno())
            stop.set()

        loop.add_reader(conn.fileno(), told)
        try:
            return await main(lambda payload: conn.send(("ready", payload)), stop)
        finally:
            loop.remove_reader(conn.fileno())

    try:
        result = asyncio.run(serve())
    except Exception as exc:  # told to the parent, which raises it
        conn.send(("failed", repr(exc)))
    else:
        conn.send(("done", (result, lifetime_cpu_seconds())))

"""Watching a multiprocessing pipe from an event loop without changing how it reads and writes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from multiprocessing.connection import Connection

__all__ = ["add_pipe_reader"]


def add_pipe_reader(
    loop: asyncio.AbstractEventLoop, conn: Connection, callback: Callable[[], None]
) -> None:
    """Call ``callback`` when ``conn`` is readable, with ``conn`` left blocking.

    A :class:`Connection` sends and receives whole messages only on a blocking pipe.
    uvloop's ``add_reader`` makes the descriptor non-blocking, and a message larger than
    the pipe's buffer then fails half-way with EAGAIN (the router's tracking writer died
    of it); asyncio's own loop leaves the descriptor as it was.
    """
    loop.add_reader(conn.fileno(), callback)
    os.set_blocking(conn.fileno(), True)

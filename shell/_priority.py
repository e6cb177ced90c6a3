"""CPU priority where the bus shares its cores: bulk work gives way to the broker and the
express lane.

On two cores the simulated agencies, the bulk lane, the broker and the express lane all
want the CPU at once. The embedded broker's cost per fetch grows with a partition's
length, and over a full-scale replay its share of the CPU went from 45% to 79%; an
express document then queued behind bulk traffic at every hop (BENCHMARKS.md). Running
bulk work at a lower priority (a higher ``nice``) lets the scheduler hand the broker and
the express lane the cores first, as a machine of their own would.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

import structlog

__all__ = ["BULK_NICE", "lower_process_priority", "thread_at_lower_priority"]

log = structlog.get_logger("docbus.priority")

#: How many nice steps bulk work runs below the broker and the express lane.
BULK_NICE = 10


def lower_process_priority(increment: int) -> None:
    """Lower this whole process's priority by ``increment`` nice steps (any user may).

    For a child process at its start: threads and processes it starts later inherit it.
    """
    if increment:
        os.nice(increment)


@contextlib.contextmanager
def thread_at_lower_priority(increment: int) -> Iterator[None]:
    """Run the calling thread ``increment`` nice steps lower for the block (Linux: a nice
    value is a thread's own; elsewhere nothing changes), then restore it.

    Processes started from the thread meanwhile inherit the lower priority. Raising it
    back needs root or a ``RLIMIT_NICE`` that allows it; where it is refused, the thread
    stays lower and says so in the log.
    """
    if not sys.platform.startswith("linux") or not increment:
        yield
        return
    thread = threading.get_native_id()
    before = os.getpriority(os.PRIO_PROCESS, thread)
    os.setpriority(os.PRIO_PROCESS, thread, before + increment)
    try:
        yield
    finally:
        try:
            os.setpriority(os.PRIO_PROCESS, thread, before)
        except PermissionError:
            log.warning("priority_not_restored", nice=before + increment, wanted=before)

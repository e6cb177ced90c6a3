"""A child process that never outlives its parent."""

from __future__ import annotations

import ctypes
import os
import select
import signal
import sys
import threading

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """In a child of ``parent_pid``: be killed (SIGKILL) when it dies, and exit at once if
    it died already.

    The kernel kills a child when the process that forked it dies (Linux). A child forked
    by a fork server on ``parent_pid``'s behalf has the server for a parent, and the
    server outlives ``parent_pid`` while any child it forked runs: so such a child also
    watches ``parent_pid`` from a thread, which kills it even if its event loop hangs.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == parent_pid:
        return
    try:
        parent = os.pidfd_open(parent_pid)
    except ProcessLookupError:
        os._exit(1)
    threading.Thread(
        target=_kill_self_when_readable, args=(parent,), name="docbus-parent-watch", daemon=True
    ).start()


def _kill_self_when_readable(pidfd: int) -> None:
    """Block until process ``pidfd`` ends (its descriptor turns readable); then SIGKILL."""
    select.select([pidfd], [], [])
    os.kill(os.getpid(), signal.SIGKILL)

"""Tests for shell._priority: bulk work runs below the broker and the express lane."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from shell._priority import thread_at_lower_priority

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux nice")


def _nice(pid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, pid)


@pytest.mark.skipif(os.geteuid() != 0, reason="raising a priority back needs root")
def test_the_thread_runs_lower_in_the_block_and_what_it_starts_inherits_it() -> None:
    """Inside: this thread 10 steps lower and a process started there too, while another
    thread of the process keeps its own; after: back where it was."""
    thread = threading.get_native_id()
    before = _nice(thread)
    others: list[int] = []
    started, finish = threading.Event(), threading.Event()

    def wait_in_another_thread() -> None:
        others.append(threading.get_native_id())
        started.set()
        finish.wait(10)

    other = threading.Thread(target=wait_in_another_thread)
    other.start()
    started.wait(10)
    try:
        with thread_at_lower_priority(10):
            assert _nice(thread) == before + 10
            assert _nice(others[0]) == before
            child = subprocess.Popen(["sleep", "5"])
            try:
                assert _nice(child.pid) == before + 10
            finally:
                child.kill()
                child.wait()
    finally:
        finish.set()
        other.join()
    assert _nice(thread) == before

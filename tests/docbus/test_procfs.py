"""Tests for docbus.process._procfs: a process's memory and CPU time as /proc shows them."""

from __future__ import annotations

import os
import time

import pytest

from docbus.process import cpu_seconds, status_bytes


def test_cpu_seconds_grow_with_work_done() -> None:
    """A process's CPU seconds grow by about the CPU time it spends, and agree with the
    kernel's own count for this process."""
    before = cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    after = cpu_seconds(os.getpid())
    assert after - before == pytest.approx(0.3, abs=0.05)
    assert after == pytest.approx(time.process_time(), abs=0.05)


def test_cpu_seconds_of_a_gone_process_is_an_error() -> None:
    """Asking for a process that does not exist raises rather than answering 0."""
    with pytest.raises(FileNotFoundError):
        cpu_seconds(2**22 + 1)


def test_status_bytes_reads_resident_memory() -> None:
    """VmRSS of this process is some megabytes; an unknown process or field reads 0."""
    assert status_bytes(os.getpid(), "VmRSS") > 10 * 1024 * 1024
    assert status_bytes(None, "VmRSS") == 0
    assert status_bytes(os.getpid(), "NoSuchField") == 0

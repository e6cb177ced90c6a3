"""Tests for docbus._threads: one kept thread, calls in order, off the event loop."""

from __future__ import annotations

import threading

import pytest

from docbus import KeptThread


async def test_calls_run_in_order_in_one_thread_that_is_not_the_loops() -> None:
    """Queued and awaited calls run one at a time, in order, in the same other thread."""
    thread = KeptThread("test-kept")
    seen: list[tuple[int, int]] = []
    queued = [thread.submit(lambda n=n: seen.append((n, threading.get_ident()))) for n in range(5)]
    await thread.run(lambda: seen.append((5, threading.get_ident())))
    for future in queued:
        await future
    await thread.close()
    await thread.close()  # safe twice
    assert [n for n, _ in seen] == [0, 1, 2, 3, 4, 5]
    assert len({ident for _, ident in seen}) == 1
    assert seen[0][1] != threading.get_ident()


async def test_a_failing_call_raises_its_error_and_the_thread_goes_on() -> None:
    """What the call raises reaches the awaiting caller; the next call still runs."""
    thread = KeptThread("test-kept")
    with pytest.raises(ZeroDivisionError):
        await thread.run(lambda: 1 // 0)
    assert await thread.run(lambda: 42) == 42
    await thread.close()

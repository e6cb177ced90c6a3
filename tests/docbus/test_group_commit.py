"""Tests for docbus._group_commit: calls to a store in groups, one transaction each."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

import pytest

from docbus import GroupCommit, KeptThread


class _Journal:
    """A store that notes each call inside the transaction it ran in."""

    def __init__(self, *, fail_commit: bool = False) -> None:
        self.transactions: list[list[str]] = []
        self.threads: set[int] = set()
        self.fail_commit = fail_commit
        self.gate = threading.Event()
        self.gate.set()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.transactions.append([])
        yield
        if self.fail_commit:
            raise OSError("disk full")

    def note(self, what: str) -> str:
        self.gate.wait(10)
        self.threads.add(threading.get_ident())
        self.transactions[-1].append(what)
        return what.upper()

    def fail(self, what: str) -> None:
        self.transactions[-1].append(what)
        raise ValueError(what)


async def test_calls_made_in_one_turn_run_in_one_transaction_in_order() -> None:
    """Ten calls made together: one group, in the order made, off the loop; each caller
    gets its own result."""
    journal, thread = _Journal(), KeptThread("test-group")
    store = GroupCommit(thread, journal.transaction)
    results = await asyncio.gather(*(store.call(journal.note, f"c{n}") for n in range(10)))
    assert results == [f"C{n}" for n in range(10)]
    assert journal.transactions == [[f"c{n}" for n in range(10)]]
    assert threading.get_ident() not in journal.threads
    await thread.close()


async def test_calls_made_while_a_group_runs_go_together_in_the_next() -> None:
    """While the thread commits one group, what is asked meanwhile waits and then goes
    as one group: two transactions for 1 + 5 calls, not six."""
    journal, thread = _Journal(), KeptThread("test-group")
    store = GroupCommit(thread, journal.transaction)
    journal.gate.clear()  # the first group holds the thread
    first = store.call(journal.note, "first")
    await asyncio.sleep(0.05)  # the first group is in the thread now
    later = [store.call(journal.note, f"later{n}") for n in range(5)]
    journal.gate.set()
    await asyncio.gather(first, *later)
    assert journal.transactions == [["first"], [f"later{n}" for n in range(5)]]
    await store.drain()
    await thread.close()


async def test_a_failing_call_fails_alone_and_a_failed_commit_fails_its_group() -> None:
    """A call that raises reaches its own caller; the others of its group are committed.
    A commit that fails reaches every caller of its group; the next group runs."""
    journal, thread = _Journal(), KeptThread("test-group")
    store = GroupCommit(thread, journal.transaction)
    good, bad = store.call(journal.note, "good"), store.call(journal.fail, "bad")
    assert await good == "GOOD"
    with pytest.raises(ValueError, match="bad"):
        await bad
    journal.fail_commit = True
    lost = [store.call(journal.note, "a"), store.call(journal.note, "b")]
    for call in lost:
        with pytest.raises(OSError, match="disk full"):
            await call
    journal.fail_commit = False
    assert await store.call(journal.note, "after") == "AFTER"
    assert journal.transactions == [["good", "bad"], ["a", "b"], ["after"]]
    await thread.close()


async def test_a_caller_that_gives_up_leaves_the_group_to_run() -> None:
    """A cancelled wait does not cancel the call: it is still made, with its group's."""
    journal, thread = _Journal(), KeptThread("test-group")
    store = GroupCommit(thread, journal.transaction)
    journal.gate.clear()
    abandoned = store.call(journal.note, "abandoned")
    kept = store.call(journal.note, "kept")
    await asyncio.sleep(0.05)
    abandoned.cancel()
    journal.gate.set()
    assert await kept == "KEPT"
    await store.drain()
    assert journal.transactions == [["abandoned", "kept"]]
    await thread.close()

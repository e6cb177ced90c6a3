"""Tests for consumers._dedupe: the durable record of handled deliveries."""

from __future__ import annotations

from pathlib import Path

from consumers import SqliteDedupeStore
from schemas import DeliveryState


def test_marked_keys_are_handled_and_survive_a_reopen(tmp_path: Path) -> None:
    """A marked delivery is reported handled, also after the store is closed and reopened."""
    path = tmp_path / "d" / "dedupe.sqlite"
    store = SqliteDedupeStore(path)
    store.remember({}, [("doc-1", "000.00.00.H29")])
    store.remember({}, [("doc-1", "000.00.00.H29")])  # idempotent
    assert store.handled([("doc-1", "000.00.00.H29"), ("doc-1", "000.00.00.G12")]) == {
        ("doc-1", "000.00.00.H29")
    }
    store.close()
    store.close()
    reopened = SqliteDedupeStore(path)
    assert reopened.count() == 1
    assert reopened.handled([("doc-1", "000.00.00.H29")]) == {("doc-1", "000.00.00.H29")}
    reopened.close()


def test_large_lookups_are_chunked(tmp_path: Path) -> None:
    """Looking up more keys than SQLite's parameter limit still works."""
    store = SqliteDedupeStore(":memory:")
    store.remember({}, [(f"d{n}", "r") for n in range(0, 2000, 2)])
    found = store.handled((f"d{n}", "r") for n in range(2000))
    assert len(found) == 1000
    store.close()


def _lookup_steps(store: SqliteDedupeStore, keys: list[tuple[str, str]]) -> int:
    """SQLite virtual-machine steps (in hundreds) that ``store.handled(keys)`` takes."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    db = store._conn()
    db.set_progress_handler(count, 100)
    try:
        store.handled(keys)
    finally:
        db.set_progress_handler(None, 100)
    return steps


def test_a_lookup_costs_the_same_in_a_small_and_a_large_store(tmp_path: Path) -> None:
    """A receiver asks about every fetched batch for the life of the agency's store: the
    lookup follows the primary key, so its work does not grow with the deliveries kept."""
    store = SqliteDedupeStore(tmp_path / "dedupe.sqlite")
    asked = [(f"doc-{n}", "000.00.00.H29") for n in range(0, 100, 2)] + [("new", "r")]
    store.remember({}, [(f"doc-{n}", "000.00.00.H29") for n in range(1_000)])
    small = _lookup_steps(store, asked)
    store.remember({}, [(f"doc-{n}", "000.00.00.H29") for n in range(1_000, 40_000)])
    large = _lookup_steps(store, asked)
    assert store.handled(asked) == set(asked[:-1])
    assert large <= 2 * small + 2, (small, large)
    store.close()


def test_states_are_read_and_written_a_batch_at_a_time(tmp_path: Path) -> None:
    """A delivery never set reads as ``DeliveryState()``; states written together read back
    together, a later write replaces an earlier one, and a state alone marks nothing."""
    store = SqliteDedupeStore(tmp_path / "dedupe.sqlite")
    a, b, c = ("doc-a", "000.00.00.H29"), ("doc-b", "000.00.00.H29"), ("doc-a", "000.00.00.G12")
    assert store.states([a, b]) == {a: DeliveryState(), b: DeliveryState()}
    store.remember({a: DeliveryState("01"), b: DeliveryState("01")}, [])
    store.remember({a: DeliveryState("03", recall="13")}, [a])
    assert store.states([a, b, c]) == {
        a: DeliveryState("03", recall="13"),
        b: DeliveryState("01"),
        c: DeliveryState(),
    }
    assert store.handled([a, b, c]) == {a}
    many = [(f"doc-{n}", "r") for n in range(1000)]
    store.remember(dict.fromkeys(many, DeliveryState("06")), many)
    assert set(store.states(many).values()) == {DeliveryState("06")}
    store.close()

"""Tests for consumers._dedupe: the durable record of handled deliveries."""

from __future__ import annotations

from pathlib import Path

from consumers import SqliteDedupeStore


def test_marked_keys_are_handled_and_survive_a_reopen(tmp_path: Path) -> None:
    """A marked delivery is reported handled, also after the store is closed and reopened."""
    path = tmp_path / "d" / "dedupe.sqlite"
    store = SqliteDedupeStore(path)
    store.mark_handled(("doc-1", "000.00.00.H29"))
    store.mark_handled(("doc-1", "000.00.00.H29"))  # idempotent
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
    for n in range(0, 2000, 2):
        store.mark_handled((f"d{n}", "r"))
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
    with store.transaction():
        for n in range(1_000):
            store.mark_handled((f"doc-{n}", "000.00.00.H29"))
    small = _lookup_steps(store, asked)
    with store.transaction():
        for n in range(1_000, 40_000):
            store.mark_handled((f"doc-{n}", "000.00.00.H29"))
    large = _lookup_steps(store, asked)
    assert store.handled(asked) == set(asked[:-1])
    assert large <= 2 * small + 2, (small, large)
    store.close()

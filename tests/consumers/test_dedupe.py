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

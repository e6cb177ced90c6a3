"""The receiver's durable memory, keyed by (document id, recipient): handled, and lifecycle state."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from docbus import open_shared_sqlite
from schemas import DeliveryState

__all__ = ["DedupeKey", "DedupeStore", "SqliteDedupeStore"]

#: ``(document_id, recipient code)``: one delivery.
DedupeKey = tuple[str, str]


class DedupeStore(Protocol):
    """Where a receiver remembers which deliveries its application has handled.

    The receiver calls it from one thread of its own, one call at a time and never from
    its event loop, so an implementation may block (a file, a database round trip).
    """

    def handled(self, keys: Iterable[DedupeKey]) -> set[DedupeKey]:
        """Those of ``keys`` already handled."""
        ...

    def mark_handled(self, key: DedupeKey) -> None:
        """Remember ``key`` as handled, durably (at once, or inside :meth:`transaction`
        when it exits)."""
        ...

    def state(self, key: DedupeKey) -> DeliveryState:
        """The delivery's lifecycle state as this receiver last set it."""
        ...

    def set_state(self, key: DedupeKey, state: DeliveryState) -> None:
        """Remember the delivery's lifecycle state, durably (as :meth:`mark_handled`)."""
        ...

    def transaction(self) -> AbstractContextManager[object]:
        """A context in which the receiver makes a group of calls (a fetched batch's
        reads, marks and states): durable together when it exits."""
        ...

    def close(self) -> None:
        """Release the store; safe to call twice."""
        ...


class SqliteDedupeStore:
    """A :class:`DedupeStore` in one SQLite file (WAL; survives a process crash)."""

    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Opened, used and closed in the receiver's store thread; tools may read it too.
        self._db: sqlite3.Connection | None = open_shared_sqlite(path, autocommit=True)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS handled ("
            " document_id TEXT NOT NULL, recipient TEXT NOT NULL,"
            " handled_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ')),"
            " PRIMARY KEY (document_id, recipient)) WITHOUT ROWID"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS states ("
            " document_id TEXT NOT NULL, recipient TEXT NOT NULL, status TEXT, recall TEXT,"
            " PRIMARY KEY (document_id, recipient)) WITHOUT ROWID"
        )

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise sqlite3.ProgrammingError("dedupe store is closed")
        return self._db

    def handled(self, keys: Iterable[DedupeKey]) -> set[DedupeKey]:
        """Those of ``keys`` already handled: one query per 400 keys, each key found by the
        primary key (a row-value ``IN (VALUES …)`` would scan the whole table each time)."""
        wanted = list(dict.fromkeys(keys))
        found: set[DedupeKey] = set()
        db = self._conn()
        for start in range(0, len(wanted), 400):
            chunk = wanted[start : start + 400]
            placeholders = ",".join("(?,?)" for _ in chunk)
            params = [part for key in chunk for part in key]
            rows = db.execute(
                f"SELECT h.document_id, h.recipient FROM (VALUES {placeholders}) AS k"
                " JOIN handled AS h ON h.document_id = k.column1 AND h.recipient = k.column2",
                params,
            )
            found.update((row[0], row[1]) for row in rows)
        return found

    def mark_handled(self, key: DedupeKey) -> None:
        """Remember ``key`` (committed before returning, or with its transaction)."""
        self._conn().execute(
            "INSERT OR IGNORE INTO handled (document_id, recipient) VALUES (?, ?)", key
        )

    def state(self, key: DedupeKey) -> DeliveryState:
        """The delivery's lifecycle state (nothing yet: ``DeliveryState()``)."""
        row = (
            self._conn()
            .execute(
                "SELECT status, recall FROM states WHERE document_id = ? AND recipient = ?", key
            )
            .fetchone()
        )
        return DeliveryState() if row is None else DeliveryState(row[0], row[1])

    def set_state(self, key: DedupeKey, state: DeliveryState) -> None:
        """Remember the delivery's lifecycle state (committed before returning, or with
        its transaction)."""
        self._conn().execute(
            "INSERT INTO states (document_id, recipient, status, recall) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (document_id, recipient) DO UPDATE SET status = excluded.status,"
            " recall = excluded.recall",
            (*key, state.status, state.recall),
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction for the calls made inside (``BEGIN IMMEDIATE``: another
        process's receiver of the agency waits for it rather than failing midway)."""
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def count(self) -> int:
        """How many deliveries are remembered."""
        return int(self._conn().execute("SELECT count(*) FROM handled").fetchone()[0])

    def close(self) -> None:
        """Close the database; safe to call twice."""
        if self._db is not None:
            self._db.close()
            self._db = None

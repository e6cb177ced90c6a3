"""The receiver's durable memory, keyed by (document id, recipient): handled, and lifecycle state."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

from docbus import open_shared_sqlite
from schemas import DeliveryState

__all__ = ["DedupeKey", "DedupeStore", "SqliteDedupeStore"]

#: ``(document_id, recipient code)``: one delivery.
DedupeKey = tuple[str, str]


class DedupeStore(Protocol):
    """Where a receiver remembers which deliveries its application has handled.

    Every call takes a batch: a receiver reads and writes the deliveries of a fetched
    batch together, so a store across a network costs a round trip a batch, not one a
    document. The receiver calls it from one thread of its own, one call at a time and
    never from its event loop, so an implementation may block (a file, a database).
    """

    def handled(self, keys: Iterable[DedupeKey]) -> set[DedupeKey]:
        """Those of ``keys`` already handled."""
        ...

    def states(self, keys: Iterable[DedupeKey]) -> dict[DedupeKey, DeliveryState]:
        """Each delivery's lifecycle state as this receiver last set it
        (``DeliveryState()`` for one it never set)."""
        ...

    def remember(
        self, states: Mapping[DedupeKey, DeliveryState], handled: Iterable[DedupeKey]
    ) -> None:
        """Remember each delivery's new lifecycle state and mark ``handled`` as handled
        (idempotent), durably: at once, or inside :meth:`transaction` when it exits."""
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
        """Those of ``keys`` already handled (one query per 400 keys)."""
        return {(row[0], row[1]) for row in self._rows("handled", "", keys)}

    def states(self, keys: Iterable[DedupeKey]) -> dict[DedupeKey, DeliveryState]:
        """Each delivery's lifecycle state (``DeliveryState()`` for one never set; one
        query per 400 keys)."""
        wanted = dict.fromkeys(keys, DeliveryState())
        for row in self._rows("states", ", t.status, t.recall", wanted):
            wanted[(row[0], row[1])] = DeliveryState(row[2], row[3])
        return wanted

    def remember(
        self, states: Mapping[DedupeKey, DeliveryState], handled: Iterable[DedupeKey]
    ) -> None:
        """Write ``states`` and mark ``handled`` (committed before returning, or with
        its transaction)."""
        db = self._conn()
        if states:
            db.executemany(
                "INSERT INTO states (document_id, recipient, status, recall) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (document_id, recipient) DO UPDATE SET status = excluded.status,"
                " recall = excluded.recall",
                [(*key, state.status, state.recall) for key, state in states.items()],
            )
        db.executemany(
            "INSERT OR IGNORE INTO handled (document_id, recipient) VALUES (?, ?)", handled
        )

    def _rows(self, table: str, columns: str, keys: Iterable[DedupeKey]) -> Iterator[Any]:
        """The rows of ``table`` for ``keys``, each found by its primary key (a row-value
        ``IN (VALUES …)`` would scan the whole table each time); 400 keys a query."""
        wanted = list(dict.fromkeys(keys))
        db = self._conn()
        for start in range(0, len(wanted), 400):
            chunk = wanted[start : start + 400]
            placeholders = ",".join("(?,?)" for _ in chunk)
            yield from db.execute(
                f"SELECT t.document_id, t.recipient{columns} FROM (VALUES {placeholders}) AS k"
                f" JOIN {table} AS t ON t.document_id = k.column1 AND t.recipient = k.column2",
                [part for key in chunk for part in key],
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

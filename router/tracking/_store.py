"""The durable tracking store: SQLite embedded by default, PostgreSQL when a DSN is given.

Times are stored as UTC ISO-8601 text with microseconds, so they compare as strings in
both databases. Writes join one transaction until :meth:`commit`, so the router pays
one commit per batch.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from docbus._exceptions import ConfigurationError

__all__ = [
    "DeliveryRow",
    "DocumentRow",
    "HistoryRow",
    "SqlTrackingStore",
    "TrackingStore",
    "iso",
    "open_store",
]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS documents (
        document_id TEXT PRIMARY KEY, sender TEXT NOT NULL, code TEXT NOT NULL,
        subject TEXT NOT NULL, priority INTEGER NOT NULL, sent_at TEXT NOT NULL,
        business_type INTEGER NOT NULL, related_document_id TEXT,
        effect TEXT, effect_by TEXT)""",
    """CREATE TABLE IF NOT EXISTS deliveries (
        document_id TEXT NOT NULL, recipient TEXT NOT NULL, agency TEXT NOT NULL,
        status TEXT, recall TEXT, deadline TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (document_id, recipient))""",
    "CREATE INDEX IF NOT EXISTS deliveries_deadline ON deliveries (deadline)",
    """CREATE TABLE IF NOT EXISTS history (
        document_id TEXT NOT NULL, recipient TEXT NOT NULL, seq INTEGER NOT NULL,
        code TEXT NOT NULL, at TEXT NOT NULL, by_agency TEXT NOT NULL, description TEXT NOT NULL,
        PRIMARY KEY (document_id, recipient, seq))""",
)
_TABLES = ("history", "deliveries", "documents")


def iso(moment: dt.datetime) -> str:
    """``moment`` as stored: UTC, ISO-8601, microseconds."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """A tracked document."""

    document_id: str
    sender: str
    code: str
    subject: str
    priority: int
    sent_at: str
    business_type: int
    related_document_id: str | None = None
    effect: str | None = None
    effect_by: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One status a delivery went through."""

    code: str
    at: str
    by_agency: str
    description: str


@dataclass(slots=True)
class DeliveryRow:
    """One delivery's latest state, deadline and history."""

    document_id: str
    recipient: str
    agency: str
    status: str | None
    recall: str | None
    deadline: str
    updated_at: str
    history: list[HistoryRow] = field(default_factory=list)


class TrackingStore(Protocol):
    """Where tracking lives; every write joins the open transaction until ``commit``."""

    def add_document(self, doc: DocumentRow, deliveries: Sequence[DeliveryRow]) -> None: ...
    def set_effect(self, document_id: str, effect: str, by: str) -> None: ...
    def record(self, delivery: DeliveryRow, entry: HistoryRow) -> None: ...
    def document(self, document_id: str) -> DocumentRow | None: ...
    def delivery(self, document_id: str, recipient: str) -> DeliveryRow | None: ...
    def deliveries(self, document_id: str) -> list[DeliveryRow]: ...
    def overdue(self, now: dt.datetime, agency: str | None = None) -> list[DeliveryRow]: ...
    def commit(self) -> None: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...


class SqlTrackingStore:
    """A :class:`TrackingStore` over a DB-API connection (sqlite3 or psycopg)."""

    def __init__(self, connection: Any, *, placeholder: str = "?") -> None:
        self._db = connection
        self._ph = placeholder
        cursor = self._db.cursor()
        for statement in _SCHEMA:
            cursor.execute(statement)
        self._db.commit()

    def _sql(self, statement: str) -> str:
        return statement if self._ph == "?" else statement.replace("?", self._ph)

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        cursor = self._db.cursor()
        cursor.execute(self._sql(statement), params)
        return cursor

    def _executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.cursor().executemany(self._sql(statement), list(rows))

    def add_document(self, doc: DocumentRow, deliveries: Sequence[DeliveryRow]) -> None:
        """Record a routed document and its deliveries (again: no change)."""
        self._execute(
            "INSERT INTO documents (document_id, sender, code, subject, priority, sent_at,"
            " business_type, related_document_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (document_id) DO NOTHING",
            (
                doc.document_id,
                doc.sender,
                doc.code,
                doc.subject,
                doc.priority,
                doc.sent_at,
                doc.business_type,
                doc.related_document_id,
            ),
        )
        self._executemany(
            "INSERT INTO deliveries (document_id, recipient, agency, status, recall, deadline,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (document_id, recipient) DO NOTHING",
            [
                (d.document_id, d.recipient, d.agency, d.status, d.recall, d.deadline, d.updated_at)
                for d in deliveries
            ],
        )

    def set_effect(self, document_id: str, effect: str, by: str) -> None:
        """Mark a document revoked, updated or replaced by another."""
        self._execute(
            "UPDATE documents SET effect = ?, effect_by = ? WHERE document_id = ?",
            (effect, by, document_id),
        )

    def record(self, delivery: DeliveryRow, entry: HistoryRow) -> None:
        """Save a delivery's new state and append ``entry`` to its history."""
        self._execute(
            "UPDATE deliveries SET status = ?, recall = ?, updated_at = ?"
            " WHERE document_id = ? AND recipient = ?",
            (
                delivery.status,
                delivery.recall,
                delivery.updated_at,
                delivery.document_id,
                delivery.recipient,
            ),
        )
        self._execute(
            "INSERT INTO history (document_id, recipient, seq, code, at, by_agency, description)"
            " SELECT ?, ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM history"
            " WHERE document_id = ? AND recipient = ?",
            (
                delivery.document_id,
                delivery.recipient,
                entry.code,
                entry.at,
                entry.by_agency,
                entry.description,
                delivery.document_id,
                delivery.recipient,
            ),
        )

    def document(self, document_id: str) -> DocumentRow | None:
        """The tracked document, if any."""
        row = self._execute(
            "SELECT document_id, sender, code, subject, priority, sent_at, business_type,"
            " related_document_id, effect, effect_by FROM documents WHERE document_id = ?",
            (document_id,),
        ).fetchone()
        return None if row is None else DocumentRow(*row)

    def delivery(self, document_id: str, recipient: str) -> DeliveryRow | None:
        """One delivery with its history."""
        found = self._deliveries(
            "WHERE d.document_id = ? AND d.recipient = ?", (document_id, recipient)
        )
        return found[0] if found else None

    def deliveries(self, document_id: str) -> list[DeliveryRow]:
        """Every delivery of a document, with histories."""
        return self._deliveries("WHERE d.document_id = ?", (document_id,))

    def overdue(self, now: dt.datetime, agency: str | None = None) -> list[DeliveryRow]:
        """Deliveries past their deadline and neither accepted, rejected nor recalled."""
        condition = (
            "WHERE d.deadline < ? AND (d.status IS NULL OR d.status = '01')"
            " AND (d.recall IS NULL OR d.recall <> '15')"
        )
        params: list[Any] = [iso(now)]
        if agency is not None:
            condition += " AND d.agency = ?"
            params.append(agency)
        return self._deliveries(condition, params)

    def _deliveries(self, condition: str, params: Sequence[Any]) -> list[DeliveryRow]:
        rows = self._execute(
            "SELECT d.document_id, d.recipient, d.agency, d.status, d.recall, d.deadline, d.updated_at"
            f" FROM deliveries d {condition} ORDER BY d.deadline, d.document_id, d.recipient",
            params,
        ).fetchall()
        found = [DeliveryRow(*row) for row in rows]
        for delivery in found:
            delivery.history = [
                HistoryRow(*h)
                for h in self._execute(
                    "SELECT code, at, by_agency, description FROM history"
                    " WHERE document_id = ? AND recipient = ? ORDER BY seq",
                    (delivery.document_id, delivery.recipient),
                ).fetchall()
            ]
        return found

    def commit(self) -> None:
        """Make every write since the last commit durable."""
        self._db.commit()

    def clear(self) -> None:
        """Forget everything (before a rebuild)."""
        for table in _TABLES:
            self._execute(f"DELETE FROM {table}")
        self._db.commit()

    def close(self) -> None:
        """Commit and close; safe to call twice."""
        if self._db is not None:
            self._db.commit()
            self._db.close()
            self._db = None


def open_store(*, dsn: str | None, state_dir: Path) -> SqlTrackingStore:
    """PostgreSQL for a ``postgresql://`` DSN, else SQLite at ``state_dir/tracking.sqlite``."""
    if dsn and dsn.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg
        except ImportError as exc:
            raise ConfigurationError(
                "a PostgreSQL tracking DSN needs: pip install 'psycopg[binary]'"
            ) from exc
        try:
            connection = psycopg.connect(dsn)
        except psycopg.Error as exc:
            raise ConfigurationError(f"cannot connect to the tracking database: {exc}") from exc
        return SqlTrackingStore(connection, placeholder="%s")
    path = Path(dsn) if dsn else state_dir / "tracking.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path))
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return SqlTrackingStore(connection)

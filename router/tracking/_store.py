"""The durable tracking store: SQLite embedded by default, PostgreSQL when a DSN is given.

History is append-only: a delivery's state is replayed from its history when read, so a
status notice costs one inserted row and no update. Times are stored as integer
microseconds since the epoch (UTC): cheaper to make and to index than text, the same in
both databases; rows read back give them as ISO-8601 text. Writes join one transaction
until :meth:`commit`, so the router pays one commit per batch.

Deliveries and history are keyed by the document's sequence number (``documents.seq``,
given in arrival order), not its text id: new rows then land at the right edge of their
B-trees, so a batch dirties a few pages instead of one per row, and the cost of a write
stays flat as the store grows (measured in BENCHMARKS.md). The writer remembers the
sequence numbers of recent documents, so a notice costs no lookup.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from docbus import ConfigurationError, open_shared_sqlite
from schemas import AgencyCode, DeliveryState, ImpossibleTransition, StatusCode

__all__ = [
    "SCHEMA_VERSION",
    "DeliveryRow",
    "DocumentRow",
    "HistoryRow",
    "SqlTrackingStore",
    "TrackingStore",
    "WriteBatch",
    "iso",
    "micros",
    "open_store",
    "replay",
]

#: PostgreSQL advisory lock held while the tables are checked and created (concurrent
#: ``CREATE TABLE IF NOT EXISTS`` can fail with a unique violation on pg_type).
_SCHEMA_LOCK = 0x646F63627573  # "docbus"
#: Bumped whenever the tables change; a store of another version is refused, not guessed
#: at, except the versions :data:`_MIGRATIONS` brings up to this one.
SCHEMA_VERSION = "5"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS docbus_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS documents (
        seq {serial} PRIMARY KEY, document_id TEXT NOT NULL UNIQUE, sender TEXT NOT NULL,
        code TEXT NOT NULL, subject TEXT NOT NULL, priority INTEGER NOT NULL,
        sent_at BIGINT NOT NULL, business_type INTEGER NOT NULL, related_document_id TEXT,
        effect TEXT, effect_by TEXT, digest {bytes})""",
    """CREATE TABLE IF NOT EXISTS deliveries (
        doc BIGINT NOT NULL, recipient TEXT NOT NULL, agency TEXT NOT NULL,
        deadline BIGINT NOT NULL, sent_at BIGINT NOT NULL,
        PRIMARY KEY (doc, recipient)){without_rowid}""",
    "CREATE INDEX IF NOT EXISTS deliveries_deadline ON deliveries (deadline)",
    """CREATE TABLE IF NOT EXISTS history (
        id {serial} PRIMARY KEY, doc BIGINT NOT NULL, recipient TEXT NOT NULL,
        code TEXT NOT NULL, at BIGINT NOT NULL, by_agency TEXT NOT NULL,
        description TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS history_delivery ON history (doc, recipient)",
    "CREATE INDEX IF NOT EXISTS documents_sent_at ON documents (sent_at)",
)
#: What brings a store of an older version to the next one. The schema's statements run
#: only on a new store: CREATE INDEX locks its table even when the index exists, and a
#: router opening the store while another writes could deadlock with it.
_MIGRATIONS = MappingProxyType(
    {
        "3": ("ALTER TABLE documents ADD COLUMN digest {bytes}",),  # the records' digests
        "4": ("CREATE INDEX IF NOT EXISTS documents_sent_at ON documents (sent_at)",),  # console
    }
)
#: How many recent documents' sequence numbers the writer remembers (about 150 bytes each).
_REMEMBERED_DOCUMENTS = 400_000
#: Codes after which a delivery no longer waits for acceptance.
_ANSWERED = ("02", "03", "04", "05", "06", "15")
_TABLES = ("history", "deliveries", "documents")
#: Document ids per query when digests are read back (well under SQLite's variable limit).
_IDS_PER_QUERY = 500


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def iso(moment: dt.datetime) -> str:
    """``moment`` as rows show it: UTC, ISO-8601, microseconds."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def micros(moment: dt.datetime) -> int:
    """``moment`` as stored: microseconds since the epoch."""
    return (moment - _EPOCH) // _MICROSECOND


#: The deadline stored for a delivery sent on a day the working calendar does not cover
#: (:class:`docbus.CalendarRangeError`): never overdue, shown as 9999-12-31.
NO_DEADLINE = (dt.datetime(9999, 12, 31, tzinfo=dt.UTC) - _EPOCH) // _MICROSECOND


def _shown(stored: int) -> str:
    return iso(_EPOCH + int(stored) * _MICROSECOND)


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


@dataclass(slots=True)
class WriteBatch:
    """Writes gathered over one batch, as the statements' parameter tuples (no copying);
    times are :func:`micros`.

    - documents: (document_id, sender, code, subject, priority, sent_at, business_type,
      related_document_id, digest of the record's bytes or None)
    - deliveries: (document_id, recipient, agency, deadline, sent_at)
    - effects: (effect, by document_id, document_id)
    - history: (document_id, recipient, code, at, by_agency, description)
    """

    documents: list[tuple[str, str, str, str, int, int, int, str | None, bytes | None]] = field(
        default_factory=list
    )
    deliveries: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    effects: list[tuple[str, str, str]] = field(default_factory=list)
    history: list[tuple[str, str, str, int, str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.documents or self.deliveries or self.effects or self.history)


class TrackingStore(Protocol):
    """Where tracking lives; every write joins the open transaction until ``commit``."""

    def write(self, batch: WriteBatch) -> None: ...
    def document(self, document_id: str) -> DocumentRow | None: ...
    def digests(self, document_ids: Sequence[str]) -> dict[str, bytes]: ...
    def delivery(self, document_id: str, recipient: str) -> DeliveryRow | None: ...
    def deliveries(self, document_id: str) -> list[DeliveryRow]: ...
    def overdue(self, now: dt.datetime, agency: str | None = None) -> list[DeliveryRow]: ...
    def overdue_counts(self, now: dt.datetime) -> dict[str, int]: ...
    def sent_by(self, agency: str, limit: int) -> list[DocumentRow]: ...
    def arrivals(self, since: dt.datetime) -> list[tuple[float, float | None]]: ...
    def commit(self) -> None: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...


class SqlTrackingStore:
    """A :class:`TrackingStore` over a DB-API connection (sqlite3 or psycopg)."""

    def __init__(self, connection: Any, *, placeholder: str = "?", reader: Any = None) -> None:
        self._db = connection
        self._reader = reader  # reads from the event loop while a worker thread writes
        self._ph = placeholder
        self._seqs: dict[str, int] = {}  # document_id -> documents.seq, recent ones
        self._last_seq = 0
        cursor = self._db.cursor()
        sqlite = placeholder == "?"
        serial = "INTEGER" if sqlite else "BIGSERIAL"
        without_rowid = " WITHOUT ROWID" if sqlite else ""
        binary = "BLOB" if sqlite else "BYTEA"
        # Routers (and their writers) starting together: one makes or migrates the tables,
        # the rest wait for it, then find them whole.
        if sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        else:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        cursor.execute(_SCHEMA[0])
        cursor.execute(self._sql("SELECT value FROM docbus_meta WHERE name = ?"), ("schema",))
        found = cursor.fetchone()
        has_tables = bool(self._tables(cursor))
        version: str | None = str(found[0]) if found is not None else None
        while version is not None and version in _MIGRATIONS:
            for statement in _MIGRATIONS[version]:
                cursor.execute(statement.replace("{bytes}", binary))
            version = str(int(version) + 1)
            cursor.execute(
                self._sql("UPDATE docbus_meta SET value = ? WHERE name = ?"), (version, "schema")
            )
        if (version is None and has_tables) or (version is not None and version != SCHEMA_VERSION):
            raise ConfigurationError(
                f"the tracking store has schema version {version or '1'}, this docbus needs "
                f"{SCHEMA_VERSION}: move it aside and run `docbus track --rebuild`"
            )
        if version is None:  # a new store
            for statement in _SCHEMA[1:]:
                cursor.execute(
                    statement.replace("{serial}", serial)
                    .replace("{without_rowid}", without_rowid)
                    .replace("{bytes}", binary)
                )
            cursor.execute(
                self._sql(
                    "INSERT INTO docbus_meta (name, value) VALUES (?, ?)"
                    " ON CONFLICT (name) DO NOTHING"
                ),
                ("schema", SCHEMA_VERSION),
            )
        self._db.commit()
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM documents")
        self._last_seq = int(cursor.fetchone()[0])

    def _tables(self, cursor: Any) -> list[str]:
        """docbus's tracking tables already in the database."""
        if self._ph == "?":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'deliveries'"
            )
        else:
            cursor.execute("SELECT tablename FROM pg_tables WHERE tablename = 'deliveries'")
        return [row[0] for row in cursor.fetchall()]

    def _sql(self, statement: str) -> str:
        return statement if self._ph == "?" else statement.replace("?", self._ph)

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        cursor = self._db.cursor()
        cursor.execute(self._sql(statement), params)
        return cursor

    def _query(self, statement: str, params: Sequence[Any] = ()) -> Any:
        cursor = (self._reader or self._db).cursor()
        cursor.execute(self._sql(statement), params)
        return cursor

    def _executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._db.cursor().executemany(self._sql(statement), rows)

    def write(self, batch: WriteBatch) -> None:
        """Apply a batch: new documents and deliveries (again: no change), effects, history.

        On SQLite the transaction takes the write lock first (``BEGIN IMMEDIATE``): one that
        read first could not write after another router's writer committed ("database is
        locked" at once, with no wait).
        """
        if self._ph == "?" and not self._db.in_transaction:
            self._db.execute("BEGIN IMMEDIATE")
        if batch.documents:
            self._executemany(
                "INSERT INTO documents (document_id, sender, code, subject, priority, sent_at,"
                " business_type, related_document_id, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (document_id) DO NOTHING",
                batch.documents,
            )
            # the new rows are the ones past the highest number seen: one range read
            for document_id, number in self._execute(
                "SELECT document_id, seq FROM documents WHERE seq > ? ORDER BY seq",
                (self._last_seq,),
            ).fetchall():
                self._remember(document_id, number)
                self._last_seq = number
        seq = self._seq
        self._executemany(
            "INSERT INTO deliveries (doc, recipient, agency, deadline, sent_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (doc, recipient) DO NOTHING",
            [
                (seq(d), r, agency, deadline, sent)
                for d, r, agency, deadline, sent in batch.deliveries
            ],
        )
        self._executemany(
            "UPDATE documents SET effect = ?, effect_by = ? WHERE document_id = ?", batch.effects
        )
        self._executemany(
            "INSERT INTO history (doc, recipient, code, at, by_agency, description)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(seq(d), r, code, at, by, text) for d, r, code, at, by, text in batch.history],
        )

    def _seq(self, document_id: str) -> int:
        """The document's sequence number: remembered, or looked up (a redelivery)."""
        found = self._seqs.get(document_id)
        if found is not None:
            return found
        row = self._execute("SELECT seq FROM documents WHERE document_id = ?", (document_id,))
        result = row.fetchone()
        if result is None:
            raise ConfigurationError(f"tracking row for untracked document {document_id}")
        self._remember(document_id, int(result[0]))
        return int(result[0])

    def _remember(self, document_id: str, seq: int) -> None:
        seqs = self._seqs
        seqs[document_id] = seq
        if len(seqs) > _REMEMBERED_DOCUMENTS:  # forget the older half (dicts keep order)
            for old in list(itertools.islice(seqs, len(seqs) // 2)):
                del seqs[old]

    def document(self, document_id: str) -> DocumentRow | None:
        """The tracked document, if any."""
        row = self._query(
            "SELECT document_id, sender, code, subject, priority, sent_at, business_type,"
            " related_document_id, effect, effect_by FROM documents WHERE document_id = ?",
            (document_id,),
        ).fetchone()
        if row is None:
            return None
        document_id, sender, code, subject, priority, sent_at, kind, related, effect, by = row
        return DocumentRow(
            document_id, sender, code, subject, priority, _shown(sent_at), kind, related, effect, by
        )

    def digests(self, document_ids: Sequence[str]) -> dict[str, bytes]:
        """The digest of each of ``document_ids`` the store has one for (a few queries)."""
        found: dict[str, bytes] = {}
        for start in range(0, len(document_ids), _IDS_PER_QUERY):
            chunk = document_ids[start : start + _IDS_PER_QUERY]
            marks = ", ".join("?" * len(chunk))
            rows = self._query(
                f"SELECT document_id, digest FROM documents WHERE document_id IN ({marks})"
                " AND digest IS NOT NULL",
                chunk,
            ).fetchall()
            found.update((document_id, bytes(digest)) for document_id, digest in rows)
        return found

    def delivery(self, document_id: str, recipient: str) -> DeliveryRow | None:
        """One delivery with its history."""
        found = self._deliveries(
            "WHERE m.document_id = ? AND d.recipient = ?", (document_id, recipient)
        )
        return found[0] if found else None

    def deliveries(self, document_id: str) -> list[DeliveryRow]:
        """Every delivery of a document, with histories."""
        return self._deliveries("WHERE m.document_id = ?", (document_id,))

    def overdue(self, now: dt.datetime, agency: str | None = None) -> list[DeliveryRow]:
        """Deliveries past their deadline and neither accepted, rejected nor recalled."""
        condition, params = _overdue_condition(now, agency)
        return self._deliveries(condition, params)

    def overdue_counts(self, now: dt.datetime) -> dict[str, int]:
        """How many deliveries are overdue, by recipient agency (for the metrics)."""
        condition, params = _overdue_condition(now, None)
        rows = self._query(
            f"SELECT d.agency, COUNT(*) FROM deliveries d {condition} GROUP BY d.agency", params
        ).fetchall()
        return {agency: int(count) for agency, count in rows}

    def sent_by(self, agency: str, limit: int) -> list[DocumentRow]:
        """The ``limit`` newest documents sent by top-level party ``agency`` or its units."""
        national = AgencyCode.is_valid(agency)
        condition = "m.sender LIKE ?" if national else "m.sender = ?"
        rows = self._query(
            "SELECT m.document_id, m.sender, m.code, m.subject, m.priority, m.sent_at,"
            " m.business_type, m.related_document_id, m.effect, m.effect_by FROM documents m"
            f" WHERE {condition} ORDER BY m.sent_at DESC LIMIT ?",
            ("___.__.__." + AgencyCode.parse(agency).level1 if national else agency, limit),
        ).fetchall()
        return [
            DocumentRow(row[0], row[1], row[2], row[3], row[4], _shown(row[5]), *row[6:])
            for row in rows
        ]

    def arrivals(self, since: dt.datetime) -> list[tuple[float, float | None]]:
        """(sent, arrived or None) of each delivery of the documents sent since ``since``,
        in POSIX seconds: arrived is the recipient's first 01."""
        rows = self._query(
            "SELECT m.sent_at, MIN(h.at) FROM documents m JOIN deliveries d ON d.doc = m.seq"
            " LEFT JOIN history h ON h.doc = d.doc AND h.recipient = d.recipient"
            " AND h.code = '01' WHERE m.sent_at >= ? GROUP BY d.doc, d.recipient, m.sent_at",
            (micros(since),),
        ).fetchall()
        return [(sent / 1e6, None if arrived is None else arrived / 1e6) for sent, arrived in rows]

    def _deliveries(self, condition: str, params: Sequence[Any]) -> list[DeliveryRow]:
        rows = self._query(
            "SELECT m.document_id, d.recipient, d.agency, d.deadline, d.sent_at, d.doc"
            f" FROM deliveries d JOIN documents m ON m.seq = d.doc {condition}"
            " ORDER BY d.deadline, m.document_id, d.recipient",
            params,
        ).fetchall()
        found = []
        for document_id, recipient, agency, deadline, sent_at, doc in rows:
            history = [
                HistoryRow(code, _shown(at), by, text)
                for code, at, by, text in self._query(
                    "SELECT code, at, by_agency, description FROM history"
                    " WHERE doc = ? AND recipient = ? ORDER BY id",
                    (doc, recipient),
                ).fetchall()
            ]
            state = replay(history)
            updated = history[-1].at if history else _shown(sent_at)
            found.append(
                DeliveryRow(
                    document_id,
                    recipient,
                    agency,
                    state.status,
                    state.recall,
                    _shown(deadline),
                    updated,
                    history,
                )
            )
        return found

    def commit(self) -> None:
        """Make every write since the last commit durable."""
        self._db.commit()

    def clear(self) -> None:
        """Forget everything (before a rebuild)."""
        for table in _TABLES:
            self._execute(f"DELETE FROM {table}")
        self._db.commit()
        self._seqs.clear()
        self._last_seq = 0

    def close(self) -> None:
        """Commit and close; safe to call twice."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._db is not None:
            self._db.commit()
            self._db.close()
            self._db = None


def _overdue_condition(now: dt.datetime, agency: str | None) -> tuple[str, list[Any]]:
    """The WHERE clause of overdue deliveries: past the deadline, no answer in the history."""
    answered = ", ".join(f"'{code}'" for code in _ANSWERED)
    condition = (
        "WHERE d.deadline < ? AND NOT EXISTS (SELECT 1 FROM history h"
        " WHERE h.doc = d.doc AND h.recipient = d.recipient"
        f" AND h.code IN ({answered}))"
    )
    params: list[Any] = [micros(now)]
    if agency is not None:
        condition += " AND d.agency = ?"
        params.append(agency)
    return condition, params


def replay(history: Sequence[HistoryRow]) -> DeliveryState:
    """A delivery's state from its history (13 is the sender's; everything else the recipient's)."""
    state = DeliveryState()
    for entry in history:
        try:
            state = state.after(entry.code, from_sender=entry.code == StatusCode.RECALL_REQUESTED)
        except ImpossibleTransition:
            continue  # the router never records one; a hand-edited store might
    return state


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
            postgres = psycopg.connect(dsn)
        except psycopg.Error as exc:
            raise ConfigurationError(f"cannot connect to the tracking database: {exc}") from exc
        return SqlTrackingStore(postgres, placeholder="%s")
    path = Path(dsn) if dsn else state_dir / "tracking.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    # The router writes each batch from a worker thread, one batch at a time, while the
    # event loop reads through a second connection (WAL lets readers and a writer coexist).
    connection = open_shared_sqlite(path)
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "PRAGMA cache_size=-16384"
    )  # 16 MiB: new rows land at the B-trees' right edges
    reader = sqlite3.connect(str(path), check_same_thread=False)
    reader.execute("PRAGMA query_only=ON")
    return SqlTrackingStore(connection, reader=reader)

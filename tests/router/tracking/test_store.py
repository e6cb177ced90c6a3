"""Tests for router.tracking._store: SQLite and a real PostgreSQL server behave the same."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from docbus import ConfigurationError
from router.tracking import DocumentRow, SqlTrackingStore, open_store
from router.tracking._store import WriteBatch, iso, micros

T0 = dt.datetime(2024, 11, 25, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlTrackingStore]:
    if request.param == "sqlite":
        opened = open_store(dsn=None, state_dir=tmp_path)
    else:
        opened = open_store(dsn=request.getfixturevalue("postgres_dsn"), state_dir=tmp_path)
        opened.clear()
    yield opened
    opened.close()


def doc(document_id: str = "D1") -> DocumentRow:
    return DocumentRow(document_id, "000.00.00.G22", "1/VPCP", "Về việc thử", 0, iso(T0), 0)


def delivery(
    recipient: str, deadline_hours: int, document_id: str = "D1"
) -> tuple[str, str, str, int, int]:
    """The parameters of one delivery row."""
    return (
        document_id,
        recipient,
        recipient,
        micros(T0 + dt.timedelta(hours=deadline_hours)),
        micros(T0),
    )


def row(
    document: DocumentRow, digest: bytes | None = None
) -> tuple[str, str, str, str, int, int, int, str | None, bytes | None]:
    """The parameters of one document row."""
    return (
        document.document_id,
        document.sender,
        document.code,
        document.subject,
        document.priority,
        micros(dt.datetime.fromisoformat(document.sent_at)),
        document.business_type,
        document.related_document_id,
        digest,
    )


def test_documents_deliveries_and_history(store: SqlTrackingStore) -> None:
    """A document, its deliveries and their histories come back as written, in order."""
    store.write(
        WriteBatch([row(doc())], [delivery("000.00.00.H29", 8), delivery("000.00.00.G12", 8)])
    )
    store.write(WriteBatch([row(doc())], [delivery("000.00.00.H29", 8)]))  # again: no change
    store.commit()  # reads see committed data only
    found = store.delivery("D1", "000.00.00.H29")
    assert found is not None and found.status is None
    batch = WriteBatch()
    for minute, code in enumerate(["01", "03"], start=1):
        at = micros(T0 + dt.timedelta(minutes=minute))
        batch.history.append(("D1", found.recipient, code, at, "000.00.00.H29", "Việt"))
    store.write(batch)
    store.commit()
    got = store.delivery("D1", "000.00.00.H29")
    assert got is not None and got.status == "03"
    assert [h.code for h in got.history] == ["01", "03"] and got.history[0].description == "Việt"
    assert len(store.deliveries("D1")) == 2
    assert store.document("D1") == doc()
    assert store.document("nope") is None


def test_effects_overdue_and_clear(store: SqlTrackingStore) -> None:
    """Effects are recorded; overdue lists unanswered deliveries past deadline; clear empties."""
    store.write(WriteBatch([row(doc("D1"))], [delivery("A", 1, "D1"), delivery("B", 48, "D1")]))
    store.write(WriteBatch(effects=[("revoked", "D2", "D1")]))
    store.commit()
    assert store.document("D1").effect == "revoked"  # type: ignore[union-attr]
    late = store.overdue(T0 + dt.timedelta(hours=2))
    assert [(d.document_id, d.recipient) for d in late] == [("D1", "A")]
    assert store.overdue(T0 + dt.timedelta(hours=2), agency="B") == []
    store.clear()
    assert store.deliveries("D1") == []


def test_a_wrong_dsn_is_a_clear_error(tmp_path: Path) -> None:
    """An unreachable PostgreSQL server is a ConfigurationError, not a driver traceback."""
    with pytest.raises(ConfigurationError, match="tracking database"):
        open_store(dsn="postgresql://nobody@127.0.0.1:1/none", state_dir=tmp_path)


def test_a_store_of_another_schema_is_refused(tmp_path: Path) -> None:
    """A tracking file from another docbus version is refused with what to do, not misread."""
    import sqlite3

    old = sqlite3.connect(tmp_path / "tracking.sqlite")
    old.execute("CREATE TABLE deliveries (document_id TEXT, recipient TEXT, status TEXT)")
    old.commit()
    old.close()
    with pytest.raises(ConfigurationError, match="--rebuild"):
        open_store(dsn=None, state_dir=tmp_path)


def _history(document_id: str, code: str, minute: int) -> WriteBatch:
    at = micros(T0 + dt.timedelta(minutes=minute))
    return WriteBatch(history=[(document_id, "000.00.00.H29", code, at, "000.00.00.H29", "")])


def test_history_for_a_document_written_before_a_restart(tmp_path: Path) -> None:
    """A reopened store finds the sequence number of a document it did not write itself."""
    first = open_store(dsn=None, state_dir=tmp_path)
    first.write(WriteBatch([row(doc("D1"))], [delivery("000.00.00.H29", 8, "D1")]))
    first.commit()
    first.close()
    again = open_store(dsn=None, state_dir=tmp_path)
    again.write(WriteBatch([row(doc("D2"))], [delivery("000.00.00.H29", 8, "D2")]))
    again.write(_history("D1", "01", 1))
    again.write(_history("D2", "01", 2))
    again.commit()
    assert [h.code for h in again.delivery("D1", "000.00.00.H29").history] == ["01"]  # type: ignore[union-attr]
    assert [h.code for h in again.delivery("D2", "000.00.00.H29").history] == ["01"]  # type: ignore[union-attr]
    again.close()


def test_forgetting_old_sequence_numbers(
    store: SqlTrackingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its bound the writer forgets the older half and looks those documents up again."""
    monkeypatch.setattr("router.tracking._store._REMEMBERED_DOCUMENTS", 4)
    ids = [f"D{i}" for i in range(10)]
    store.write(
        WriteBatch([row(doc(i)) for i in ids], [delivery("000.00.00.H29", 8, i) for i in ids])
    )
    for minute, document_id in enumerate(ids):
        store.write(_history(document_id, "01", minute))
    store.commit()
    assert all(store.delivery(i, "000.00.00.H29").status == "01" for i in ids)  # type: ignore[union-attr]


def test_history_for_an_untracked_document_is_refused(store: SqlTrackingStore) -> None:
    """A history row whose document was never written is an error, not a silent loss."""
    with pytest.raises(ConfigurationError, match="untracked document NOPE"):
        store.write(_history("NOPE", "01", 1))


def test_clear_forgets_sequence_numbers(store: SqlTrackingStore) -> None:
    """After clear (a rebuild) the same documents get new numbers and histories attach to them."""
    store.write(WriteBatch([row(doc("D1"))], [delivery("000.00.00.H29", 8, "D1")]))
    store.commit()
    store.clear()
    store.write(WriteBatch([row(doc("D1"))], [delivery("000.00.00.H29", 8, "D1")]))
    store.write(_history("D1", "01", 1))
    store.commit()
    assert store.delivery("D1", "000.00.00.H29").status == "01"  # type: ignore[union-attr]


def test_routers_starting_together_on_an_empty_postgresql(
    postgres_dsn: str, tmp_path: Path
) -> None:
    """Four stores opened at once on a new database: all open (the schema is made once)."""
    import concurrent.futures

    import psycopg

    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute('CREATE DATABASE "concurrent_schema"')
    dsn = postgres_dsn.rsplit("/", 1)[0] + "/concurrent_schema"
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: open_store(dsn=dsn, state_dir=tmp_path), range(4)))
    for opened in stores:
        assert opened.document("nothing") is None
        opened.close()


def test_routers_starting_together_on_a_new_sqlite_store(tmp_path: Path) -> None:
    """Eight stores opened at once on a new SQLite file (the bulk and express routers'
    writers and readers do): all open, none sees the tables half made."""
    import concurrent.futures

    for attempt in range(10):
        folder = tmp_path / str(attempt)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            opening = [pool.submit(open_store, dsn=None, state_dir=folder) for _ in range(8)]
            stores = [future.result() for future in opening]
        for opened in stores:
            assert opened.document("nothing") is None
            opened.close()


def test_a_writer_waits_behind_another_routers_long_transaction(tmp_path: Path) -> None:
    """Another router's writer holds the SQLite write lock for longer than sqlite3's
    default wait (5 s): this one waits its turn and writes, rather than fail with
    "database is locked" and stop its router."""
    import sqlite3
    import threading
    import time

    store = open_store(dsn=None, state_dir=tmp_path)
    store.write(WriteBatch([row(doc("D1"))], [delivery("000.00.00.H29", 24)]))
    store.commit()
    other = sqlite3.connect(str(tmp_path / "tracking.sqlite"), check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    released = threading.Timer(5.5, other.commit)
    released.start()
    try:
        started = time.monotonic()
        store.write(WriteBatch(history=[("D1", "000.00.00.H29", "01", 1, "w", "")]))
        store.commit()
        assert time.monotonic() - started >= 5.0  # it did wait for the other's commit
        assert store.delivery("D1", "000.00.00.H29").status == "01"  # type: ignore[union-attr]
    finally:
        released.join()
        other.close()
        store.close()


def test_digests_come_back_for_the_ids_asked(store: SqlTrackingStore) -> None:
    """Each stored digest is found by its document id, in chunks of ids; a document written
    without one and an id never written are absent."""
    ids = [f"D{i}" for i in range(1, 1201)]
    store.write(WriteBatch([row(doc(i), digest=i.encode().ljust(16, b".")) for i in ids]))
    store.write(WriteBatch([row(doc("NO-DIGEST"))]))
    store.commit()
    found = store.digests([*ids, "NO-DIGEST", "NEVER"])
    assert found == {i: i.encode().ljust(16, b".") for i in ids}


def test_a_version_3_store_is_brought_up_to_date(tmp_path: Path) -> None:
    """A store of schema 3 (before digests and the sent_at index) opens: the column and
    the index are added, its rows kept."""
    import sqlite3

    from router.tracking._store import SCHEMA_VERSION

    path = tmp_path / "tracking.sqlite"
    current = open_store(dsn=None, state_dir=tmp_path)
    current.write(WriteBatch([row(doc("OLD"))]))
    current.commit()
    current.close()
    old = sqlite3.connect(path)  # make it what version 3 wrote
    old.execute("ALTER TABLE documents DROP COLUMN digest")
    old.execute("DROP INDEX documents_sent_at")
    old.execute("UPDATE docbus_meta SET value = '3' WHERE name = 'schema'")
    old.commit()
    old.close()
    reopened = open_store(dsn=None, state_dir=tmp_path)
    reopened.write(WriteBatch([row(doc("NEW"), digest=b"n" * 16)]))
    reopened.commit()
    assert reopened.document("OLD") is not None
    assert reopened.digests(["OLD", "NEW"]) == {"NEW": b"n" * 16}
    reopened.close()
    migrated = sqlite3.connect(path)
    meta = migrated.execute("SELECT value FROM docbus_meta").fetchall()
    assert meta == [(SCHEMA_VERSION,)] and SCHEMA_VERSION == "5"
    indexes = migrated.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    assert ("documents_sent_at",) in indexes


def test_what_an_agency_sent_and_when_deliveries_arrived(store: SqlTrackingStore) -> None:
    """sent_by lists an agency's documents (its units' too) newest first; arrivals pairs
    each delivery's sending with its first 01, or None before it."""
    unit = DocumentRow(
        "D2", "000.01.00.G22", "2/VPCP", "Từ một đơn vị", 0, iso(T0 + dt.timedelta(minutes=5)), 0
    )
    other = DocumentRow("D3", "vxp.saas.03", "3/X", "Của bên ngoài", 0, iso(T0), 0)
    store.write(
        WriteBatch(
            [row(doc("D1")), row(unit), row(other)],
            [delivery("A", 8, "D1"), delivery("B", 8, "D1"), delivery("A", 8, "D3")],
        )
    )
    store.write(
        WriteBatch(history=[("D1", "A", "01", micros(T0 + dt.timedelta(seconds=3)), "A", "")])
    )
    store.commit()
    assert [d.document_id for d in store.sent_by("000.00.00.G22", 10)] == ["D2", "D1"]
    assert [d.document_id for d in store.sent_by("000.00.00.G22", 1)] == ["D2"]
    assert [d.document_id for d in store.sent_by("vxp.saas.03", 10)] == ["D3"]
    assert store.sent_by("000.00.00.H29", 10) == []
    start = T0.timestamp()
    assert sorted(store.arrivals(T0), key=str) == sorted(
        [(start, start + 3), (start, None), (start, None)], key=str
    )
    assert store.arrivals(T0 + dt.timedelta(minutes=1)) == []

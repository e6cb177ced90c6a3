"""Tests for docbus._sqlite: a SQLite file several processes open at once."""

from __future__ import annotations

import concurrent.futures
import sqlite3
import threading
import time
from pathlib import Path

from docbus import open_shared_sqlite


def test_a_new_file_is_put_in_wal_mode_even_while_another_holds_its_lock(tmp_path: Path) -> None:
    """Another connection made the file and holds its write lock: switching to WAL is
    refused at once by SQLite (no busy wait), so the opening tries again until it is let go."""
    path = tmp_path / "shared.sqlite"
    other = sqlite3.connect(str(path), check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE t (x)")
    released = threading.Timer(0.5, other.commit)
    released.start()
    try:
        started = time.monotonic()
        connection = open_shared_sqlite(path)
        assert time.monotonic() - started >= 0.4  # it waited for the other's commit
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("SELECT count(*) FROM t").fetchone()[0] == 0
        connection.close()
    finally:
        released.join()
        other.close()


def test_many_open_a_new_file_at_once(tmp_path: Path) -> None:
    """Eight connections opened together on a file none has made yet: all in WAL mode."""
    for attempt in range(5):
        path = tmp_path / f"{attempt}.sqlite"
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            opening = [pool.submit(open_shared_sqlite, path, autocommit=True) for _ in range(8)]
            connections = [future.result() for future in opening]
        for connection in connections:
            assert connection.isolation_level is None
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            connection.close()


def test_not_a_lock_is_not_waited_for(tmp_path: Path) -> None:
    """A file that is no database fails at once, with SQLite's reason."""
    path = tmp_path / "not.sqlite"
    path.write_bytes(b"this is not a database, and it is long enough to have a header" * 4)
    started = time.monotonic()
    try:
        open_shared_sqlite(path)
    except sqlite3.DatabaseError as exc:
        assert "not a database" in str(exc)
    else:
        raise AssertionError("a file that is no database opened")
    assert time.monotonic() - started < 5

"""Opening a SQLite file that several processes share (a router's writers, receivers of one
agency): WAL mode, and a wait for another's write lock longer than sqlite3's 5 s."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

__all__ = ["SQLITE_LOCK_WAIT_S", "open_shared_sqlite"]

#: How long a connection waits for another's write lock: sqlite3's default, 5 s, is
#: shorter than the bulk router's tracking writer may hold it on a saturated machine (a
#: replay at scale 0.003 once stopped its express router on "database is locked").
SQLITE_LOCK_WAIT_S = 60.0


def open_shared_sqlite(path: Path | str, *, autocommit: bool = False) -> sqlite3.Connection:
    """A connection to ``path`` in WAL mode (readers and a writer side by side); with
    ``autocommit``, no implicit transactions (the caller begins its own).

    A new file's first connection switches it to WAL, which needs the file to itself:
    while another connection holds the write lock SQLite refuses at once, without
    waiting, so the switch is tried again until :data:`SQLITE_LOCK_WAIT_S` has passed.
    """
    connection = sqlite3.connect(str(path), check_same_thread=False, timeout=SQLITE_LOCK_WAIT_S)
    if autocommit:
        connection.isolation_level = None
    deadline = time.monotonic() + SQLITE_LOCK_WAIT_S
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return connection
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                connection.close()
                raise
            time.sleep(0.01)

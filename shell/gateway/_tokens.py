"""The gateway's bearer tokens: one per agency system, only its SHA-256 kept.

A token is shown once, when it is issued; the store keeps its hash, the agency it acts
for and its role (``agency``, or ``operator`` for the operators' console). Revoking ends
it at once for every gateway process reading the same store (SQLite in the docbus home).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["Caller", "Role", "TokenStore"]

Role = Literal["agency", "operator"]
_PREFIX = "dbg_"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a valid token acts for."""

    agency: str
    role: Role


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    """Issued tokens by hash, in SQLite at ``path``."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, agency TEXT NOT NULL,"
            " role TEXT NOT NULL, issued_at TEXT NOT NULL, revoked_at TEXT)"
        )

    def issue(self, agency: str, *, role: Role = "agency") -> str:
        """A new token acting for ``agency``; the only time it is seen whole."""
        token = _PREFIX + secrets.token_urlsafe(32)
        with self._lock:
            self._db.execute(
                "INSERT INTO tokens (hash, agency, role, issued_at) VALUES (?, ?, ?, ?)",
                (_digest(token), agency, role, dt.datetime.now(dt.UTC).isoformat()),
            )
        return token

    def revoke(self, token: str) -> bool:
        """End ``token``; whether it was live."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL",
                (dt.datetime.now(dt.UTC).isoformat(), _digest(token)),
            )
        return cursor.rowcount == 1

    def caller(self, token: str) -> Caller | None:
        """Who ``token`` acts for, or ``None`` if it was never issued or is revoked."""
        with self._lock:
            row = self._db.execute(
                "SELECT agency, role FROM tokens WHERE hash = ? AND revoked_at IS NULL",
                (_digest(token),),
            ).fetchone()
        return None if row is None else Caller(agency=row[0], role=row[1])

    def close(self) -> None:
        self._db.close()

"""The receiver SDK (deduplication, status notices back) and the simulated receiving agencies."""

from consumers._dedupe import DedupeKey, DedupeStore, SqliteDedupeStore
from consumers._receiver import NoticeHandler, ReceivedDocument, Receiver

__all__ = [
    "DedupeKey",
    "DedupeStore",
    "NoticeHandler",
    "ReceivedDocument",
    "Receiver",
    "SqliteDedupeStore",
]

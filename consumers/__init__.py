"""The receiver SDK agencies use: :class:`Receiver`, durable deduplication, status notices back.

The lab's side (simulated agencies that acknowledge what they receive) is
``consumers.simulation``.
"""

from consumers._dedupe import DedupeKey, DedupeStore, SqliteDedupeStore
from consumers._inboxes import InboxSource, SharedInboxes
from consumers._receiver import NoticeHandler, ReceivedDocument, Receiver, RefusalHandler, Reply

__all__ = [
    "DedupeKey",
    "DedupeStore",
    "InboxSource",
    "NoticeHandler",
    "ReceivedDocument",
    "Receiver",
    "RefusalHandler",
    "Reply",
    "SharedInboxes",
    "SqliteDedupeStore",
]

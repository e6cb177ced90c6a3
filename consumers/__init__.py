"""The receiver SDK agencies use: :class:`Receiver`, durable deduplication, status notices back.

A receiver hands documents over one at a time (``async for``) or as they arrived
(:meth:`Receiver.batches`), and answers one (``notify``) or many at once
(:meth:`Receiver.notify_many`: one signature, one transaction). A process serving many
agencies reads their inboxes through one :class:`SharedInboxes`.

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

"""The topic layout: an outbox and an inbox per top-level agency, and the bus's own topics.

Every outbox and inbox has an express lane: partition 0 carries express documents
(priority 3 and 4) and nothing else, so they never queue behind bulk; every other record
goes by CRC-32 of its key over partitions 1 to n-1, so the records of a key keep their
order. A topic of one partition has no lane (everything in partition 0).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "BUS_AGENCY",
    "EXPRESS_PARTITION",
    "HEADER_ERROR",
    "HEADER_ERROR_CLASS",
    "HEADER_OUTBOX_TIME",
    "HEADER_RECIPIENT",
    "TopicLayout",
    "bulk_partition",
    "header_value",
    "is_express",
]

#: ``from_agency`` of the notices the bus itself sends (rejections).
BUS_AGENCY = "docbus"

#: Record header carrying a dead letter's reason, in words.
HEADER_ERROR = "docbus-error"
#: Record header carrying a dead letter's bounded reason class (a metric label).
HEADER_ERROR_CLASS = "docbus-error-class"
#: Record header naming the recipient unit a delivery is for.
HEADER_RECIPIENT = "docbus-recipient"
#: Record header of a delivery: when its sender produced it to the outbox (ms since the
#: epoch, the outbox record's timestamp), so that a recipient can tell the bus's latency.
HEADER_OUTBOX_TIME = "docbus-outbox-time"
#: Record header naming the code a redirected delivery was addressed to.
HEADER_ADDRESSED_TO = "docbus-addressed-to"
#: Record header of a redirect notice: the successors that received, comma-separated.
HEADER_REDIRECTED_TO = "docbus-redirected-to"

#: The partition of every outbox and inbox that carries express documents only.
EXPRESS_PARTITION = 0
#: The lowest priority that travels in the express lane (edXML 3, "hỏa tốc").
_EXPRESS_PRIORITY = 3


def is_express(priority: int) -> bool:
    """Whether a document of ``priority`` travels in the express lane (3 and 4 do)."""
    return priority >= _EXPRESS_PRIORITY


def header_value(headers: Sequence[tuple[str, bytes]], name: str) -> str | None:
    """The first record header called ``name``, decoded; None when the record has none."""
    for key, value in headers:
        if key == name:
            return value.decode()
    return None


def bulk_partition(key: bytes, partitions: int) -> int:
    """The partition of a bulk record keyed ``key`` in a topic of ``partitions``.

    CRC-32 of the key (librdkafka's ``consistent`` partitioner, in C) over partitions 1
    to n-1, leaving partition 0 to the express lane; 0 when the topic has one partition.
    A non-docbus producer writing into docbus topics must place keys the same way to
    keep a key's order.
    """
    if partitions <= 1:
        return 0
    return 1 + zlib.crc32(key) % (partitions - 1)


@dataclass(frozen=True, slots=True)
class TopicLayout:
    """Topic names under ``prefix``: ``<prefix>.outbox.<code>``, ``<prefix>.inbox.<code>``."""

    prefix: str = "docbus"

    def outbox(self, agency: str) -> str:
        """Where top-level agency ``agency`` writes its documents and notices."""
        return f"{self.prefix}.outbox.{agency}"

    def inbox(self, agency: str) -> str:
        """Where top-level agency ``agency`` reads documents and notices for it."""
        return f"{self.prefix}.inbox.{agency}"

    @property
    def deadletter(self) -> str:
        """Where the router puts what it will not deliver, with the reason in headers."""
        return f"{self.prefix}.deadletter"

    @property
    def directory(self) -> str:
        """The compacted topic that carries the agency directory to every router."""
        return f"{self.prefix}.directory"

    @property
    def doorbell(self) -> str:
        """Where senders ring after an express document (:mod:`schemas._doorbell`)."""
        return f"{self.prefix}.doorbell"

    @property
    def inbox_doorbell(self) -> str:
        """Where the router rings after an express delivery, for hosts of many inboxes."""
        return f"{self.prefix}.inbox-doorbell"

    @property
    def outbox_pattern(self) -> str:
        """A regular expression matching every outbox topic."""
        return rf"^{re.escape(self.prefix)}\.outbox\..+$"

    def outbox_owner(self, topic: str) -> str | None:
        """The agency whose outbox ``topic`` is, or ``None`` for another topic."""
        head = f"{self.prefix}.outbox."
        return topic[len(head) :] if topic.startswith(head) and len(topic) > len(head) else None

    def agency_topics(self, agencies: Iterable[str]) -> list[str]:
        """Every topic the bus needs: ``agencies``' outboxes and inboxes, dead letters, the
        directory, the doorbells."""
        names = [self.deadletter, self.directory, self.doorbell, self.inbox_doorbell]
        for agency in agencies:
            names += [self.outbox(agency), self.inbox(agency)]
        return names

"""The express doorbells: a ring says where an express record waits.

Once its express document is in the outbox (the broker acknowledged it), a sender
produces a ring to the bus's doorbell topic (:attr:`TopicLayout.doorbell`, partition
0): key the outbox topic, value ``<partition>:<offset>`` in ASCII. Once an express
delivery is in an inbox, the router rings the inbox doorbell
(:attr:`TopicLayout.inbox_doorbell`) the same way, for processes that read many inboxes
(:class:`consumers.SharedInboxes`). A reader on rings keeps its express partitions paused and
fetches one only once a ring (or its periodic sweep) says it holds a record not yet
read, so an idle lane costs the broker one partition's fetches, not every topic's.

A ring carries no content and no signature: a false one costs the router a fetch of
the partition it names, a lost one delays the document until the router's next sweep.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DOORBELL_PARTITION", "Ring"]

#: The doorbell topic's partition every ring goes to (one ordered stream of rings).
DOORBELL_PARTITION = 0
#: A ring's value is short; anything longer is not one.
_MAX_VALUE_BYTES = 40


@dataclass(frozen=True, slots=True)
class Ring:
    """An express record waits at ``offset`` of ``partition`` of outbox ``topic``."""

    topic: str
    partition: int
    offset: int

    @property
    def key(self) -> bytes:
        """The ring's record key: the outbox topic."""
        return self.topic.encode()

    @property
    def value(self) -> bytes:
        """The ring's record value: ``<partition>:<offset>``."""
        return f"{self.partition}:{self.offset}".encode()

    @classmethod
    def read(cls, key: bytes | None, value: bytes | None) -> Ring:
        """The ring a doorbell record carries; ``ValueError`` saying why it is none."""
        if not key or value is None or len(value) > _MAX_VALUE_BYTES:
            raise ValueError("a ring has a topic for key and a short value")
        partition, sep, offset = value.decode("ascii", "replace").partition(":")
        if not sep or not partition.isdigit() or not offset.isdigit():
            raise ValueError(f"ring value {value!r} is not <partition>:<offset>")
        return cls(key.decode("utf-8", "replace"), int(partition), int(offset))

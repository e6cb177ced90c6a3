"""A sender's side of the express doorbell: ring once an express document is in the outbox."""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from schemas import DOORBELL_PARTITION, Ring

__all__ = ["Ringer"]

log = structlog.get_logger("docbus.doorbell")

#: How long a ring may wait for the doorbell topic's metadata before the ringer gives up.
_RING_TIMEOUT_S = 2.0


class Ringer:
    """Rings the bus's doorbell (``topic``) with ``producer``; does nothing when ``enabled``
    is false. A ring that cannot be sent is logged and costs the document only time (the
    router's sweep finds it); a doorbell topic that cannot be reached stops the ringing."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, *, enabled: bool) -> None:
        self._producer = producer
        self._topic = topic
        self._enabled = enabled

    async def ring(self, topic: str, partition: int, offset: int) -> None:
        """Say that the record at ``offset`` of ``partition`` of ``topic`` waits there.

        Returns once the ring is handed to the producer, not once it is delivered."""
        if not self._enabled:
            return
        ring = Ring(topic, partition, offset)
        try:
            delivered = await asyncio.wait_for(
                self._producer.send(
                    self._topic, ring.value, key=ring.key, partition=DOORBELL_PARTITION
                ),
                _RING_TIMEOUT_S,
            )
        except (KafkaError, TimeoutError) as exc:
            self._enabled = False
            log.warning("doorbell_unreachable", topic=self._topic, error=repr(exc))
            return
        delivered.add_done_callback(self._check_delivered)

    def _check_delivered(self, delivered: asyncio.Future[object]) -> None:
        if not delivered.cancelled() and delivered.exception() is not None:
            log.warning("ring_lost", topic=self._topic, error=repr(delivered.exception()))

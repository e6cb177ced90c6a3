"""The sender SDK: ``async with Sender(agency=..., settings=...) as s: await s.send(doc)``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer

from docbus._kafka import make_producer, start_producer
from docbus._lifecycle import Lifecycle, Service
from docbus._settings import Settings
from producers._outbox import OutboxWriter, SendReceipt
from schemas import Codec, Document, StatusNotice

__all__ = ["Sender"]


class Sender(Service):
    """Sends one agency's documents onto the bus.

    Concurrent ``send`` calls share the producer's batches (``linger_ms``), so many
    documents in flight cost little more than one. Pass ``producer`` to share one
    producer between several senders; the sender then neither starts nor stops it.
    """

    def __init__(
        self,
        *,
        agency: str,
        settings: Settings,
        producer: AIOKafkaProducer | None = None,
        codec: Codec | None = None,
    ) -> None:
        self._settings = settings
        self._owns_producer = producer is None
        self._producer = producer if producer is not None else make_producer(settings)
        self._writer = OutboxWriter(
            agency=agency,
            settings=settings,
            producer=self._producer,
            codec=codec if codec is not None else Codec(),
        )
        self._lifecycle = Lifecycle(f"Sender({agency})")

    @property
    def agency(self) -> str:
        """The agency this sender sends for."""
        return self._writer.agency

    async def start(self) -> None:
        """Connect to the broker."""
        self._lifecycle.opening()
        if self._owns_producer:
            try:
                await start_producer(self._producer, self._settings, repr(self))
            except BaseException:
                self._lifecycle.closing()
                raise

    async def stop(self) -> None:
        """Flush what is in flight and disconnect; safe to call twice."""
        if self._lifecycle.closing() and self._owns_producer:
            await self._producer.stop()

    async def send(self, document: Document) -> SendReceipt:
        """Validate and send ``document``; return once the broker holds it.

        Raises :class:`~docbus.InvalidDocumentError` (nothing sent) for a bad document.
        """
        self._lifecycle.require_open()
        return await self._writer.write_document(document)

    async def send_many(self, documents: Iterable[Document]) -> list[SendReceipt]:
        """Send ``documents`` concurrently; return their receipts in order."""
        self._lifecycle.require_open()
        return list(await asyncio.gather(*(self._writer.write_document(d) for d in documents)))

    async def notify(self, notice: StatusNotice) -> SendReceipt:
        """Send a status notice of the sender's own (for example 13, recall requested)."""
        self._lifecycle.require_open()
        return await self._writer.write_notice(notice)

    def __repr__(self) -> str:
        return f"<Sender {self._writer.agency} {self._lifecycle.state.value}>"

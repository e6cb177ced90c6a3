"""The sender SDK: ``async with Sender(agency=..., settings=...) as s: await s.send(doc)``."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterable

from aiokafka import AIOKafkaProducer

from docbus import (
    ClientMetrics,
    DeliveryRejected,
    DeliveryTimeout,
    Keystore,
    Lifecycle,
    OutboxWriter,
    SendReceipt,
    Service,
    Settings,
    make_producer,
    start_producer,
)
from docbus.directory import Directory
from producers._watcher import NoticeWatcher, WatchedNotice
from schemas import (
    BUS_AGENCY,
    HEADER_ADDRESSED_TO,
    HEADER_REDIRECTED_TO,
    LIFECYCLE_RANK,
    AgencyCode,
    Codec,
    Document,
    RecordSigner,
    StatusCode,
    StatusNotice,
    is_party_id,
    top_level_of,
)

__all__ = ["Sender"]


class Sender(Service):
    """Sends one agency's documents onto the bus.

    Concurrent ``send`` calls share the producer's batches (``linger_ms``), so many
    documents in flight cost little more than one. Pass ``producer`` to share one
    producer between several senders; the sender then neither starts nor stops it.
    Recipients are checked against ``directory`` (default: the packaged one) on each
    document's send date: an unknown code, a missing group or an agency closed without
    successor raises :class:`~docbus.UnknownRecipientError` and nothing is sent.
    """

    def __init__(
        self,
        *,
        agency: str,
        settings: Settings,
        producer: AIOKafkaProducer | None = None,
        codec: Codec | None = None,
        metrics: ClientMetrics | None = None,
        signer: RecordSigner | None = None,
        directory: Directory | None = None,
    ) -> None:
        self._settings = settings
        top_level = top_level_of(agency)
        # The key first: a missing one then leaves no client behind to close.
        signer = signer or Keystore(settings.keys_root).signer(top_level)
        self._owns_producer = producer is None
        self._producer = producer if producer is not None else make_producer(settings)
        self._writer = OutboxWriter(
            agency=agency,
            settings=settings,
            producer=self._producer,
            codec=codec if codec is not None else Codec(),
            metrics=metrics,
            signer=signer,
            directory=directory if directory is not None else Directory.load(),
        )
        self._watcher = NoticeWatcher(settings=settings, agency=top_level, codec=self._writer.codec)
        self._watcher_lock = asyncio.Lock()
        self._lifecycle = Lifecycle(f"Sender({agency})")

    @property
    def metrics(self) -> ClientMetrics:
        """This sender's metrics (serve ``metrics.registry`` to let Prometheus scrape them)."""
        return self._writer.metrics

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
        if not self._lifecycle.closing():
            return
        await self._watcher.stop()
        await self._writer.drain()
        if self._owns_producer:
            await self._producer.stop()

    async def send(
        self,
        document: Document,
        *,
        wait_for: StatusCode | str | None = None,
        timeout: float = 60.0,  # noqa: ASYNC109 - only with wait_for: the SDK's documented call
    ) -> SendReceipt:
        """Validate and send ``document``; return once the broker holds it.

        With ``wait_for`` (for example ``StatusCode.ACCEPTED``), return only once every
        recipient has reached that status or a later one; the receipt's ``statuses`` says
        where each stands. A recipient moved to a successor is followed. Raises
        :class:`~docbus.InvalidDocumentError` (nothing sent) for a bad document,
        :class:`~docbus.UnknownRecipientError` (nothing sent) for a recipient nobody
        receives for,
        :class:`~docbus.DeliveryRejected` if a recipient or the bus rejects it, and
        :class:`~docbus.DeliveryTimeout` after ``timeout`` seconds.
        """
        self._lifecycle.require_open()
        if wait_for is None:
            return await self._writer.write_document(document)
        target = LIFECYCLE_RANK.get(wait_for)
        if target is None:
            raise ValueError(f"wait_for must be one of 01, 03, 04, 05, 06, not {wait_for}")
        if any(AgencyCode.is_group(r) for r in document.recipients):
            raise ValueError("wait_for needs recipients named by code, not groups")
        watcher = await self._watching()
        async with watcher.subscription() as notices:
            receipt = await self._writer.write_document(document)
            statuses = await _await_statuses(document, target, notices, timeout)
        waited: SendReceipt = dataclasses.replace(receipt, statuses=statuses)
        return waited

    async def status_changes(self) -> AsyncIterator[StatusNotice]:
        """Every status notice about this agency's documents, from now on, as it comes."""
        self._lifecycle.require_open()
        watcher = await self._watching()
        top = top_level_of(self.agency)
        async with watcher.subscription() as notices:
            while True:
                watched = await notices.get()
                if is_party_id(watched.notice.document_sender) and (
                    top_level_of(watched.notice.document_sender) == top
                ):
                    yield watched.notice

    async def recall(
        self, document: Document, recipient: str, description: str = ""
    ) -> SendReceipt:
        """Ask ``recipient`` to give ``document`` back (status 13); it answers 15 or 16."""
        return await self.notify(
            StatusNotice.about(
                document,
                from_agency=document.sender,
                to_agency=recipient,
                status_code=StatusCode.RECALL_REQUESTED,
                description=description,
            )
        )

    async def _watching(self) -> NoticeWatcher:
        async with self._watcher_lock:  # concurrent first callers start it once
            if not self._watcher.started:
                await self._watcher.start()
        return self._watcher

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


async def _await_statuses(
    document: Document,
    target: int,
    notices: asyncio.Queue[WatchedNotice],
    timeout: float,  # noqa: ASYNC109
) -> dict[str, str]:
    """Wait until every recipient of ``document`` reached rank ``target``; what each reached."""
    waiting = set(document.recipients)
    reached: dict[str, str] = {}
    try:
        async with asyncio.timeout(timeout):
            while waiting:
                watched = await notices.get()
                notice = watched.notice
                if notice.document_id != document.document_id:
                    continue
                if notice.from_agency == BUS_AGENCY:
                    if notice.status_code == StatusCode.REJECTED:
                        raise DeliveryRejected(document.document_id, BUS_AGENCY, notice.description)
                    addressed = watched.headers.get(HEADER_ADDRESSED_TO)
                    if notice.status_code == StatusCode.REDIRECTED and addressed in waiting:
                        waiting.discard(addressed)
                        successors = watched.headers.get(HEADER_REDIRECTED_TO, "").split(",")
                        waiting.update(s for s in successors if s and s not in reached)
                    continue
                if notice.from_agency not in waiting:
                    continue
                if notice.status_code == StatusCode.REJECTED:
                    raise DeliveryRejected(
                        document.document_id, notice.from_agency, notice.description
                    )
                if LIFECYCLE_RANK.get(notice.status_code, 0) >= target:
                    waiting.discard(notice.from_agency)
                    reached[notice.from_agency] = notice.status_code
    except TimeoutError:
        raise DeliveryTimeout(
            f"{document.document_id}: no answer in {timeout} s from {', '.join(sorted(waiting))}"
        ) from None
    return reached

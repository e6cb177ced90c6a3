"""Writing to an agency's own outbox: validate, encode, size-check, produce, await the ack.

Express documents (priority 3 and 4) go to the outbox's express lane, partition 0, and
once there ring the bus's doorbell (:mod:`schemas._doorbell`) where the settings put
routers on rings; everything else goes by its key (:mod:`schemas._topics`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaProducer

from docbus._client_metrics import ClientMetrics
from docbus._exceptions import InvalidDocumentError, InvalidNoticeError
from docbus._ringer import Ringer
from docbus._settings import Settings
from docbus._signing_window import SigningWindow
from schemas import (
    EXPRESS_PARTITION,
    MAX_NOTICE_STEPS,
    VN_TIME,
    Codec,
    Document,
    RecordSigner,
    StatusNotice,
    TopicLayout,
    check_document,
    check_notice,
    is_express,
    top_level_of,
)

if TYPE_CHECKING:
    from docbus.directory import Directory

__all__ = ["OutboxWriter", "SendReceipt"]


@dataclass(frozen=True, slots=True)
class SendReceipt:
    """Where the broker holds a record that was sent."""

    document_id: str
    topic: str
    partition: int
    offset: int
    #: With ``send(..., wait_for=...)``: the status each recipient reached.
    statuses: Mapping[str, str] = field(default_factory=dict)


class OutboxWriter:
    """Produces one agency's documents and notices into its outbox, keyed by document id.

    Every record is signed with ``signer``, the agency's key: its SDK loads it before it
    makes any client, so a missing key leaves nothing to close. Records sent within
    ``linger_ms`` of each other are signed together (:class:`~docbus._signing_window.SigningWindow`).
    With a ``directory``, a document's recipients are checked against it on the send date
    before anything is sent.
    """

    def __init__(
        self,
        *,
        agency: str,
        settings: Settings,
        producer: AIOKafkaProducer,
        codec: Codec,
        signer: RecordSigner,
        metrics: ClientMetrics | None = None,
        directory: Directory | None = None,
    ) -> None:
        self.agency = agency
        self._directory = directory
        self.metrics = metrics if metrics is not None else ClientMetrics()
        self.top_level = top_level_of(agency)
        self.signer = signer
        self._settings = settings
        self._producer = producer
        self.codec = codec
        layout = TopicLayout(settings.topic_prefix)
        self.topic = layout.outbox(self.top_level)
        self._window = SigningWindow(producer, signer, self.topic, settings.linger_ms)
        self._ringer = Ringer(producer, layout.doorbell, enabled=settings.express_sweep_ms > 0)

    async def write_document(self, document: Document) -> SendReceipt:
        """Validate and send ``document``; return once the broker holds it."""
        check_document(document)
        if top_level_of(document.sender) != self.top_level:
            raise InvalidDocumentError(
                [f"sender {document.sender} is not a unit of {self.top_level}"]
            )
        if self._directory is not None:
            sent_on = document.sent_at.astimezone(VN_TIME).date()
            self._directory.check_recipients(document.recipients, sent_on)
        data = self.codec.encode(document)
        if len(data) > self._settings.max_document_bytes:
            raise InvalidDocumentError(
                [
                    f"encoded document is {len(data)} bytes, over the "
                    f"{self._settings.max_document_bytes}-byte limit: send large attachments "
                    "by blob reference"
                ]
            )
        lane = EXPRESS_PARTITION if is_express(document.priority) else None
        receipt = await self._produce(document.document_id, data, partition=lane)
        if lane is not None:
            await self._ringer.ring(receipt.topic, receipt.partition, receipt.offset)
        self.metrics.documents_sent.values[(self.top_level, str(document.priority))] += 1
        return receipt

    async def write_notice(self, notice: StatusNotice) -> SendReceipt:
        """Validate and send ``notice``; return once the broker holds it."""
        receipt = await self._produce(notice.document_id, self._checked_notice(notice))
        self.metrics.notices_sent.values[(self.top_level, str(notice.status_code))] += 1
        return receipt

    async def write_notices(self, notices: Sequence[StatusNotice]) -> list[SendReceipt]:
        """Validate and send ``notices`` at once, signed together; return once the broker
        holds them all (a receiver's arrival notices for a fetched batch, its answers).

        The notices of one delivery go as one record, in the order given (the last one's
        status, the others as its earlier steps): a receiver's 01 and 03 cost one record.
        Each notice's receipt names the record that carries it."""
        if not notices:
            return []
        groups = _by_delivery(notices)
        records = [StatusNotice.together([notices[i] for i in group]) for group in groups]
        values = [self._checked_notice(record) for record in records]
        sent = await self._window.send_many(
            [
                (record.document_id.encode(), value, None)
                for record, value in zip(records, values, strict=True)
            ]
        )
        sent_by_code = self.metrics.notices_sent.values
        for notice in notices:
            sent_by_code[(self.top_level, str(notice.status_code))] += 1
        receipt_of: dict[int, SendReceipt] = {}  # by the notice's position
        for group, record, metadata in zip(groups, records, sent, strict=True):
            receipt = SendReceipt(
                record.document_id, metadata.topic, metadata.partition, metadata.offset
            )
            receipt_of.update(dict.fromkeys(group, receipt))
        return [receipt_of[i] for i in range(len(notices))]

    async def drain(self) -> None:
        """Send what waits in the signing window; return once the broker holds it all."""
        await self._window.drain()

    def _checked_notice(self, notice: StatusNotice) -> bytes:
        """``notice`` encoded, once it is valid and this agency's."""
        check_notice(notice)
        if top_level_of(notice.from_agency) != self.top_level:
            raise InvalidNoticeError(
                [f"notice sender {notice.from_agency} is not a unit of {self.top_level}"]
            )
        return self.codec.encode(notice)

    async def _produce(
        self, document_id: str, data: bytes, *, partition: int | None = None
    ) -> SendReceipt:
        metadata = await self._window.send(document_id.encode(), data, partition)
        return SendReceipt(document_id, metadata.topic, metadata.partition, metadata.offset)


def _by_delivery(notices: Sequence[StatusNotice]) -> list[list[int]]:
    """The positions of ``notices`` grouped by the delivery they report on, each group in
    the order given and of at most :data:`~schemas.MAX_NOTICE_STEPS` steps."""
    groups: dict[tuple[str, str, str], list[list[int]]] = {}
    for i, notice in enumerate(notices):
        runs = groups.setdefault(notice.delivery, [[]])
        steps = sum(1 + len(notices[j].earlier) for j in runs[-1])
        if runs[-1] and steps + 1 + len(notice.earlier) > MAX_NOTICE_STEPS:
            runs.append([])
        runs[-1].append(i)
    return [run for runs in groups.values() for run in runs]

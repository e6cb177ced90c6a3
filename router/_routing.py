"""Routing decisions: one outbox record in, the records to produce out. No I/O here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from docbus import (
    CodecError,
    DirectoryError,
    RoutingRejected,
    SignatureError,
    ValidationError,
)
from docbus.directory import Directory, Resolution
from router.tracking import Tracker, record_digest
from schemas import (
    BUS_AGENCY,
    EXPRESS_PARTITION,
    HEADER_ADDRESSED_TO,
    HEADER_ERROR,
    HEADER_ERROR_CLASS,
    HEADER_KEY_ID,
    HEADER_OUTBOX_TIME,
    HEADER_PROOF,
    HEADER_RECIPIENT,
    HEADER_REDIRECTED_TO,
    HEADER_SIGNATURE,
    VN_TIME,
    Codec,
    DocumentEnvelope,
    KeyRing,
    RecordSigner,
    StatusCode,
    StatusNotice,
    TopicLayout,
    check_envelope,
    check_notice,
    is_express,
    today_vn,
    top_level_of,
)

__all__ = ["IncomingRecord", "Outgoing", "Routed", "RoutingCore"]

Headers = list[tuple[str, bytes]]

#: Headers the bus writes; a sender's own of these are not forwarded.
_BUS_HEADER_PREFIX = "docbus-"
_SIGNATURE_HEADERS = frozenset({HEADER_KEY_ID, HEADER_SIGNATURE, HEADER_PROOF})
#: A dead letter's reason in words is cut to this (a document can break many rules at once).
_MAX_ERROR_CHARS = 1000


class IncomingRecord(Protocol):
    """What the router reads of a consumed record (aiokafka's ConsumerRecord fits)."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A record the router produces (``partition`` None: by its key, in the bulk lane)."""

    topic: str
    value: bytes
    key: bytes | None = None
    headers: Headers = field(default_factory=list)
    partition: int | None = None
    #: The bus's own notice (a redirect, a rejection): not signed yet; the router signs
    #: those of a batch together (:meth:`RoutingCore.signed`) before it produces them.
    unsigned: bool = False


@dataclass(frozen=True, slots=True)
class Routed:
    """What became of one incoming record."""

    kind: Literal["document", "notice", "dead_letter"]
    outputs: list[Outgoing]
    document_id: str | None = None
    sender: str | None = None
    reason: str | None = None
    detail: str | None = None
    redirects: int = 0
    #: For metrics: the top-level agency of each delivery, and the message's own labels.
    inboxes: tuple[str, ...] = ()
    priority: int | None = None
    document_type: int | None = None
    #: A notice's status codes, one for each step it carries, oldest first.
    status_codes: tuple[str, ...] = ()
    sent_at: dt.datetime | None = None

    @property
    def deliveries(self) -> int:
        """How many recipient units the record was delivered to."""
        return len(self.inboxes)


class RoutingCore:
    """Verifies, decodes, validates and resolves one outbox record: deliveries or a dead letter.

    A document is read no further than its routing envelope (:class:`DocumentEnvelope`)
    and forwarded as the bytes its sender signed; its content is the receivers' to check.

    A record must be signed by the owner of the outbox it came from, with a key of the
    directory's valid today (``keys`` stands in while the directory carries none); the
    notices the bus writes itself come out unsigned (:attr:`Outgoing.unsigned`): the caller
    signs those of a batch together with :meth:`signed`, by ``signer``.
    """

    def __init__(
        self,
        *,
        directory: Directory,
        codec: Codec,
        layout: TopicLayout,
        max_document_bytes: int,
        signer: RecordSigner,
        keys: KeyRing | None = None,
        tracker: Tracker | None = None,
    ) -> None:
        self.directory = directory
        self.tracker = tracker
        self._codec = codec
        self._layout = layout
        self._max_bytes = max_document_bytes
        self._signer = signer
        self._fallback_keys = keys if keys is not None else KeyRing()

    @property
    def keys(self) -> KeyRing:
        """The public keys records are verified with: the directory's, else the fallback."""
        return self.directory.keys if len(self.directory.keys) else self._fallback_keys

    def route(self, record: IncomingRecord) -> Routed:
        """Route ``record``; never raises for bad input (it becomes a dead letter)."""
        owner = self._layout.outbox_owner(record.topic)
        message: DocumentEnvelope | StatusNotice | None = None
        try:
            if owner is None or owner not in self.directory:
                raise RoutingRejected("unknown_outbox", f"{record.topic} is no agency's outbox")
            value = self._sized_value(record)
            try:
                self.keys.verify(value, record.headers, signer=owner, day=today_vn())
            except SignatureError as exc:
                raise RoutingRejected(exc.kind, exc.detail) from exc
            message = self._decode(value)
            if isinstance(message, DocumentEnvelope):
                return self._route_document(record, owner, message)
            return self._route_notice(record, owner, message)
        except RoutingRejected as rejected:
            return self._dead_letter(record, owner, message, rejected)

    def _sized_value(self, record: IncomingRecord) -> bytes:
        value = record.value
        if not value:
            raise RoutingRejected("empty", "record has no value")
        if len(value) > self._max_bytes:
            raise RoutingRejected(
                "oversized",
                f"record of {len(value)} bytes exceeds the {self._max_bytes}-byte limit",
            )
        return value

    def _decode(self, value: bytes) -> DocumentEnvelope | StatusNotice:
        try:
            return self._codec.decode_envelope(value)
        except (CodecError, ValidationError) as exc:
            raise RoutingRejected(exc.kind, str(exc)) from exc

    def _route_document(self, record: IncomingRecord, owner: str, doc: DocumentEnvelope) -> Routed:
        try:
            check_envelope(doc)
        except ValidationError as exc:
            raise RoutingRejected(exc.kind, str(exc)) from exc
        self._require_owner(owner, doc.sender, "sender")
        at = doc.sent_at.astimezone(VN_TIME).date()
        if self.directory.agency_at(owner, at) is None:
            raise RoutingRejected("sender_closed", f"{owner} does not exist on {at.isoformat()}")
        inboxes: dict[str, str] = {}  # recipient unit -> top-level agency whose inbox gets it
        redirects: list[Resolution] = []
        for requested in doc.recipients:
            try:
                resolutions = self.directory.expand(requested, at)
            except DirectoryError as exc:
                raise RoutingRejected("unknown_recipient", str(exc)) from exc
            for resolution in resolutions:
                if resolution.redirected_from is not None:
                    redirects.append(resolution)
                for recipient, agency in zip(
                    resolution.recipients, resolution.agencies, strict=True
                ):
                    inboxes.setdefault(recipient, agency.code)
        if self.tracker is not None:
            digest = record_digest(record.value or b"")
            self.tracker.on_document(doc, list(inboxes.items()), digest=digest)
        value = record.value
        assert value is not None
        lane = EXPRESS_PARTITION if is_express(doc.priority) else None
        outbox_time = (HEADER_OUTBOX_TIME, str(record.timestamp).encode())
        forwarded = _forwarded(record.headers)
        outputs = [
            Outgoing(
                topic=self._layout.inbox(inbox),
                value=value,
                key=f"{recipient}|{doc.document_id}".encode(),
                headers=[*forwarded, (HEADER_RECIPIENT, recipient.encode()), outbox_time],
                partition=lane,
            )
            for recipient, inbox in inboxes.items()
        ]
        outputs += [self._redirect_notice(doc, owner, r) for r in redirects]
        return Routed(
            "document",
            outputs,
            document_id=doc.document_id,
            sender=doc.sender,
            redirects=len(redirects),
            inboxes=tuple(inboxes.values()),
            priority=doc.priority,
            document_type=doc.document_type,
            sent_at=doc.sent_at,
        )

    def _redirect_notice(
        self, doc: DocumentEnvelope, owner: str, resolution: Resolution
    ) -> Outgoing:
        closed = resolution.redirected_from
        assert closed is not None
        receivers = ", ".join(f"{a.code} ({a.name})" for a in resolution.agencies)
        notice = StatusNotice.about(
            doc,
            from_agency=BUS_AGENCY,
            to_agency=doc.sender,
            status_code=StatusCode.REDIRECTED,
            description=(
                f"{resolution.requested} ({closed.name}) closed on {closed.valid_to}; "
                f"delivered to its successor {receivers}"
            ),
        )
        value = self._codec.encode(notice)
        return Outgoing(
            self._layout.inbox(owner),
            value,
            key=doc.document_id.encode(),
            headers=[
                (HEADER_ADDRESSED_TO, resolution.requested.encode()),
                (HEADER_REDIRECTED_TO, ",".join(a.code for a in resolution.agencies).encode()),
            ],
            unsigned=True,
        )

    def _route_notice(self, record: IncomingRecord, owner: str, notice: StatusNotice) -> Routed:
        try:
            check_notice(notice)
        except ValidationError as exc:
            raise RoutingRejected(exc.kind, str(exc)) from exc
        if StatusCode.REDIRECTED in (notice.status_code, *(s.status_code for s in notice.earlier)):
            raise RoutingRejected("invalid_notice", "status 90 (redirected) is the bus's own")
        self._require_owner(owner, notice.from_agency, "notice sender")
        at = notice.timestamp.astimezone(VN_TIME).date()
        try:
            inbox = self.directory.resolve(notice.to_agency, at).agencies[0].code
        except (DirectoryError, IndexError) as exc:
            raise RoutingRejected(
                "unknown_recipient", f"notice to {notice.to_agency}: {exc}"
            ) from exc
        assert record.value is not None
        out = Outgoing(
            topic=self._layout.inbox(inbox),
            value=record.value,
            key=notice.document_id.encode(),
            headers=_forwarded(record.headers),
        )
        if self.tracker is not None:
            self.tracker.apply_steps(notice)
        return Routed(
            "notice",
            [out],
            document_id=notice.document_id,
            sender=notice.from_agency,
            inboxes=(inbox,),
            status_codes=(*(str(s.status_code) for s in notice.earlier), str(notice.status_code)),
            sent_at=notice.timestamp,
        )

    @staticmethod
    def _require_owner(owner: str, code: str, role: str) -> None:
        if top_level_of(code) != owner:
            raise RoutingRejected(
                "sender_mismatch", f"{role} {code} does not belong to the outbox owner {owner}"
            )

    def _dead_letter(
        self,
        record: IncomingRecord,
        owner: str | None,
        message: DocumentEnvelope | StatusNotice | None,
        rejected: RoutingRejected,
    ) -> Routed:
        headers: Headers = [
            *record.headers,
            (HEADER_ERROR, rejected.detail[:_MAX_ERROR_CHARS].encode()),
            (HEADER_ERROR_CLASS, rejected.reason.encode()),
            ("docbus-source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        outputs = [
            Outgoing(self._layout.deadletter, record.value or b"", key=record.key, headers=headers)
        ]
        document_id = _document_id(record, message)
        if owner is not None and owner in self.directory:
            outputs.append(self._rejection(owner, document_id, message, rejected))
        return Routed(
            "dead_letter",
            outputs,
            document_id=document_id,
            sender=owner,
            reason=rejected.reason,
            detail=rejected.detail,
        )

    def _rejection(
        self,
        owner: str,
        document_id: str,
        message: DocumentEnvelope | StatusNotice | None,
        rejected: RoutingRejected,
    ) -> Outgoing:
        notice = StatusNotice(
            document_id=document_id,
            document_sender=owner,
            document_code=message.code if isinstance(message, DocumentEnvelope) else "",
            from_agency=BUS_AGENCY,
            to_agency=owner,
            status_code=StatusCode.REJECTED,
            description=f"rejected by docbus ({rejected.reason}): {rejected.detail}"[:500],
            timestamp=dt.datetime.now(dt.UTC),
        )
        value = self._codec.encode(notice)
        return Outgoing(
            self._layout.inbox(owner),
            value,
            key=document_id.encode(),
            headers=[(HEADER_ERROR_CLASS, rejected.reason.encode())],
            unsigned=True,
        )

    def signed(self, notices: Sequence[Outgoing]) -> list[Outgoing]:
        """The bus's own ``notices`` signed as one batch (one signature, a proof each)."""
        if not notices:
            return []
        signatures = self._signer.batch_headers([n.value for n in notices])
        return [
            Outgoing(n.topic, n.value, n.key, [*n.headers, *extra], n.partition)
            for n, extra in zip(notices, signatures, strict=True)
        ]


def _forwarded(headers: Sequence[tuple[str, bytes]]) -> Headers:
    """The headers a delivery keeps: the signature (with its proof) and the sender's own,
    none of the bus's.

    A sender cannot set what the bus vouches for (``docbus-recipient`` and the like).
    """
    return [
        (name, value)
        for name, value in headers
        if not name.startswith(_BUS_HEADER_PREFIX) or name in _SIGNATURE_HEADERS
    ]


def _document_id(record: IncomingRecord, message: DocumentEnvelope | StatusNotice | None) -> str:
    if message is not None:
        return message.document_id[:200]
    if record.key:
        return record.key.decode("utf-8", errors="replace")[:200]
    return ""

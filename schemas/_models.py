"""Value objects of the contract: a Document, a StatusNotice and their parts (edXML names in docs)."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from schemas._errors import InvalidDocumentError, InvalidNoticeError, ValidationError

__all__ = [
    "VN_TIME",
    "Attachment",
    "Business",
    "BusinessType",
    "Document",
    "DocumentType",
    "NoticeStep",
    "Organ",
    "Priority",
    "ReceiverChange",
    "ResponseFor",
    "Signer",
    "StaffInfo",
    "StatusCode",
    "StatusNotice",
    "SteeringType",
    "TraceHop",
    "code_list_problem",
    "enum_member",
    "today_vn",
]

Record = dict[str, Any]
_E = TypeVar("_E", bound=enum.Enum)

#: Vietnam time (UTC+7, no daylight saving): edXML's times and documents' dates are in it.
VN_TIME = dt.timezone(dt.timedelta(hours=7))


def today_vn() -> dt.date:
    """Today in Vietnam (UTC+7): documents are dated, and keys valid, by the day there."""
    return dt.datetime.now(VN_TIME).date()


class Priority(enum.IntEnum):
    """edXML OtherInfo/Priority."""

    NORMAL = 0
    URGENT = 1
    VERY_URGENT = 2
    EXPRESS = 3
    EXPRESS_TIMED = 4


class SteeringType(enum.IntEnum):
    """edXML SteeringType."""

    NOT_STEERING = 1
    STEERING = 2
    STEERING_REPORT = 3


class BusinessType(enum.IntEnum):
    """edXML BusinessDocType: what a document does to an earlier one."""

    NEW = 0
    REVOKE = 1
    UPDATE = 2
    REPLACE = 3


class StatusCode(enum.StrEnum):
    """edXML status codes of a delivery."""

    ARRIVED = "01"
    REJECTED = "02"
    ACCEPTED = "03"
    ASSIGNED = "04"
    IN_PROGRESS = "05"
    DONE = "06"
    RECALL_REQUESTED = "13"
    RECALL_AGREED = "15"
    RECALL_REFUSED = "16"
    #: docbus's own, outside edXML: the bus delivered to a closed agency's successor.
    #: Only the bus sends it (``from_agency`` is ``docbus``); agencies may not.
    REDIRECTED = "90"


def code_list_problem(kind: type[enum.Enum], value: object, field_name: str) -> str | None:
    """Why ``value`` is not a member of the edXML code list ``kind``; ``None`` if it is."""
    try:
        if value in kind._value2member_map_:  # a dict: no list of members built per call
            return None
    except TypeError:  # unhashable: not a member
        pass
    values = [member.value for member in kind]
    if all(isinstance(v, int) for v in values):
        return f"{field_name} must be {min(values)}-{max(values)}, got {value!r}"
    return f"{field_name} {value!r} is not one of {', '.join(sorted(map(str, values)))}"


def enum_member(kind: type[_E], value: object, field_name: str, error: type[ValidationError]) -> _E:
    """``value`` as a member of ``kind``, or ``error`` naming the field and the values allowed
    (a record that decodes but carries a value outside an edXML code list)."""
    try:
        member: _E = kind._value2member_map_[value]  # type: ignore[assignment]
    except (KeyError, TypeError):  # not a member, or unhashable
        raise error([code_list_problem(kind, value, field_name) or repr(value)]) from None
    return member


@dataclass(frozen=True, slots=True)
class Organ:
    """edXML From/To: an agency's contact details."""

    organ_id: str
    organization_in_charge: str = ""
    name: str = ""
    address: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""

    def to_record(self) -> Record:
        return {
            "organ_id": self.organ_id,
            "organization_in_charge": self.organization_in_charge,
            "name": self.name,
            "address": self.address,
            "email": self.email,
            "telephone": self.telephone,
            "fax": self.fax,
            "website": self.website,
        }

    @classmethod
    def from_record(cls, r: Record) -> Organ:
        return cls(**r)


@dataclass(frozen=True, slots=True)
class DocumentType:
    """edXML DocumentType: Type 1 is "Công văn" (official letter)."""

    type: int
    type_name: str
    type_detail: int = 0

    def to_record(self) -> Record:
        return {"type": self.type, "type_detail": self.type_detail, "type_name": self.type_name}

    @classmethod
    def from_record(cls, r: Record) -> DocumentType:
        return cls(type=r["type"], type_name=r["type_name"], type_detail=r["type_detail"])


@dataclass(frozen=True, slots=True)
class Signer:
    """edXML SignerInfo."""

    position: str
    full_name: str
    competence: str = ""

    def to_record(self) -> Record:
        return {
            "competence": self.competence,
            "position": self.position,
            "full_name": self.full_name,
        }

    @classmethod
    def from_record(cls, r: Record) -> Signer:
        return cls(position=r["position"], full_name=r["full_name"], competence=r["competence"])


@dataclass(frozen=True, slots=True)
class ReceiverChange:
    """One line of an update's receiver delta: ``change_type`` 0 removed, 1 added."""

    organ_id: str
    change_type: int

    def to_record(self) -> Record:
        return {"organ_id": self.organ_id, "change_type": self.change_type}


@dataclass(frozen=True, slots=True)
class StaffInfo:
    """edXML StaffInfo: the clerk behind a status, or behind a revoke, update or replace."""

    department: str = ""
    full_name: str = ""
    position: str = ""
    email: str = ""
    mobile: str = ""

    def to_record(self) -> Record:
        return {
            "department": self.department,
            "full_name": self.full_name,
            "position": self.position,
            "email": self.email,
            "mobile": self.mobile,
        }

    @classmethod
    def from_record(cls, r: Record) -> StaffInfo:
        """The staff of a decoded Avro record; most name nobody, and share one value."""
        if not any(r.values()):
            return NO_STAFF
        return cls(**r)


#: The staff of a status no clerk signed: shared, as a notice's steps mostly have it.
NO_STAFF = StaffInfo()


@dataclass(frozen=True, slots=True)
class Business:
    """edXML Trace/Business: new, or a revoke, update or replace of ``related_document_id``."""

    business_type: BusinessType = BusinessType.NEW
    reason: str = ""
    related_document_id: str | None = None
    receiver_changes: tuple[ReceiverChange, ...] = ()
    paper: int = 0
    staff: StaffInfo = NO_STAFF

    def to_record(self) -> Record:
        return {
            "business_type": int(self.business_type),
            "reason": self.reason,
            "related_document_id": self.related_document_id,
            "receiver_changes": [c.to_record() for c in self.receiver_changes],
            "paper": self.paper,
            "staff": self.staff.to_record(),
        }

    @classmethod
    def from_record(cls, r: Record) -> Business:
        return cls(
            business_type=enum_member(
                BusinessType, r["business_type"], "business_type", InvalidDocumentError
            ),
            reason=r["reason"],
            related_document_id=r["related_document_id"],
            receiver_changes=tuple(ReceiverChange(**c) for c in r["receiver_changes"]),
            paper=r["paper"],
            staff=StaffInfo.from_record(r["staff"]) if "staff" in r else NO_STAFF,
        )


@dataclass(frozen=True, slots=True)
class ResponseFor:
    """edXML ResponseFor: a document this one answers."""

    organ_id: str
    code: str
    document_id: str
    promulgation_date: dt.date | None = None

    def to_record(self) -> Record:
        return {
            "organ_id": self.organ_id,
            "code": self.code,
            "promulgation_date": self.promulgation_date,
            "document_id": self.document_id,
        }

    @classmethod
    def from_record(cls, r: Record) -> ResponseFor:
        return cls(**r)


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attachment: inline ``content`` for a small one, a ``blob_ref`` for a large one."""

    content_id: str
    name: str
    content_type: str
    size_bytes: int
    sha256: str
    description: str = ""
    content: bytes | None = None
    blob_ref: str | None = None

    def to_record(self) -> Record:
        return {
            "content_id": self.content_id,
            "name": self.name,
            "content_type": self.content_type,
            "description": self.description,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "content": self.content,
            "blob_ref": self.blob_ref,
        }

    @classmethod
    def from_record(cls, r: Record) -> Attachment:
        return cls(**r)

    @classmethod
    def inline(
        cls, content_id: str, name: str, content: bytes, content_type: str = "application/pdf"
    ) -> Attachment:
        """A small attachment carried in the document, its size and SHA-256 computed."""
        return cls(
            content_id=content_id,
            name=name,
            content_type=content_type,
            size_bytes=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
        )


@dataclass(frozen=True, slots=True)
class TraceHop:
    """edXML TraceHeader: an agency or hub that handled the document, and when."""

    organ_id: str
    timestamp: dt.datetime

    def to_record(self) -> Record:
        return {"organ_id": self.organ_id, "timestamp": self.timestamp}


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """An official electronic document, as the edXML document message carries it."""

    document_id: str
    sender: str
    recipients: tuple[str, ...]
    code_number: str
    code_notation: str
    promulgation_place: str
    promulgation_date: dt.date
    document_type: DocumentType
    subject: str
    signer: Signer
    priority: Priority
    sent_at: dt.datetime
    content: str = ""
    due_date: dt.date | None = None
    steering_type: SteeringType = SteeringType.NOT_STEERING
    business: Business = field(default_factory=Business)
    response_for: tuple[ResponseFor, ...] = ()
    organs: tuple[Organ, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    trace: tuple[TraceHop, ...] = ()
    sphere_of_promulgation: str = ""
    typer_notation: str = ""
    promulgation_amount: int = 0
    page_amount: int = 0
    appendixes: tuple[str, ...] = ()
    to_places: tuple[str, ...] = ()
    #: The edXML header's XML-DSig ``Signature`` element as XML text; ``None``: unsigned.
    signature: str | None = None
    #: Elements the bus does not model, kept to be written back: (parent path, their XML).
    extensions: tuple[tuple[str, str], ...] = ()

    @property
    def code(self) -> str:
        """``<number>/<notation>``, as edXML's ResponseFor/Code writes it."""
        return f"{self.code_number}/{self.code_notation}"

    def to_record(self) -> Record:
        """The Avro record (latest schema version) for this document."""
        return {
            "document_id": self.document_id,
            "sender": self.sender,
            "recipients": list(self.recipients),
            "organs": [o.to_record() for o in self.organs],
            "code_number": self.code_number,
            "code_notation": self.code_notation,
            "promulgation_place": self.promulgation_place,
            "promulgation_date": self.promulgation_date,
            "document_type": self.document_type.to_record(),
            "subject": self.subject,
            "content": self.content,
            "signer": self.signer.to_record(),
            "due_date": self.due_date,
            "priority": int(self.priority),
            "steering_type": int(self.steering_type),
            "business": self.business.to_record(),
            "response_for": [r.to_record() for r in self.response_for],
            "attachments": [a.to_record() for a in self.attachments],
            "trace": [t.to_record() for t in self.trace],
            "sent_at": self.sent_at,
            "sphere_of_promulgation": self.sphere_of_promulgation,
            "typer_notation": self.typer_notation,
            "promulgation_amount": self.promulgation_amount,
            "page_amount": self.page_amount,
            "appendixes": list(self.appendixes),
            "to_places": list(self.to_places),
            "signature": self.signature,
            "extensions": dict(self.extensions),
        }

    @classmethod
    def from_record(cls, r: Record) -> Document:
        """A document from a decoded Avro record of any schema version."""
        return cls(
            document_id=r["document_id"],
            sender=r["sender"],
            recipients=tuple(r["recipients"]),
            organs=tuple(Organ.from_record(o) for o in r["organs"]),
            code_number=r["code_number"],
            code_notation=r["code_notation"],
            promulgation_place=r["promulgation_place"],
            promulgation_date=r["promulgation_date"],
            document_type=DocumentType.from_record(r["document_type"]),
            subject=r["subject"],
            content=r["content"],
            signer=Signer.from_record(r["signer"]),
            due_date=r["due_date"],
            priority=enum_member(Priority, r["priority"], "priority", InvalidDocumentError),
            steering_type=enum_member(
                SteeringType, r["steering_type"], "steering_type", InvalidDocumentError
            ),
            business=Business.from_record(r["business"]),
            response_for=tuple(ResponseFor.from_record(x) for x in r["response_for"]),
            attachments=tuple(Attachment.from_record(a) for a in r["attachments"]),
            trace=tuple(TraceHop(**t) for t in r["trace"]),
            sent_at=r["sent_at"],
            sphere_of_promulgation=r.get("sphere_of_promulgation", ""),
            typer_notation=r.get("typer_notation", ""),
            promulgation_amount=r.get("promulgation_amount", 0),
            page_amount=r.get("page_amount", 0),
            appendixes=tuple(r.get("appendixes", ())),
            to_places=tuple(r.get("to_places", ())),
            signature=r.get("signature"),
            extensions=tuple(r.get("extensions", {}).items()),
        )


class AboutDocument(Protocol):
    """What a notice names of its document: a :class:`Document` or its envelope."""

    @property
    def document_id(self) -> str: ...
    @property
    def sender(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def promulgation_date(self) -> dt.date: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeStep:
    """A status one delivery reached before the notice that carries it (see
    :attr:`StatusNotice.earlier`)."""

    status_code: StatusCode
    timestamp: dt.datetime
    description: str = ""
    staff: StaffInfo = NO_STAFF
    extensions: tuple[tuple[str, str], ...] = ()

    def to_record(self) -> Record:
        """The Avro record for this step."""
        return {
            "status_code": str(self.status_code),
            "description": self.description,
            "timestamp": self.timestamp,
            "staff": self.staff.to_record(),
            "extensions": dict(self.extensions),
        }

    @classmethod
    def from_record(cls, r: Record) -> NoticeStep:
        """A step from a decoded Avro record."""
        return cls(
            status_code=enum_member(
                StatusCode, r["status_code"], "status code", InvalidNoticeError
            ),
            description=r["description"],
            timestamp=r["timestamp"],
            staff=StaffInfo.from_record(r["staff"]),
            extensions=tuple(r["extensions"].items()),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusNotice:
    """A status notice about one (document, recipient) delivery.

    One record may carry several steps of the delivery (an arrival held until the
    answer, 03 then 06): the notice's own status is the latest and :attr:`earlier` holds
    those before it. :meth:`steps` gives each as a notice of its own, oldest first;
    :meth:`together` makes one notice of a delivery's steps.
    """

    document_id: str
    document_sender: str
    from_agency: str
    to_agency: str
    status_code: StatusCode
    timestamp: dt.datetime
    document_code: str = ""
    promulgation_date: dt.date | None = None
    description: str = ""
    staff: StaffInfo = NO_STAFF
    #: Elements the bus does not model, kept to be written back: (parent path, their XML).
    extensions: tuple[tuple[str, str], ...] = ()
    #: The steps of the same delivery reached before this one, oldest first.
    earlier: tuple[NoticeStep, ...] = ()

    @classmethod
    def about(
        cls,
        document: AboutDocument,
        *,
        from_agency: str,
        to_agency: str,
        status_code: StatusCode | str,
        description: str = "",
        staff: StaffInfo | None = None,
    ) -> StatusNotice:
        """A notice about ``document``, stamped now."""
        return cls(
            document_id=document.document_id,
            document_sender=document.sender,
            document_code=document.code,
            promulgation_date=document.promulgation_date,
            from_agency=from_agency,
            to_agency=to_agency,
            status_code=enum_member(StatusCode, status_code, "status code", InvalidNoticeError),
            description=description[:500],
            timestamp=dt.datetime.now(dt.UTC),
            staff=staff or NO_STAFF,
        )

    @property
    def delivery(self) -> tuple[str, str, str]:
        """``(document_id, from_agency, to_agency)``: the delivery it reports on, and to whom."""
        return (self.document_id, self.from_agency, self.to_agency)

    def steps(self) -> tuple[StatusNotice, ...]:
        """Each step this notice carries as a notice of its own, oldest first."""
        if not self.earlier:
            return (self,)
        return (*(self._at(step) for step in self.earlier), self._at(self.step))

    def _at(self, step: NoticeStep, earlier: tuple[NoticeStep, ...] = ()) -> StatusNotice:
        """This notice's delivery at ``step``, after ``earlier`` (built field by field: a
        notice's steps are read for every notice the bus carries, and ``replace`` costs
        three times this)."""
        return StatusNotice(
            document_id=self.document_id,
            document_sender=self.document_sender,
            from_agency=self.from_agency,
            to_agency=self.to_agency,
            status_code=step.status_code,
            timestamp=step.timestamp,
            document_code=self.document_code,
            promulgation_date=self.promulgation_date,
            description=step.description,
            staff=step.staff,
            extensions=step.extensions,
            earlier=earlier,
        )

    @classmethod
    def together(cls, notices: Sequence[StatusNotice]) -> StatusNotice:
        """One notice carrying ``notices``' steps, in order: the last one's status, the
        others' as :attr:`earlier`. They must report on one delivery (``ValueError``)."""
        if not notices:
            raise ValueError("no notices to put together")
        last = notices[-1]
        about = (last.delivery, last.document_sender, last.document_code, last.promulgation_date)
        earlier: list[NoticeStep] = []
        for notice in notices[:-1]:
            if (
                notice.delivery,
                notice.document_sender,
                notice.document_code,
                notice.promulgation_date,
            ) != about:
                raise ValueError(
                    f"notice {notice.status_code} for {notice.delivery} is not about the same "
                    f"delivery as {last.status_code} for {last.delivery}"
                )
            earlier += [*notice.earlier, notice.step]
        return last._at(last.step, earlier=(*earlier, *last.earlier)) if earlier else last

    @property
    def step(self) -> NoticeStep:
        """This notice's own status as a step (without :attr:`earlier`)."""
        return NoticeStep(
            status_code=self.status_code,
            timestamp=self.timestamp,
            description=self.description,
            staff=self.staff,
            extensions=self.extensions,
        )

    def to_record(self) -> Record:
        """The Avro record for this notice."""
        return {
            "document_id": self.document_id,
            "document_sender": self.document_sender,
            "document_code": self.document_code,
            "promulgation_date": self.promulgation_date,
            "from_agency": self.from_agency,
            "to_agency": self.to_agency,
            "status_code": str(self.status_code),
            "description": self.description,
            "timestamp": self.timestamp,
            "staff": self.staff.to_record(),
            "extensions": dict(self.extensions),
            "earlier": [step.to_record() for step in self.earlier],
        }

    @classmethod
    def from_record(cls, r: Record) -> StatusNotice:
        """A notice from a decoded Avro record."""
        return cls(
            document_id=r["document_id"],
            document_sender=r["document_sender"],
            document_code=r["document_code"],
            promulgation_date=r["promulgation_date"],
            from_agency=r["from_agency"],
            to_agency=r["to_agency"],
            status_code=enum_member(
                StatusCode, r["status_code"], "status code", InvalidNoticeError
            ),
            description=r["description"],
            timestamp=r["timestamp"],
            staff=StaffInfo.from_record(r["staff"]),
            extensions=tuple(r.get("extensions", {}).items()),
            earlier=tuple(NoticeStep.from_record(step) for step in r.get("earlier", ())),
        )

"""edXML in: a document message becomes a :class:`Document`, a status message a :class:`StatusNotice`.

Lenient where real files vary (optional elements missing, ``Bussiness`` or ``Business``,
date forms, whitespace, a SOAP envelope around the header), strict where meaning is at
stake: a missing required element, a value of the wrong form, duplicate recipients or a
broken attachment is an :class:`EdxmlError` naming the element and its line.
"""

from __future__ import annotations

import datetime as dt
import enum
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from docbus._blobs import BlobStore
from docbus._exceptions import EdxmlError
from docbus.edxml._dates import format_date, parse_date, parse_timestamp
from docbus.edxml._signature import XMLDSIG_NS, SignatureCheck, check_signature
from docbus.edxml._tree import Element, read_tree
from schemas import (
    Attachment,
    Business,
    BusinessType,
    Document,
    DocumentType,
    Organ,
    Priority,
    ReceiverChange,
    ResponseFor,
    Signer,
    StaffInfo,
    StatusCode,
    StatusNotice,
    SteeringType,
    TraceHop,
    code_list_problem,
    document_problems,
    notice_problems,
)

__all__ = ["EDXML_NS", "ImportedDocument", "ImportedMessage", "ImportedStatus", "import_edxml"]

EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
#: The status codes an edXML status message may carry (90 is docbus's own).
EDXML_STATUS_CODES = frozenset(c.value for c in StatusCode if c is not StatusCode.REDIRECTED)

T = TypeVar("T")
_E = TypeVar("_E", bound=enum.Enum)


@dataclass(frozen=True, slots=True)
class ImportedDocument:
    """A document message read from ``source``, with what was found of its signature."""

    document: Document
    signature: SignatureCheck
    source: str


@dataclass(frozen=True, slots=True)
class ImportedStatus:
    """A status message read from ``source``, with what was found of its signature."""

    notice: StatusNotice
    signature: SignatureCheck
    source: str


ImportedMessage = ImportedDocument | ImportedStatus


def import_edxml(
    source: Path | bytes, *, blobs: BlobStore, now: dt.datetime | None = None
) -> ImportedMessage:
    """Read one edXML file (document or status message, recognised by its header).

    Attachments are decoded into ``blobs`` and referenced by SHA-256. ``now`` stamps the
    hop of a document whose file has no trace (default: the current time).
    """
    name = str(source) if isinstance(source, Path) else "<bytes>"
    root = read_tree(source if isinstance(source, Path) else io.BytesIO(source), blobs)
    signature = check_signature(source) if _has_signature(root) else SignatureCheck("absent")
    header = root.find("MessageHeader")
    if header is not None:
        moment = now if now is not None else dt.datetime.now(dt.UTC)
        document = _document(root, header, signature.xml, moment)
        return ImportedDocument(document, signature, name)
    status = root.find("Status")
    if status is not None:
        return ImportedStatus(_notice(status), signature, name)
    raise EdxmlError(
        "neither a document message (no MessageHeader) nor a status message (no Status)",
        element=root.where(),
    )


def _has_signature(root: Element) -> bool:
    if root.name == "Signature" and root.namespace == XMLDSIG_NS:
        return True
    return any(_has_signature(c) for c in root.children if c.name != "AttachmentEncoded")


# -- reading values --------------------------------------------------------------------


def _text(parent: Element, *path: str, required: bool = False) -> str:
    element = _at(parent, *path)
    if element is None or (required and not element.text):
        if required:
            where = f"{parent.path}/{'/'.join(path)}"
            raise EdxmlError("required element is missing or empty", element=where)
        return ""
    return element.text


def _at(parent: Element | None, *path: str) -> Element | None:
    """The element at ``path`` below ``parent``; each step may list spellings as ``A|B``."""
    for step in path:
        if parent is None:
            return None
        parent = parent.child(*step.split("|"))
    return parent


def _value(parent: Element, path: str, convert: Callable[[str], T], default: T) -> T:
    element = _at(parent, *path.split("/"))
    if element is None or not element.text:
        return default
    try:
        return convert(element.text)
    except ValueError as exc:
        raise EdxmlError(str(exc), element=element.where()) from None


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None


def _organ(element: Element) -> Organ:
    return Organ(
        organ_id=_text(element, "OrganId", required=True),
        organization_in_charge=_text(element, "OrganizationInCharge"),
        name=_text(element, "OrganName"),
        address=_text(element, "OrganAdd"),
        email=_text(element, "Email"),
        telephone=_text(element, "Telephone"),
        fax=_text(element, "Fax"),
        website=_text(element, "Website"),
    )


def _staff(element: Element | None) -> StaffInfo:
    if element is None:
        return StaffInfo()
    return StaffInfo(
        department=_text(element, "Department"),
        full_name=_text(element, "Staff"),
        position=_text(element, "Position"),
        email=_text(element, "Email"),
        mobile=_text(element, "Mobile"),
    )


# -- the document message --------------------------------------------------------------


def _document(root: Element, header: Element, signature: str | None, now: dt.datetime) -> Document:
    sender_element = header.child("From")
    if sender_element is None:
        raise EdxmlError("required element is missing", element=f"{header.path}/From")
    sender = _organ(sender_element)
    recipients = [_organ(e) for e in header.all("To")]
    if not recipients:
        raise EdxmlError("required element is missing (no recipient)", element=f"{header.path}/To")
    _refuse_duplicate_recipients(header)
    code_number = _text(header, "Code", "CodeNumber", required=True)
    code_notation = _text(header, "Code", "CodeNotation", required=True)
    promulgation_date = _value(header, "PromulgationInfo/PromulgationDate", parse_date, None)
    if promulgation_date is None:
        raise EdxmlError(
            "required element is missing or empty",
            element=f"{header.path}/PromulgationInfo/PromulgationDate",
        )
    trace_list = _at(root, "edXMLEnvelope", "edXMLHeader", "TraceHeaderList") or root.find(
        "TraceHeaderList"
    )
    trace = _trace(trace_list) or (TraceHop(sender.organ_id, now),)
    sent_at = next(
        (h.timestamp for h in trace if h.organ_id == sender.organ_id), trace[0].timestamp
    )
    document_id = _text(header, "DocumentId") or (
        f"{sender.organ_id},{format_date(promulgation_date)},{code_number}/{code_notation}"
    )
    steering = _value(header, "SteeringType", _whole_number, int(SteeringType.NOT_STEERING))
    document = Document(
        document_id=document_id,
        sender=sender.organ_id,
        recipients=tuple(r.organ_id for r in recipients),
        organs=tuple(o for o in (sender, *recipients) if _has_details(o)),
        code_number=code_number,
        code_notation=code_notation,
        promulgation_place=_text(header, "PromulgationInfo", "Place"),
        promulgation_date=promulgation_date,
        document_type=DocumentType(
            type=_value(header, "DocumentType/Type", _whole_number, 0),
            type_name=_text(header, "DocumentType", "TypeName"),
            type_detail=_value(header, "DocumentType/TypeDetail", _whole_number, 0),
        ),
        subject=_text(header, "Subject", required=True),
        content=_text(header, "Content"),
        signer=Signer(
            position=_text(header, "SignerInfo", "Position"),
            full_name=_text(header, "SignerInfo", "FullName"),
            competence=_text(header, "SignerInfo", "Competence"),
        ),
        due_date=_value(header, "DueDate", parse_date, None),
        priority=_code(
            Priority, _value(header, "OtherInfo/Priority", _whole_number, 0), "priority", header
        ),
        # 0 is written by some systems for "not a steering document"
        steering_type=_code(
            SteeringType, steering or int(SteeringType.NOT_STEERING), "steering_type", header
        ),
        business=_business(trace_list),
        response_for=tuple(_response_for(e) for e in header.all("ResponseFor")),
        attachments=_attachments(root),
        trace=trace,
        sent_at=sent_at,
        sphere_of_promulgation=_text(header, "OtherInfo", "SphereOfPromulgation"),
        typer_notation=_text(header, "OtherInfo", "TyperNotation"),
        promulgation_amount=_value(header, "OtherInfo/PromulgationAmount", _whole_number, 0),
        page_amount=_value(header, "OtherInfo/PageAmount", _whole_number, 0),
        appendixes=tuple(
            e.text
            for e in (_at(header, "OtherInfo", "Appendixes") or header).all("Appendix")
            if e.text
        ),
        to_places=tuple(
            e.text for e in (header.child("ToPlaces") or header).all("Place") if e.text
        ),
        signature=signature,
    )
    problems = document_problems(document)
    if problems:
        raise EdxmlError(
            "the document breaks the edXML rules: " + "; ".join(problems), element=header.where()
        )
    return document


def _code(kind: type[_E], value: object, field_name: str, element: Element) -> _E:
    """``value`` as a member of the code list ``kind``, or the edXML rule it breaks."""
    problem = code_list_problem(kind, value, field_name)
    if problem is not None:
        raise EdxmlError(f"the message breaks the edXML rules: {problem}", element=element.where())
    return kind(value)


def _has_details(organ: Organ) -> bool:
    return organ != Organ(organ.organ_id)


def _refuse_duplicate_recipients(header: Element) -> None:
    seen: set[str] = set()
    for element in header.all("To"):
        code = _text(element, "OrganId")
        if code in seen:
            raise EdxmlError(
                f"recipient {code} appears more than once (duplicate To OrganId)",
                element=element.where(),
            )
        seen.add(code)


def _trace(trace_list: Element | None) -> tuple[TraceHop, ...]:
    if trace_list is None:
        return ()
    hops = []
    for element in trace_list.all("TraceHeader"):
        timestamp = _value(element, "Timestamp", parse_timestamp, None)
        if timestamp is None:
            raise EdxmlError(
                "required element is missing or empty", element=f"{element.path}/Timestamp"
            )
        hops.append(TraceHop(_text(element, "OrganId", required=True), timestamp))
    return tuple(hops)


def _business(trace_list: Element | None) -> Business:
    element = trace_list.child("Bussiness", "Business") if trace_list is not None else None
    if element is None:
        return Business()
    business_type = _value(element, "BussinessDocType|BusinessDocType", _whole_number, 0)
    related = (_text(element, "DocumentId") or None) if business_type else None
    replacement = _at(element, "ReplacementInfoList", "ReplacementInfo")
    if replacement is not None and business_type == BusinessType.REPLACE:
        related = _text(replacement, "DocumentId") or related
    receivers = _at(element, "BussinessDocumentInfo|BusinessDocumentInfo", "ReceiverList")
    changes = tuple(
        ReceiverChange(
            organ_id=_text(r, "OrganId", required=True),
            change_type=_value(r, "ReceiverType", _whole_number, 1),
        )
        for r in (receivers.all("Receiver") if receivers is not None else ())
    )
    return Business(
        business_type=_code(BusinessType, business_type, "business_type", element),
        reason=_text(element, "BussinessDocReason|BusinessDocReason"),
        related_document_id=related,
        receiver_changes=changes,
        paper=_value(element, "Paper", _whole_number, 0),
        staff=_staff(element.child("StaffInfo")),
    )


def _response_for(element: Element) -> ResponseFor:
    return ResponseFor(
        organ_id=_text(element, "OrganId", required=True),
        code=_text(element, "Code"),
        document_id=_text(element, "DocumentId", required=True),
        promulgation_date=_value(element, "PromulgationDate", parse_date, None),
    )


def _attachments(root: Element) -> tuple[Attachment, ...]:
    manifest = {
        _content_id(_text(ref, "ContentId") or ref.attributes.get("href", "")): ref
        for ref in (root.find("edXMLManifest") or root).all("Reference")
    }
    encoded = root.find("AttachmentEncoded")
    attachments = []
    for index, element in enumerate(encoded.all("Attachment") if encoded is not None else ()):
        content_id = _content_id(_text(element, "ContentId")) or str(index + 1)
        listed = manifest.pop(content_id, None)
        body = element.child("ContentTransferEncoded")
        if body is None or body.blob is None:
            raise EdxmlError(
                f"attachment {content_id!r} has no ContentTransferEncoded", element=element.where()
            )

        def field(name: str, element: Element = element, listed: Element | None = listed) -> str:
            return _text(element, name) or (_text(listed, name) if listed is not None else "")

        name = field("AttachmentName")
        if not name:
            raise EdxmlError(
                f"attachment {content_id!r} has no AttachmentName", element=element.where()
            )
        attachments.append(
            Attachment(
                content_id=content_id,
                name=name,
                content_type=field("ContentType") or "application/octet-stream",
                description=field("Description"),
                size_bytes=body.blob.size_bytes,
                sha256=body.blob.sha256,
                blob_ref=body.blob.ref,
            )
        )
    for content_id, ref in manifest.items():
        raise EdxmlError(
            f"the manifest lists attachment {content_id!r} but no AttachmentEncoded/Attachment "
            "carries it",
            element=ref.where(),
        )
    return tuple(attachments)


def _content_id(text: str) -> str:
    value = text.strip().strip("<>")
    return value[4:] if value.lower().startswith("cid:") else value


# -- the status message ----------------------------------------------------------------


def _notice(status: Element) -> StatusNotice:
    response_for = status.child("ResponseFor")
    if response_for is None:
        raise EdxmlError("required element is missing", element=f"{status.path}/ResponseFor")
    document_sender = _text(response_for, "OrganId", required=True)
    from_agency = _text(status, "From", "OrganId", required=True)
    to_agency = _text(status, "To", "OrganId") or document_sender
    code = _text(status, "StatusCode", required=True)
    code = code.zfill(2) if code.isdigit() else code
    if code not in EDXML_STATUS_CODES:
        raise EdxmlError(
            f"{code!r} is not an edXML status code ({', '.join(sorted(EDXML_STATUS_CODES))})",
            element=f"{status.path}/StatusCode",
        )
    if to_agency == from_agency:
        raise EdxmlError(
            "a status from the document's own sender (13, recall) must name its recipient in To",
            element=status.where(),
        )
    timestamp = _value(status, "Timestamp", parse_timestamp, None)
    if timestamp is None:
        raise EdxmlError("required element is missing or empty", element=f"{status.path}/Timestamp")
    notice = StatusNotice(
        document_id=_text(response_for, "DocumentId", required=True),
        document_sender=document_sender,
        document_code=_text(response_for, "Code"),
        promulgation_date=_value(response_for, "PromulgationDate", parse_date, None),
        from_agency=from_agency,
        to_agency=to_agency,
        status_code=_code(StatusCode, code, "status code", status),
        description=_text(status, "Description"),
        timestamp=timestamp,
        staff=_staff(status.child("StaffInfo")),
    )
    problems = notice_problems(notice)
    if problems:
        raise EdxmlError(
            "the status breaks the edXML rules: " + "; ".join(problems), element=status.where()
        )
    return notice

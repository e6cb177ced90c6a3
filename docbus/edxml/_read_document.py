"""An edXML document message as a :class:`Document`, as agency systems really write it.

Lenient where real files vary: optional elements missing or empty (``<ResponseFor />``),
``Bussiness`` or ``Business``, trace entries with no ``OrganId`` (kept with an empty id)
or none at all, the target of a revoke/update in ``Bussiness/DocumentId`` or in
``ResponseFor/DocumentId``, attachments in ``AttachmentEncoded`` or in a gateway's
``edXMLAttachments/AttachmentData``, party ids outside the national scheme, document ids
that are UUIDs. Strict where meaning is at stake: no sender, no recipient, a duplicate
recipient, a required value missing, a value of the wrong form, a broken attachment, each
an :class:`EdxmlError` naming the element and its line. What the bus does not model is
kept in ``Document.extensions`` (:mod:`docbus.edxml._extensions`).
"""

from __future__ import annotations

import datetime as dt

from docbus._exceptions import EdxmlError
from docbus.edxml._dates import format_date, parse_date, parse_timestamp
from docbus.edxml._extensions import ExtensionsBuilder
from docbus.edxml._reading import (
    ORGAN_FIELDS,
    STAFF_FIELDS,
    at,
    check_rules,
    code,
    has_text,
    organ,
    staff,
    text,
    value,
    whole_number,
)
from docbus.edxml._tree import Element
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
    SteeringType,
    TraceHop,
    document_problems,
)

__all__ = ["read_document"]

_HEADER_FIELDS = (
    "From",
    "To",
    "DocumentId",
    "Code",
    "PromulgationInfo",
    "DocumentType",
    "Subject",
    "Content",
    "SignerInfo",
    "DueDate",
    "OtherInfo",
    "SteeringType",
    "ToPlaces",
    "ResponseFor",
)
_OTHER_INFO_FIELDS = (
    "Priority",
    "SphereOfPromulgation",
    "TyperNotation",
    "PromulgationAmount",
    "PageAmount",
    "Appendixes",
)
_BUSINESS_FIELDS = (
    "BussinessDocType",
    "BusinessDocType",
    "BussinessDocReason",
    "BusinessDocReason",
    "Paper",
    "StaffInfo",
)
_RESPONSE_FOR_FIELDS = ("OrganId", "Code", "PromulgationDate", "DocumentId")
_ATTACHMENT_FIELDS = (
    "ContentId",
    "AttachmentName",
    "ContentType",
    "Description",
    "ContentTransferEncoded",
    "AttachmentData",
)


def read_document(
    root: Element, header: Element, signature: str | None, now: dt.datetime
) -> Document:
    """The document in ``root`` whose ``MessageHeader`` is ``header``; ``signature`` is the
    XML-DSig ``Signature`` found (kept as XML text); ``now`` stamps the hop of a file with
    no trace."""
    sender_element = header.child("From")
    if sender_element is None:
        raise EdxmlError("required element is missing", element=f"{header.path}/From")
    sender = organ(sender_element)
    recipients = [organ(e) for e in header.all("To")]
    if not recipients:
        raise EdxmlError("required element is missing (no recipient)", element=f"{header.path}/To")
    _refuse_duplicate_recipients(header)
    code_number = text(header, "Code", "CodeNumber", required=True)
    code_notation = text(header, "Code", "CodeNotation", required=True)
    promulgation_date = value(header, "PromulgationInfo/PromulgationDate", parse_date, None)
    if promulgation_date is None:
        raise EdxmlError(
            "required element is missing or empty",
            element=f"{header.path}/PromulgationInfo/PromulgationDate",
        )
    kept = ExtensionsBuilder()
    envelope = at(root, "edXMLEnvelope")
    trace_list = at(envelope, "edXMLHeader", "TraceHeaderList") or root.find("TraceHeaderList")
    trace = _trace(trace_list, kept) or (TraceHop(sender.organ_id, now.replace(microsecond=0)),)
    sent_at = next(
        (h.timestamp for h in trace if h.organ_id == sender.organ_id), trace[0].timestamp
    )
    document_id = text(header, "DocumentId") or (
        f"{sender.organ_id},{format_date(promulgation_date)},{code_number}/{code_notation}"
    )
    given = [e for e in header.all("ResponseFor") if has_text(e)]
    response_for = tuple(_response_for(e) for e in given)
    for index, element in enumerate(given):
        kept.keep(f"MessageHeader/ResponseFor/{index}", element, _RESPONSE_FOR_FIELDS)
    kept.keep("MessageHeader/From", sender_element, ORGAN_FIELDS)
    for element in header.all("To"):
        kept.keep(f"MessageHeader/To/{text(element, 'OrganId')}", element, ORGAN_FIELDS)
    steering = value(header, "SteeringType", whole_number, int(SteeringType.NOT_STEERING))
    _keep_unmodelled(kept, root, envelope, header, signature is not None)
    document = Document(
        document_id=document_id,
        sender=sender.organ_id,
        recipients=tuple(r.organ_id for r in recipients),
        organs=tuple(o for o in (sender, *recipients) if o != Organ(o.organ_id)),
        code_number=code_number,
        code_notation=code_notation,
        promulgation_place=text(header, "PromulgationInfo", "Place"),
        promulgation_date=promulgation_date,
        document_type=DocumentType(
            type=value(header, "DocumentType/Type", whole_number, 0),
            type_name=text(header, "DocumentType", "TypeName"),
            type_detail=value(header, "DocumentType/TypeDetail", whole_number, 0),
        ),
        subject=text(header, "Subject", required=True),
        content=text(header, "Content"),
        signer=Signer(
            position=text(header, "SignerInfo", "Position"),
            full_name=text(header, "SignerInfo", "FullName"),
            competence=text(header, "SignerInfo", "Competence"),
        ),
        due_date=value(header, "DueDate", parse_date, None),
        priority=code(
            Priority, value(header, "OtherInfo/Priority", whole_number, 0), "priority", header
        ),
        # 0 is written by some systems for "not a steering document"
        steering_type=code(
            SteeringType, steering or int(SteeringType.NOT_STEERING), "steering_type", header
        ),
        business=_business(trace_list, response_for, kept),
        response_for=response_for,
        attachments=_attachments(root, envelope, kept),
        trace=trace,
        sent_at=sent_at,
        sphere_of_promulgation=text(header, "OtherInfo", "SphereOfPromulgation"),
        typer_notation=text(header, "OtherInfo", "TyperNotation"),
        promulgation_amount=value(header, "OtherInfo/PromulgationAmount", whole_number, 0),
        page_amount=value(header, "OtherInfo/PageAmount", whole_number, 0),
        appendixes=tuple(
            e.text
            for e in (at(header, "OtherInfo", "Appendixes") or header).all("Appendix")
            if e.text
        ),
        to_places=tuple(
            e.text for e in (header.child("ToPlaces") or header).all("Place") if e.text
        ),
        signature=signature,
        extensions=kept.result(),
    )
    check_rules(document_problems(document), "document", header)
    return document


def _keep_unmodelled(
    kept: ExtensionsBuilder,
    root: Element,
    envelope: Element | None,
    header: Element,
    signed: bool,
) -> None:
    """Keep what the header, the envelope and the body carry beyond the modelled fields."""
    kept.keep("MessageHeader", header, _HEADER_FIELDS)
    for part, fields in (
        ("Code", ("CodeNumber", "CodeNotation")),
        ("PromulgationInfo", ("Place", "PromulgationDate")),
        ("DocumentType", ("Type", "TypeDetail", "TypeName")),
        ("SignerInfo", ("Competence", "Position", "FullName")),
        ("OtherInfo", _OTHER_INFO_FIELDS),
    ):
        kept.keep(f"MessageHeader/{part}", header.child(part), fields)
    if envelope is None:
        return
    modelled_header = ("MessageHeader", "TraceHeaderList", *(("Signature",) if signed else ()))
    kept.keep("edXMLHeader", envelope.child("edXMLHeader"), modelled_header)
    kept.keep("edXMLBody", envelope.child("edXMLBody"), ("edXMLManifest",))
    kept.keep("edXMLEnvelope", envelope, ("edXMLHeader", "edXMLBody", "edXMLAttachments"))


def _refuse_duplicate_recipients(header: Element) -> None:
    seen: set[str] = set()
    for element in header.all("To"):
        organ_id = text(element, "OrganId")
        if organ_id in seen:
            raise EdxmlError(
                f"recipient {organ_id} appears more than once (duplicate To OrganId)",
                element=element.where(),
            )
        seen.add(organ_id)


def _trace(trace_list: Element | None, kept: ExtensionsBuilder) -> tuple[TraceHop, ...]:
    """The hops that carry a time; an entry without one is kept as written, not required."""
    if trace_list is None:
        return ()
    hops: list[TraceHop] = []
    for element in trace_list.all("TraceHeader"):
        timestamp = value(element, "Timestamp", parse_timestamp, None)
        if timestamp is None:
            kept.keep_elements("TraceHeaderList", (element,))
            continue
        kept.keep(f"TraceHeader/{len(hops)}", element, ("OrganId", "Timestamp"))
        hops.append(TraceHop(text(element, "OrganId"), timestamp))
    kept.keep("TraceHeaderList", trace_list, ("TraceHeader", "Bussiness", "Business"))
    return tuple(hops)


def _business(
    trace_list: Element | None, response_for: tuple[ResponseFor, ...], kept: ExtensionsBuilder
) -> Business:
    element = trace_list.child("Bussiness", "Business") if trace_list is not None else None
    if element is None:
        return Business()
    business_type = code(
        BusinessType,
        value(element, "BussinessDocType|BusinessDocType", whole_number, 0),
        "business_type",
        element,
    )
    changes_target = business_type in (BusinessType.REVOKE, BusinessType.UPDATE)
    related = (text(element, "DocumentId") or None) if business_type else None
    replacement = at(element, "ReplacementInfoList", "ReplacementInfo")
    if replacement is not None and business_type == BusinessType.REPLACE:
        related = text(replacement, "DocumentId") or related
    if related is None and business_type and response_for:
        related = response_for[0].document_id  # some systems name the target there
    receivers = at(element, "BussinessDocumentInfo|BusinessDocumentInfo", "ReceiverList")
    kept.keep(
        "TraceHeaderList/Bussiness",
        element,
        (*_BUSINESS_FIELDS, *(("DocumentId",) if changes_target else ())),
    )
    kept.keep("TraceHeaderList/Bussiness/StaffInfo", element.child("StaffInfo"), STAFF_FIELDS)
    return Business(
        business_type=business_type,
        reason=text(element, "BussinessDocReason|BusinessDocReason"),
        related_document_id=related,
        receiver_changes=tuple(
            ReceiverChange(
                organ_id=text(r, "OrganId", required=True),
                change_type=value(r, "ReceiverType", whole_number, 1),
            )
            for r in (receivers.all("Receiver") if receivers is not None else ())
        ),
        paper=value(element, "Paper", whole_number, 0),
        staff=staff(element.child("StaffInfo")),
    )


def _response_for(element: Element) -> ResponseFor:
    return ResponseFor(
        organ_id=text(element, "OrganId"),
        code=text(element, "Code"),
        document_id=text(element, "DocumentId", required=True),
        promulgation_date=value(element, "PromulgationDate", parse_date, None),
    )


def _attachments(
    root: Element, envelope: Element | None, kept: ExtensionsBuilder
) -> tuple[Attachment, ...]:
    manifest = {
        _content_id(text(ref, "ContentId") or ref.attributes.get("href", "")): ref
        for ref in (root.find("edXMLManifest") or root).all("Reference")
    }
    containers = [root.find("AttachmentEncoded"), at(envelope, "edXMLAttachments")]
    elements = [a for c in containers if c is not None for a in c.all("Attachment")]
    attachments = []
    for index, element in enumerate(elements):
        content_id = _content_id(text(element, "ContentId")) or str(index + 1)
        listed = manifest.pop(content_id, None)
        body = element.child("ContentTransferEncoded", "AttachmentData")
        if body is None or body.blob is None:
            raise EdxmlError(
                f"attachment {content_id!r} has no ContentTransferEncoded", element=element.where()
            )

        def field(name: str, element: Element = element, listed: Element | None = listed) -> str:
            return text(element, name) or (text(listed, name) if listed is not None else "")

        name = field("AttachmentName")
        if not name:
            raise EdxmlError(
                f"attachment {content_id!r} has no AttachmentName", element=element.where()
            )
        kept.keep(f"Attachment/{content_id}", element, _ATTACHMENT_FIELDS)
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


def _content_id(raw: str) -> str:
    stripped = raw.strip().strip("<>")
    return stripped[4:] if stripped.lower().startswith("cid:") else stripped

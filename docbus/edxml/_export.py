"""edXML out: a :class:`Document` as a document message with its attachments inline again,
a :class:`StatusNotice` as a status message.

The layout follows the national SDK's files (``edXML`` root, ``edXMLEnvelope`` with
header and manifest, ``AttachmentEncoded`` after the envelope, a status as a
``MessageHeader`` carrying ``StatusCode``) and its ``Bussiness`` spelling, which the
systems already connected read. The elements an import kept in ``extensions`` are
written back at the end of their parent. Attachments are base64-encoded as they stream
from the blob store, so a large one is never held whole.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import IO
from xml.sax.saxutils import escape, quoteattr

from docbus._blobs import BlobStore
from docbus._exceptions import EdxmlError
from docbus.edxml._dates import format_date, format_timestamp
from docbus.edxml._extensions import kept_names, kept_xml
from docbus.edxml._import import EDXML_NS
from schemas import (
    Attachment,
    Business,
    BusinessType,
    Document,
    Organ,
    ResponseFor,
    StaffInfo,
    StatusNotice,
    TraceHop,
)

__all__ = ["write_document", "write_status"]

_XLINK_NS = "http://www.w3.org/1999/xlink"
_BASE64_LINE = 76 * 3 // 4  # bytes per 76-character line
_LINES_PER_CHUNK = 1024


class _Writer:
    """Indented XML with the ``edXML:`` prefix, written straight to a text stream."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._depth = 0

    def open(self, name: str, attributes: str = "") -> None:
        self._out.write(f"{'  ' * self._depth}<{name}{attributes}>\n")
        self._depth += 1

    def close(self, name: str) -> None:
        self._depth -= 1
        self._out.write(f"{'  ' * self._depth}</{name}>\n")

    def leaf(self, name: str, value: object) -> None:
        text = escape(str(value)) if value is not None else ""
        self._out.write(f"{'  ' * self._depth}<{name}>{text}</{name}>\n")

    def raw(self, text: str) -> None:
        self._out.write(f"{'  ' * self._depth}{text}\n")

    def kept(self, extensions: tuple[tuple[str, str], ...], key: str) -> None:
        """The elements an import kept under ``key``, written back as they were read."""
        text = kept_xml(extensions, key)
        if text:
            self.raw(text)

    def stream(self, name: str, lines: Iterator[str]) -> None:
        self._out.write(f"{'  ' * self._depth}<{name}>\n")
        for line in lines:
            self._out.write(line)
        self._out.write(f"{'  ' * self._depth}</{name}>\n")


def _start(w: _Writer) -> None:
    w.raw('<?xml version="1.0" encoding="UTF-8"?>')
    # the prefix is declared on the root too, so kept elements after the envelope are bound
    w.open("edXML", f" xmlns={quoteattr(EDXML_NS)} xmlns:edXML={quoteattr(EDXML_NS)}")
    w.open("edXML:edXMLEnvelope", f" xmlns:edXML={quoteattr(EDXML_NS)}")
    w.open("edXML:edXMLHeader")


def write_document(document: Document, out: IO[str], *, blobs: BlobStore) -> None:
    """Write ``document`` as an edXML document message to ``out`` (UTF-8 text)."""
    w = _Writer(out)
    kept = document.extensions
    _start(w)
    _message_header(w, document)
    w.open("edXML:TraceHeaderList")
    # a document made on the bus may have no hop yet: its sender's, so sent_at survives
    for index, hop in enumerate(document.trace or (TraceHop(document.sender, document.sent_at),)):
        w.open("edXML:TraceHeader")
        if hop.organ_id:
            w.leaf("edXML:OrganId", hop.organ_id)
        w.leaf("edXML:Timestamp", format_timestamp(hop.timestamp))
        w.kept(kept, f"TraceHeader/{index}")
        w.close("edXML:TraceHeader")
    _business(w, document.business, document.recipients, kept)
    w.kept(kept, "TraceHeaderList")
    w.close("edXML:TraceHeaderList")
    if document.signature:
        w.raw(document.signature)
    w.kept(kept, "edXMLHeader")
    w.close("edXML:edXMLHeader")
    w.open("edXML:edXMLBody")
    w.open("edXML:edXMLManifest", ' version="1.0"')
    for a in document.attachments:
        href = quoteattr(f"cid:{a.content_id}")
        w.open(
            "edXML:Reference",
            f' xmlns:xlink={quoteattr(_XLINK_NS)} xlink:href={href} xlink:type="simple"',
        )
        w.leaf("edXML:ContentId", a.content_id)
        w.leaf("edXML:ContentType", a.content_type)
        w.leaf("edXML:Description", a.description)
        w.leaf("edXML:AttachmentName", a.name)
        w.close("edXML:Reference")
    w.close("edXML:edXMLManifest")
    w.kept(kept, "edXMLBody")
    w.close("edXML:edXMLBody")
    w.kept(kept, "edXMLEnvelope")
    w.close("edXML:edXMLEnvelope")
    if document.attachments:
        w.open("AttachmentEncoded")
        for a in document.attachments:
            w.open("Attachment")
            w.leaf("ContentId", a.content_id)
            w.leaf("ContentType", a.content_type)
            w.leaf("Description", a.description)
            w.leaf("AttachmentName", a.name)
            w.kept(kept, f"Attachment/{a.content_id}")
            w.stream("ContentTransferEncoded", _base64_lines(a, blobs))
            w.close("Attachment")
        w.close("AttachmentEncoded")
    w.close("edXML")


def _message_header(w: _Writer, d: Document) -> None:
    unused = list(d.organs)  # a sender and a recipient may share an id with other details

    def details(code: str) -> Organ:
        found = next((o for o in unused if o.organ_id == code), None)
        if found is None:
            return next((o for o in d.organs if o.organ_id == code), Organ(code))
        unused.remove(found)
        return found

    w.open("edXML:MessageHeader")
    _organ(w, "edXML:From", details(d.sender), kept_xml(d.extensions, "MessageHeader/From"))
    for code in d.recipients:
        _organ(w, "edXML:To", details(code), kept_xml(d.extensions, f"MessageHeader/To/{code}"))
    for index, r in enumerate(d.response_for):
        _response_for(w, r, kept_xml(d.extensions, f"MessageHeader/ResponseFor/{index}"))
    w.leaf("edXML:DocumentId", d.document_id)
    w.open("edXML:Code")
    w.leaf("edXML:CodeNumber", d.code_number)
    w.leaf("edXML:CodeNotation", d.code_notation)
    w.kept(d.extensions, "MessageHeader/Code")
    w.close("edXML:Code")
    w.open("edXML:PromulgationInfo")
    w.leaf("edXML:Place", d.promulgation_place)
    w.leaf("edXML:PromulgationDate", format_date(d.promulgation_date))
    w.kept(d.extensions, "MessageHeader/PromulgationInfo")
    w.close("edXML:PromulgationInfo")
    w.open("edXML:DocumentType")
    w.leaf("edXML:Type", d.document_type.type)
    w.leaf("edXML:TypeDetail", d.document_type.type_detail)
    w.leaf("edXML:TypeName", d.document_type.type_name)
    w.kept(d.extensions, "MessageHeader/DocumentType")
    w.close("edXML:DocumentType")
    w.leaf("edXML:Subject", d.subject)
    w.leaf("edXML:Content", d.content)
    w.open("edXML:SignerInfo")
    w.leaf("edXML:Competence", d.signer.competence)
    w.leaf("edXML:Position", d.signer.position)
    w.leaf("edXML:FullName", d.signer.full_name)
    w.kept(d.extensions, "MessageHeader/SignerInfo")
    w.close("edXML:SignerInfo")
    if d.due_date is not None:
        w.leaf("edXML:DueDate", format_date(d.due_date))
    w.open("edXML:ToPlaces")
    for place in d.to_places:
        w.leaf("edXML:Place", place)
    w.close("edXML:ToPlaces")
    w.open("edXML:OtherInfo")
    w.leaf("edXML:Priority", int(d.priority))
    w.leaf("edXML:SphereOfPromulgation", d.sphere_of_promulgation)
    w.leaf("edXML:TyperNotation", d.typer_notation)
    w.leaf("edXML:PromulgationAmount", d.promulgation_amount)
    w.leaf("edXML:PageAmount", d.page_amount)
    w.open("edXML:Appendixes")
    for appendix in d.appendixes:
        w.leaf("edXML:Appendix", appendix)
    w.close("edXML:Appendixes")
    w.kept(d.extensions, "MessageHeader/OtherInfo")
    w.close("edXML:OtherInfo")
    w.leaf("edXML:SteeringType", int(d.steering_type))
    w.kept(d.extensions, "MessageHeader")
    w.close("edXML:MessageHeader")


def _response_for(w: _Writer, r: ResponseFor, kept: str = "") -> None:
    w.open("edXML:ResponseFor")
    w.leaf("edXML:OrganId", r.organ_id)
    w.leaf("edXML:Code", r.code)
    if r.promulgation_date is not None:
        w.leaf("edXML:PromulgationDate", format_date(r.promulgation_date))
    w.leaf("edXML:DocumentId", r.document_id)
    if kept:
        w.raw(kept)
    w.close("edXML:ResponseFor")


def _organ(w: _Writer, tag: str, organ: Organ, kept: str = "") -> None:
    w.open(tag)
    w.leaf("edXML:OrganId", organ.organ_id)
    w.leaf("edXML:OrganizationInCharge", organ.organization_in_charge)
    w.leaf("edXML:OrganName", organ.name)
    w.leaf("edXML:OrganAdd", organ.address)
    w.leaf("edXML:Email", organ.email)
    w.leaf("edXML:Telephone", organ.telephone)
    w.leaf("edXML:Fax", organ.fax)
    w.leaf("edXML:Website", organ.website)
    if kept:
        w.raw(kept)
    w.close(tag)


def _staff(w: _Writer, staff: StaffInfo, kept: str = "") -> None:
    w.open("edXML:StaffInfo")
    w.leaf("edXML:Department", staff.department)
    w.leaf("edXML:Staff", staff.full_name)
    if staff.position:
        w.leaf("edXML:Position", staff.position)
    w.leaf("edXML:Mobile", staff.mobile)
    w.leaf("edXML:Email", staff.email)
    if kept:
        w.raw(kept)
    w.close("edXML:StaffInfo")


def _business(
    w: _Writer, b: Business, recipients: tuple[str, ...], kept: tuple[tuple[str, str], ...]
) -> None:
    as_read = kept_names(kept, "TraceHeaderList/Bussiness")
    w.open("edXML:Bussiness")
    w.leaf("edXML:BussinessDocType", int(b.business_type))
    w.leaf("edXML:BussinessDocReason", b.reason)
    if b.related_document_id and b.business_type in (BusinessType.REVOKE, BusinessType.UPDATE):
        w.leaf("edXML:DocumentId", b.related_document_id)
    w.leaf("edXML:Paper", b.paper)
    _staff(w, b.staff, kept_xml(kept, "TraceHeaderList/Bussiness/StaffInfo"))
    if b.receiver_changes and "BussinessDocumentInfo" not in as_read:
        w.open("edXML:BussinessDocumentInfo")
        w.leaf("edXML:DocumentInfo", 0)
        w.leaf("edXML:DocumentReceiver", 1)
        w.open("edXML:ReceiverList")
        for change in b.receiver_changes:
            w.open("edXML:Receiver")
            w.leaf("edXML:ReceiverType", change.change_type)
            w.leaf("edXML:OrganId", change.organ_id)
            w.close("edXML:Receiver")
        w.close("edXML:ReceiverList")
        w.close("edXML:BussinessDocumentInfo")
    replaces = b.related_document_id and b.business_type == BusinessType.REPLACE
    if replaces and "ReplacementInfoList" not in as_read:
        w.open("edXML:ReplacementInfoList")
        w.open("edXML:ReplacementInfo")
        w.leaf("edXML:DocumentId", b.related_document_id)
        w.open("edXML:OrganIdList")
        for code in recipients:
            w.leaf("edXML:OrganId", code)
        w.close("edXML:OrganIdList")
        w.close("edXML:ReplacementInfo")
        w.close("edXML:ReplacementInfoList")
    w.kept(kept, "TraceHeaderList/Bussiness")
    w.close("edXML:Bussiness")


def _base64_lines(attachment: Attachment, blobs: BlobStore) -> Iterator[str]:
    if attachment.content is not None:
        chunks: Iterator[bytes] = iter((attachment.content,))
    elif attachment.blob_ref is not None:
        chunks = blobs.chunks(attachment.blob_ref, _BASE64_LINE * _LINES_PER_CHUNK)
    else:
        raise EdxmlError(f"attachment {attachment.content_id!r} has neither content nor blob_ref")
    carry = b""
    for chunk in chunks:
        data = carry + chunk
        cut = len(data) - len(data) % _BASE64_LINE
        carry = data[cut:]
        if cut:
            yield base64.encodebytes(data[:cut]).decode("ascii")
    if carry:
        yield base64.encodebytes(carry).decode("ascii")


def write_status(notice: StatusNotice, out: IO[str]) -> None:
    """Write ``notice`` as an edXML status message to ``out`` (UTF-8 text): a
    ``MessageHeader`` carrying the status, as the national SDK writes it."""
    w = _Writer(out)
    kept = notice.extensions
    _start(w)
    w.open("edXML:MessageHeader")
    w.open("edXML:From")
    w.leaf("edXML:OrganId", notice.from_agency)
    w.kept(kept, "Status/From")
    w.close("edXML:From")
    if notice.to_agency != notice.document_sender:
        w.open("edXML:To")
        w.leaf("edXML:OrganId", notice.to_agency)
        w.close("edXML:To")
    responded = ResponseFor(
        organ_id=notice.document_sender,
        code=notice.document_code,
        document_id=notice.document_id,
        promulgation_date=notice.promulgation_date,
    )
    _response_for(w, responded, kept_xml(kept, "Status/ResponseFor"))
    _staff(w, notice.staff, kept_xml(kept, "Status/StaffInfo"))
    w.leaf("edXML:StatusCode", notice.status_code)
    w.leaf("edXML:Description", notice.description)
    w.leaf("edXML:Timestamp", format_timestamp(notice.timestamp))
    w.kept(kept, "Status")
    w.close("edXML:MessageHeader")
    w.close("edXML:edXMLHeader")
    w.close("edXML:edXMLEnvelope")
    w.close("edXML")

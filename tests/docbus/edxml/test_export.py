"""Tests for docbus.edxml._export: documents and notices written back as edXML."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest
from lxml import etree

from docbus import BlobNotFoundError, BlobStore
from docbus.edxml import (
    EDXML_NS,
    ImportedDocument,
    ImportedStatus,
    import_edxml,
    write_document,
    write_status,
)
from schemas import Attachment, StatusNotice
from tests.docbus.edxml.conftest import FILES, sample
from tests.helpers import G22, H29, letter

NS = {"e": EDXML_NS}


def _export(value: object, blobs: BlobStore) -> bytes:
    out = io.StringIO()
    if isinstance(value, StatusNotice):
        write_status(value, out)
    else:
        write_document(value, out, blobs=blobs)  # type: ignore[arg-type]
    return out.getvalue().encode("utf-8")


@pytest.mark.parametrize("name", sorted(p.name for p in FILES.glob("*.edxml")))
def test_import_export_import_gives_the_same_value(name: str, blobs: BlobStore) -> None:
    """Import, export and import again gives the same Document or StatusNotice."""
    first = import_edxml(sample(name), blobs=blobs)
    value = first.document if isinstance(first, ImportedDocument) else first.notice
    again = import_edxml(_export(value, blobs), blobs=blobs)
    assert type(again) is type(first)
    assert (again.document if isinstance(again, ImportedDocument) else again.notice) == value


def test_export_follows_the_sdk_layout(blobs: BlobStore) -> None:
    """Header, manifest and base64 attachments sit where the national SDK puts them."""
    doc = import_edxml(sample("new_multicast.edxml"), blobs=blobs)
    assert isinstance(doc, ImportedDocument)
    root = etree.fromstring(_export(doc.document, blobs))
    assert root.tag == f"{{{EDXML_NS}}}edXML"
    header = root.find("e:edXMLEnvelope/e:edXMLHeader/e:MessageHeader", NS)
    assert header is not None
    assert [t.findtext("e:OrganId", namespaces=NS) for t in header.findall("e:To", NS)] == list(
        doc.document.recipients
    )
    assert header.findtext("e:From/e:OrganName", namespaces=NS) == "Văn phòng Chính phủ"
    assert header.findtext("e:PromulgationInfo/e:PromulgationDate", namespaces=NS) == "2025/10/15"
    trace = root.find("e:edXMLEnvelope/e:edXMLHeader/e:TraceHeaderList", NS)
    assert trace is not None
    assert trace.findtext("e:TraceHeader/e:Timestamp", namespaces=NS) == "2025/10/15 09:30:00"
    assert trace.find("e:Bussiness/e:BussinessDocType", NS) is not None  # the SDK's spelling
    reference = root.find("e:edXMLEnvelope/e:edXMLBody/e:edXMLManifest/e:Reference", NS)
    assert reference is not None
    assert reference.get("{http://www.w3.org/1999/xlink}href") == "cid:7816-vpcp-1"
    encoded = root.findtext(
        "e:AttachmentEncoded/e:Attachment/e:ContentTransferEncoded", namespaces=NS
    )
    assert encoded is not None and max(len(line) for line in encoded.split()) == 76


def test_bus_document_with_inline_attachment(blobs: BlobStore) -> None:
    """A document made on the bus (inline attachment, no trace) exports and reads back."""
    content = "Nội dung đính kèm".encode() * 100
    doc = dataclasses.replace(
        letter(G22, (H29,)),
        attachments=(Attachment.inline("a1", "phu-luc.txt", content, "text/plain"),),
    )
    again = import_edxml(_export(doc, blobs), blobs=blobs)
    assert isinstance(again, ImportedDocument)
    got = again.document
    assert (got.document_id, got.recipients, got.subject) == (
        doc.document_id,
        doc.recipients,
        doc.subject,
    )
    assert got.sent_at == doc.sent_at.replace(microsecond=0)
    (attachment,) = got.attachments
    assert blobs.read(attachment.blob_ref or "") == content
    assert attachment.sha256 == doc.attachments[0].sha256


def test_missing_blob_is_a_clear_error(blobs: BlobStore) -> None:
    """Exporting a document whose blob is not in the store says which blob."""
    doc = dataclasses.replace(
        letter(G22, (H29,)),
        attachments=(
            Attachment(
                content_id="a1",
                name="scan.pdf",
                content_type="application/pdf",
                size_bytes=10,
                sha256="ab" * 32,
                blob_ref="sha256:" + "ab" * 32,
            ),
        ),
    )
    with pytest.raises(BlobNotFoundError, match="ab" * 32):
        _export(doc, blobs)


def test_status_export(blobs: BlobStore) -> None:
    """A notice from the bus is written as a status message in Vietnam time, a
    ``MessageHeader`` carrying the status as the national SDK writes it."""
    notice = StatusNotice.about(
        letter(G22, (H29,)), from_agency=H29, to_agency=G22, status_code="03"
    )
    notice = dataclasses.replace(
        notice, timestamp=dt.datetime(2025, 10, 15, 3, 2, 0, 123456, tzinfo=dt.UTC)
    )
    root = etree.fromstring(_export(notice, blobs))
    status = root.find(".//e:MessageHeader", NS)
    assert status is not None and root.find(".//e:Status", NS) is None
    assert status.findtext("e:StatusCode", namespaces=NS) == "03"
    assert status.findtext("e:Timestamp", namespaces=NS) == "2025/10/15 10:02:00"
    assert status.find("e:To", NS) is None  # addressed to the document's sender
    again = import_edxml(_export(notice, blobs), blobs=blobs)
    assert isinstance(again, ImportedStatus)
    assert again.notice == dataclasses.replace(
        notice, timestamp=notice.timestamp.replace(microsecond=0)
    )

"""Real edXML messages, as agency gateways and the national SDK's samples published them
(``tests/data/edxml/real``, sources in its SOURCES.md): each one the bus accepts imports,
exports and imports again to the same value; each one it refuses says why."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from docbus import BlobStore, EdxmlError
from docbus.edxml import (
    ImportedDocument,
    ImportedMessage,
    import_edxml,
    write_document,
    write_status,
)
from schemas import BusinessType, Document, StatusCode, StatusNotice

REAL = Path(__file__).parents[2] / "data" / "edxml" / "real"
G22, H41 = "000.00.00.G22", "000.00.00.H41"

#: The files the bus refuses, and the reason it gives.
REFUSED = {
    "api-gateway-ioffice/jdk1.8-resources-edoc_new.edxml": "malformed XML at line 1",
    "api-gateway-ioffice/test_edxml_with_content.edxml": "PromulgationDate: required element",
    "api-gateway-ioffice/test_user_edxml.xml": "Code/CodeNumber: required element",
    "truclienthong-example/edoc.edxml": "malformed XML at line 74, column 8: mismatched tag",
}
FILES = sorted(str(p.relative_to(REAL)) for p in REAL.glob("*/*") if p.suffix != ".md")
ACCEPTED = [f for f in FILES if f not in REFUSED]


def value_of(message: ImportedMessage) -> Document | StatusNotice:
    return message.document if isinstance(message, ImportedDocument) else message.notice


def exported(value: Document | StatusNotice, blobs: BlobStore) -> bytes:
    out = io.StringIO()
    if isinstance(value, Document):
        write_document(value, out, blobs=blobs)
    else:
        write_status(value, out)
    return out.getvalue().encode("utf-8")


def test_the_corpus_is_large_and_varied_enough() -> None:
    """At least 30 real messages the bus accepts, from at least 3 published sources."""
    assert len(ACCEPTED) >= 30
    assert len({f.split("/")[0] for f in ACCEPTED}) >= 3
    assert set(REFUSED) <= set(FILES)


@pytest.mark.parametrize("name", ACCEPTED)
def test_a_real_message_round_trips(name: str, blobs: BlobStore) -> None:
    """import → export → import gives the same value, what the bus does not model included."""
    first = value_of(import_edxml(REAL / name, blobs=blobs))
    again = value_of(import_edxml(exported(first, blobs), blobs=blobs))
    assert again == first


@pytest.mark.parametrize(("name", "reason"), sorted(REFUSED.items()))
def test_a_broken_real_message_is_refused_with_its_reason(
    name: str, reason: str, blobs: BlobStore
) -> None:
    with pytest.raises(EdxmlError, match=reason.replace("(", r"\(")):
        import_edxml(REAL / name, blobs=blobs)


def test_a_status_written_as_a_message_header(blobs: BlobStore) -> None:
    """The SDK's status samples carry StatusCode in a MessageHeader: a notice from the
    province to the Government Office, with the sender's details kept."""
    notice = value_of(import_edxml(REAL / "tltvbqn/status_rejection_02.edxml", blobs=blobs))
    assert isinstance(notice, StatusNotice)
    assert (notice.status_code, notice.from_agency, notice.to_agency) == ("02", H41, G22)
    assert notice.document_id == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    assert "UBND Tỉnh Nghệ An" in dict(notice.extensions)["Status/From"]


def test_a_recall_names_the_recipient_in_response_for(blobs: BlobStore) -> None:
    """The recall sample (13) comes from the document's sender and names the province asked
    in ResponseFor/OrganId."""
    notice = value_of(import_edxml(REAL / "tltvbqn/status_cancellation_13.edxml", blobs=blobs))
    assert isinstance(notice, StatusNotice)
    assert notice.status_code is StatusCode.RECALL_REQUESTED
    assert (notice.document_sender, notice.from_agency, notice.to_agency) == (G22, G22, H41)


def test_a_hosted_tenants_message(blobs: BlobStore) -> None:
    """vxp.saas.03 sends with a UUID id; a trace entry with no OrganId is kept with an
    empty one; OtherInfo/Direction, which the bus does not model, is written back."""
    name = "api-gateway-ioffice/1f881896-6e3a-4a5f-87f1-c380878e148e.edxml"
    document = value_of(import_edxml(REAL / name, blobs=blobs))
    assert isinstance(document, Document)
    assert (document.sender, document.recipients) == ("vxp.saas.03", ("vxp.saas.02",))
    assert document.document_id == "1f881896-6e3a-4a5f-87f1-c380878e148e"
    assert [hop.organ_id for hop in document.trace] == [""]
    assert len(document.attachments) == 3
    written = exported(document, blobs).decode()
    assert "<edXML:Direction>false</edXML:Direction>" in written
    assert "<edXML:OrganId>vxp.saas.03</edXML:OrganId>" in written


def test_a_revoke_names_its_target_in_response_for(blobs: BlobStore) -> None:
    document = value_of(import_edxml(REAL / "tltvbqn/edoc_revocation.edxml", blobs=blobs))
    assert isinstance(document, Document)
    assert document.business.business_type is BusinessType.REVOKE
    assert document.business.related_document_id == "000.00.04.G14,2012/08/06,267/VPCP-TTĐT"


def test_an_empty_response_for_is_absent(blobs: BlobStore) -> None:
    name = "api-gateway-ioffice/852e179c-8eca-4502-ac38-0b97321f29c3.edxml"
    document = value_of(import_edxml(REAL / name, blobs=blobs))
    assert isinstance(document, Document) and document.response_for == ()


def test_the_sdk_sample_with_undeclared_prefixes(blobs: BlobStore) -> None:
    """The SDK's own sample uses xlink: and edXML: without declaring them; it is read with
    the standard declarations, its certificate-carrying signature found (and, the file
    not being the one signed, not verified)."""
    imported = import_edxml(REAL / "tltvbqn/edoc.edxml", blobs=blobs)
    assert isinstance(imported, ImportedDocument)
    assert imported.document.recipients == ("14.00.W00",)
    assert imported.signature.status == "invalid" and imported.document.signature


def test_a_gateways_attachment_data(blobs: BlobStore) -> None:
    """A gateway writing edXMLAttachments/AttachmentData: the attachment is read, and its
    AttachmentType and AttachmentSize are kept and written back."""
    name = "api-gateway-ioffice/1760427207626_b.txt.edxml"
    document = value_of(import_edxml(REAL / name, blobs=blobs))
    assert isinstance(document, Document)
    (attachment,) = document.attachments
    assert attachment.name == "1760427207626_b.txt" and attachment.size_bytes == 1
    assert blobs.read(attachment.blob_ref or "") == b"b"
    assert "<edXML:AttachmentSize>1</edXML:AttachmentSize>" in exported(document, blobs).decode()


def test_every_shape_is_met_by_the_corpus(blobs: BlobStore) -> None:
    """The corpus holds each shape the issue names, so the tests above stay meaningful."""
    values = [value_of(import_edxml(REAL / f, blobs=blobs)) for f in ACCEPTED]
    statuses = [v for v in values if isinstance(v, StatusNotice)]
    documents = [v for v in values if isinstance(v, Document)]
    assert {s.status_code.value for s in statuses} >= {"01", "02", "03", "04", "05", "06"}
    assert {d.business.business_type for d in documents} == set(BusinessType)
    assert any(h.organ_id == "" for d in documents for h in d.trace)
    assert any(d.sender.startswith("vxp.saas.") for d in documents)
    assert any("G12" in d.recipients for d in documents)  # the Ministry of Finance's alias


def test_elements_the_bus_does_not_model_survive_anywhere(blobs: BlobStore) -> None:
    """An element the bus has no field for, in a party, a StaffInfo, a ResponseFor or the
    header itself, is written back in its place and reads back the same."""
    original = (REAL / "tltvbqn/edoc_revocation.edxml").read_bytes().decode("utf-8")
    extra = "<edXML:MaDinhDanh>VN-1</edXML:MaDinhDanh>"
    changed = (
        original.replace("</edXML:From>", f"{extra}</edXML:From>", 1)
        .replace("</edXML:StaffInfo>", f"{extra}</edXML:StaffInfo>", 1)
        .replace("</edXML:ResponseFor>", f"{extra}</edXML:ResponseFor>", 1)
        .replace("</edXML:MessageHeader>", f"{extra}</edXML:MessageHeader>", 1)
    )
    document = value_of(import_edxml(changed.encode(), blobs=blobs))
    assert isinstance(document, Document)
    kept = dict(document.extensions)
    for key in (
        "MessageHeader/From",
        "TraceHeaderList/Bussiness/StaffInfo",
        "MessageHeader/ResponseFor/0",
        "MessageHeader",
    ):
        assert extra in kept[key], key
    written = exported(document, blobs)
    assert written.decode().count(extra) == 4
    assert value_of(import_edxml(written, blobs=blobs)) == document

"""Tests for schemas._codec: single-object encoding and schema evolution."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from docbus import (
    BadMarkerError,
    CodecError,
    InvalidDocumentError,
    MalformedRecordError,
    UnknownSchemaError,
)
from schemas import (
    DOCUMENT_SCHEMA,
    MARKER,
    Attachment,
    Business,
    BusinessType,
    Codec,
    DocumentEnvelope,
    Organ,
    ReceiverChange,
    ResponseFor,
    StaffInfo,
    StatusCode,
    StatusNotice,
    TraceHop,
)
from tests.helpers import G12, G22, H29, letter

NOW = dt.datetime(2023, 11, 20, 8, 30, 15, 123456, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def codec() -> Codec:
    return Codec()


def full_document():
    """A document that uses every field of the newest schema."""
    content = "Nội dung phụ lục".encode()
    return dataclasses.replace(
        letter(G22, (H29, G12), sent_at=NOW),
        content="Thông báo kết luận của Thủ tướng Chính phủ",
        due_date=dt.date(2023, 12, 1),
        priority=3,
        steering_type=2,
        business=Business(
            business_type=BusinessType.UPDATE,
            reason="Bổ sung nơi nhận",
            related_document_id="000.00.00.G22,2023/11/20,476/TB-VPCP",
            receiver_changes=(ReceiverChange("000.00.00.H41", 1),),
            paper=1,
            staff=StaffInfo(department="Phòng Hành chính", full_name="Nguyễn Văn An"),
        ),
        response_for=(
            ResponseFor(
                G12, "12/BTC-VP", "000.00.00.G12,2023/11/01,12/BTC-VP", dt.date(2023, 11, 1)
            ),
        ),
        organs=(Organ(G22, name="Văn phòng Chính phủ", email="vpcp@chinhphu.vn"),),
        attachments=(
            Attachment.inline("a1", "phu-luc.pdf", content),
            Attachment(
                content_id="a2",
                name="ban-scan.pdf",
                content_type="application/pdf",
                size_bytes=5_000_000,
                sha256="ab" * 32,
                blob_ref="sha256:" + "ab" * 32,
            ),
        ),
        trace=(TraceHop(G22, NOW),),
        sphere_of_promulgation="Toàn quốc",
        page_amount=3,
        appendixes=("Phụ lục I",),
        to_places=("Các bộ, cơ quan ngang bộ",),
        signature='<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature>',
    )


def notice() -> StatusNotice:
    return StatusNotice(
        document_id="000.00.00.G22,2023/11/20,476/TB-VPCP",
        document_sender=G22,
        document_code="476/TB-VPCP",
        promulgation_date=dt.date(2023, 11, 20),
        from_agency=H29,
        to_agency=G22,
        status_code=StatusCode.ACCEPTED,
        description="Đã tiếp nhận",
        timestamp=NOW,
        staff=StaffInfo(department="Văn thư", full_name="Lê Văn Tâm"),
    )


def test_document_round_trip(codec: Codec) -> None:
    """Every field of a document survives encode then decode, Vietnamese text included."""
    doc = full_document()
    assert codec.decode(codec.encode(doc)) == doc


def test_notice_round_trip(codec: Codec) -> None:
    """A status notice survives encode then decode."""
    assert codec.decode(codec.encode(notice())) == notice()


def test_single_object_header(codec: Codec) -> None:
    """The bytes start with C3 01 and the schema's 8-byte little-endian CRC-64-AVRO fingerprint."""
    data = codec.encode(letter())
    latest = codec.registry.latest(DOCUMENT_SCHEMA)
    assert data[:2] == MARKER
    assert data[2:10] == latest.fingerprint
    assert codec.writer_schema(data) is latest


def test_wrong_marker_is_refused(codec: Codec) -> None:
    """Bytes without the marker raise the codec's BadMarkerError."""
    with pytest.raises(BadMarkerError, match="marker"):
        codec.decode(b"\x00\x01" + codec.encode(letter())[2:])
    with pytest.raises(BadMarkerError):
        codec.decode(b"")


def test_unknown_fingerprint_is_refused(codec: Codec) -> None:
    """A fingerprint no kept schema has raises UnknownSchemaError naming it."""
    data = codec.encode(letter())
    with pytest.raises(UnknownSchemaError, match="0102030405060708"):
        codec.decode(data[:2] + bytes(range(1, 9)) + data[10:])


@pytest.mark.parametrize("cut", [3, 10, 11, 40, -1])
def test_truncated_record_is_refused(codec: Codec, cut: int) -> None:
    """A record cut short anywhere raises a CodecError, never another type."""
    data = codec.encode(full_document())
    with pytest.raises(CodecError):
        codec.decode(data[:cut])


def test_truncated_body_is_malformed(codec: Codec) -> None:
    """A body cut in half is reported as malformed, with the schema it claims."""
    data = codec.encode(full_document())
    with pytest.raises(MalformedRecordError, match="Document"):
        codec.decode(data[: len(data) // 2])


def test_stray_bytes_are_refused(codec: Codec) -> None:
    """Bytes after the body are an error, not silently ignored."""
    with pytest.raises(MalformedRecordError, match="stray"):
        codec.decode(codec.encode(letter()) + b"\x00")


def test_every_version_is_kept(codec: Codec) -> None:
    """Every Document version is loaded, with distinct fingerprints."""
    versions = codec.registry.versions(DOCUMENT_SCHEMA)
    assert [v.version for v in versions] == [1, 2, 3, 4, 5]
    assert len({v.fingerprint for v in versions}) == 5


def test_v1_reader_reads_what_v2_wrote(codec: Codec) -> None:
    """A version-1 reader reads a version-2 record, dropping the fields it does not know."""
    doc = full_document()
    writer, record = codec.decode_record(codec.encode(doc, version=2), reader_version=1)
    assert writer.version == 2
    assert "page_amount" not in record
    assert record["subject"] == doc.subject
    assert record["attachments"][0]["content"] == doc.attachments[0].content


def test_v2_reader_reads_what_v1_wrote(codec: Codec) -> None:
    """A version-2 reader reads a version-1 record, filling the new fields with defaults."""
    doc = full_document()
    writer, record = codec.decode_record(codec.encode(doc, version=1), reader_version=2)
    assert writer.version == 1
    assert record["page_amount"] == 0 and record["to_places"] == []
    decoded = codec.decode(codec.encode(doc, version=1))
    assert decoded == dataclasses.replace(
        doc,
        sphere_of_promulgation="",
        page_amount=0,
        appendixes=(),
        to_places=(),
        business=dataclasses.replace(doc.business, staff=StaffInfo()),
        signature=None,
    )


def test_v3_reader_reads_what_v2_wrote(codec: Codec) -> None:
    """A version-3 reader fills the Business staff and the signature with their defaults."""
    doc = full_document()
    decoded = codec.decode(codec.encode(doc, version=2))
    assert decoded == dataclasses.replace(
        doc, business=dataclasses.replace(doc.business, staff=StaffInfo()), signature=None
    )


def test_v2_reader_reads_what_v3_wrote(codec: Codec) -> None:
    """A version-2 reader reads a version-3 record, without the signature it does not know."""
    doc = full_document()
    writer, record = codec.decode_record(codec.encode(doc, version=3), reader_version=2)
    assert writer.version == 3
    assert "signature" not in record and "staff" not in record["business"]
    assert record["business"]["reason"] == doc.business.reason


def test_encode_refuses_a_wrong_value(codec: Codec) -> None:
    """A value of the wrong type raises a CodecError, not a fastavro error."""
    with pytest.raises(CodecError):
        codec.encode(dataclasses.replace(letter(), priority="high"))  # type: ignore[arg-type]


def test_v4_and_v3_read_each_other_field_for_field(codec: Codec) -> None:
    """Version 4 only moves the envelope first: each reads the other's record whole."""
    doc = full_document()
    assert codec.decode(codec.encode(doc, version=3)) == doc
    writer, record = codec.decode_record(codec.encode(doc, version=4), reader_version=3)
    assert writer.version == 4
    assert record == codec.decode_record(codec.encode(doc, version=3), reader_version=4)[1]


def test_v5_keeps_the_extensions_v4_drops(codec: Codec) -> None:
    """Version 5 adds the unmodelled edXML elements; a v4 reader drops them, a v5 reader
    of a v4 record gets none."""
    doc = dataclasses.replace(
        full_document(),
        extensions=(("MessageHeader/OtherInfo", "<edXML:Direction>false</edXML:Direction>"),),
    )
    assert codec.decode(codec.encode(doc)) == doc
    writer, record = codec.decode_record(codec.encode(doc), reader_version=4)
    assert writer.version == 5 and "extensions" not in record
    assert codec.decode(codec.encode(doc, version=4)) == dataclasses.replace(doc, extensions=())


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5])
def test_the_envelope_of_every_version_is_the_documents(codec: Codec, version: int) -> None:
    """decode_envelope gives what the whole document says, whichever version wrote it."""
    doc = full_document()
    assert codec.decode_envelope(codec.encode(doc, version=version)) == DocumentEnvelope.of(doc)


def test_the_envelope_is_read_without_the_rest_of_the_body(codec: Codec) -> None:
    """A v4 record cut just after its envelope: the envelope decodes, the whole does not
    (the router routes it; the receiver refuses it)."""
    doc = full_document()
    value = codec.encode(doc)
    cut = _envelope_end(codec, value)
    assert cut < len(value) // 2  # the content, attachments and trace come after
    assert codec.decode_envelope(value[:cut]) == DocumentEnvelope.of(doc)
    with pytest.raises(MalformedRecordError):
        codec.decode(value[:cut])


def test_a_notice_decodes_whole_as_its_own_envelope(codec: Codec) -> None:
    """Notices are small: decode_envelope returns the notice itself."""
    notice = StatusNotice.about(
        letter(), from_agency="000.00.09.H29", to_agency=letter().sender, status_code="03"
    )
    assert codec.decode_envelope(codec.encode(notice)) == notice


def test_an_envelope_outside_a_code_list_is_refused(codec: Codec) -> None:
    """Priority 9 in the envelope: InvalidDocumentError, as the whole decode says."""
    value = codec.encode(dataclasses.replace(letter(), priority=9))  # type: ignore[arg-type]
    with pytest.raises(InvalidDocumentError, match="priority"):
        codec.decode_envelope(value)


def _envelope_end(codec: Codec, value: bytes) -> int:
    """Where the envelope of v4 ``value`` ends: the shortest prefix it decodes from."""
    return next(n for n in range(11, len(value)) if _envelope_decodes(codec, value[:n]))


def _envelope_decodes(codec: Codec, value: bytes) -> bool:
    try:
        codec.decode_envelope(value)
    except MalformedRecordError:
        return False
    return True

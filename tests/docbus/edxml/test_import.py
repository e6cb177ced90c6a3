"""Tests for docbus.edxml._import: edXML document and status messages into docbus values."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from docbus import BlobStore
from docbus.edxml import ImportedDocument, ImportedStatus, import_edxml
from schemas import VN_TIME, BusinessType, Priority, ReceiverChange, StaffInfo, check_document
from tests.docbus.edxml.conftest import sample


def _document(name: str, blobs: BlobStore) -> ImportedDocument:
    imported = import_edxml(sample(name), blobs=blobs)
    assert isinstance(imported, ImportedDocument)
    check_document(imported.document)
    return imported


def test_new_document_to_several_recipients(blobs: BlobStore) -> None:
    """Every header field of a new multicast document lands in the Document."""
    doc = _document("new_multicast.edxml", blobs).document
    assert doc.document_id == "000.00.00.G22,2025/10/15,7816/VPCP-KTTH"
    assert doc.sender == "000.00.00.G22"
    assert doc.recipients == ("000.00.00.G12", "000.00.00.H29", "000.00.00.H41")
    assert (doc.code_number, doc.code_notation) == ("7816", "VPCP-KTTH")
    assert doc.promulgation_place == "Hà Nội"
    assert doc.promulgation_date == dt.date(2025, 10, 15)
    assert (doc.document_type.type, doc.document_type.type_name) == (1, "Công văn")
    assert doc.subject.startswith("V/v triển khai thực hiện dự toán")
    assert doc.signer.full_name == "Nguyễn Văn Bình"
    assert doc.signer.competence == "KT. BỘ TRƯỞNG, CHỦ NHIỆM"
    assert doc.due_date == dt.date(2025, 10, 31)
    assert doc.priority == Priority.URGENT and doc.steering_type == 2
    assert doc.sphere_of_promulgation == "Liên thông văn bản quốc gia"
    assert (doc.promulgation_amount, doc.page_amount) == (5, 2)
    assert doc.appendixes == ("Phụ lục I: Dự toán chi tiết",)
    assert len(doc.to_places) == 2
    assert doc.response_for[0].document_id == "000.00.00.G12,2025/10/02,1234/BTC-NSNN"
    assert doc.response_for[0].promulgation_date == dt.date(2025, 10, 2)
    assert doc.sent_at == dt.datetime(2025, 10, 15, 9, 30, tzinfo=VN_TIME)
    assert [hop.organ_id for hop in doc.trace] == ["000.00.00.G22"]
    sender = next(o for o in doc.organs if o.organ_id == doc.sender)
    assert sender.name == "Văn phòng Chính phủ" and sender.email == "vpcp@chinhphu.vn"
    assert doc.business.business_type == BusinessType.NEW
    assert doc.business.staff == StaffInfo(
        department="Phòng Hành chính",
        full_name="Trần Thị Lan",
        email="lan.tt@chinhphu.vn",
        mobile="0912345678",
    )
    assert doc.signature is None


def test_attachments_are_decoded_into_the_blob_store(blobs: BlobStore) -> None:
    """The base64 bytes are stored under their SHA-256 and the document references them."""
    (attachment,) = _document("new_multicast.edxml", blobs).document.attachments
    assert attachment.content is None and attachment.blob_ref == f"sha256:{attachment.sha256}"
    stored = blobs.read(attachment.blob_ref)
    assert stored.startswith(b"%PDF-1.4") and stored.endswith(b"%%EOF\n")
    assert hashlib.sha256(stored).hexdigest() == attachment.sha256
    assert attachment.size_bytes == len(stored)
    assert attachment.name == "7816-VPCP-KTTH.pdf" and attachment.content_id == "7816-vpcp-1"
    assert attachment.description == "Văn bản chính"


def test_revoke_names_the_document_it_revokes(blobs: BlobStore) -> None:
    """A revoke (Business spelling, optional elements missing) keeps its link and reason."""
    doc = _document("revoke.edxml", blobs).document
    assert doc.business.business_type == BusinessType.REVOKE
    assert doc.business.related_document_id == "000.00.00.G12,2025/10/28,2105/BTC-QLCS"
    assert doc.business.reason == "Văn bản ban hành sai thẩm quyền"
    assert doc.business.staff.full_name == "Phạm Quốc Huy"
    assert doc.content == "" and doc.due_date is None and doc.attachments == ()
    assert doc.priority == 0 and doc.steering_type == 1 and doc.organs == ()


def test_update_carries_its_receiver_delta(blobs: BlobStore) -> None:
    """An update's ReceiverList becomes the receiver changes (1 added, 0 removed)."""
    business = _document("update_receivers.edxml", blobs).document.business
    assert business.business_type == BusinessType.UPDATE
    assert business.related_document_id == "000.00.00.G22,2025/11/07,498/TB-VPCP"
    assert business.receiver_changes == (
        ReceiverChange("000.00.00.H49", 1),
        ReceiverChange("000.00.00.H41", 0),
    )
    assert business.staff.mobile == "0987654321"


def test_replace_names_the_replaced_document(blobs: BlobStore) -> None:
    """A replace takes the replaced document from ReplacementInfoList."""
    doc = _document("replace.edxml", blobs).document
    assert doc.business.business_type == BusinessType.REPLACE
    assert doc.business.related_document_id == "000.00.00.H55,2025/11/05,1467/BC-UBND"
    assert doc.business.paper == 1
    assert [r.organ_id for r in doc.response_for] == ["000.00.00.G09", "000.00.00.G22"]
    assert doc.response_for[1].promulgation_date is None


def test_real_file_quirks(blobs: BlobStore) -> None:
    """No prefix, stray whitespace, CDATA, ISO and dd/MM/yyyy dates, SteeringType 0, cid in <>."""
    doc = _document("quirks_provincial.edxml", blobs).document
    assert doc.sender == "000.00.00.H49" and doc.code_number == "4521"
    assert doc.subject == "V/v đề nghị hỗ trợ khắc phục hậu quả bão số 13 & mưa lũ"
    assert doc.content == "Kính gửi: Văn phòng Chính phủ; Bộ Công Thương."
    assert doc.promulgation_date == dt.date(2025, 11, 14)
    assert doc.due_date == dt.date(2025, 11, 21)
    assert doc.steering_type == 1 and doc.priority == Priority.EXPRESS
    assert [h.timestamp for h in doc.trace] == [
        dt.datetime(2025, 11, 14, 10, 15, tzinfo=VN_TIME),
        dt.datetime(2025, 11, 14, 10, 15, 2, tzinfo=VN_TIME),
    ]
    assert doc.business.related_document_id is None  # a new document links to nothing
    (attachment,) = doc.attachments
    assert attachment.content_id == "bien-ban"
    assert attachment.name == "Biên bản họp.txt"  # taken from the manifest
    assert attachment.content_type == "text/plain"
    assert blobs.read(attachment.blob_ref or "").startswith("Biên bản họp".encode())
    sender = next(o for o in doc.organs if o.organ_id == doc.sender)
    assert sender.name == "Ủy ban nhân dân tỉnh Quảng Ninh"


def test_document_id_is_derived_when_missing(blobs: BlobStore) -> None:
    """Without DocumentId the id is built from sender, date, number and notation."""
    doc = _document("quirks_provincial.edxml", blobs).document
    assert doc.document_id == "000.00.00.H49,2025/11/14,4521/UBND-XD5"


@pytest.mark.parametrize("code", ["01", "02", "03", "04", "05", "06", "13", "15", "16"])
def test_status_message_for_each_code(code: str, blobs: BlobStore) -> None:
    """Each edXML status code is read into a StatusNotice about the right document."""
    imported = import_edxml(sample(f"status_{code}.edxml"), blobs=blobs)
    assert isinstance(imported, ImportedStatus)
    notice = imported.notice
    assert notice.status_code == code
    assert notice.document_id == "000.00.00.G22,2025/10/15,7816/VPCP-KTTH"
    assert notice.document_sender == "000.00.00.G22"
    assert notice.document_code == "7816/VPCP-KTTH"
    assert notice.promulgation_date == dt.date(2025, 10, 15)
    if code == "13":  # the sender recalls: it names the recipient in To
        assert (notice.from_agency, notice.to_agency) == ("000.00.00.G22", "000.00.00.H29")
    else:
        assert (notice.from_agency, notice.to_agency) == ("000.00.00.H29", "000.00.00.G22")
    assert notice.timestamp.tzinfo is not None
    assert dt.date(2025, 10, 15) <= notice.timestamp.date() <= dt.date(2025, 10, 20)


def test_status_details(blobs: BlobStore) -> None:
    """Description, staff and a dd/MM/yyyy timestamp are kept."""
    imported = import_edxml(sample("status_03.edxml"), blobs=blobs)
    assert isinstance(imported, ImportedStatus)
    assert imported.notice.description == "Đã tiếp nhận, vào sổ văn bản đến số 1245"
    assert imported.notice.staff == StaffInfo(department="Văn thư", full_name="Hoàng Thị Mai")
    assert imported.notice.timestamp == dt.datetime(2025, 10, 15, 10, 2, tzinfo=VN_TIME)


def test_soap_wrapped_status(blobs: BlobStore) -> None:
    """A status inside the older SOAP envelope layout is recognised too."""
    imported = import_edxml(sample("status_02.edxml"), blobs=blobs)
    assert isinstance(imported, ImportedStatus) and imported.notice.status_code == "02"

"""Tests for docbus.edxml._signature: the header's XML-DSig kept and checked."""

from __future__ import annotations

import dataclasses
import io

import pytest

from docbus import BlobStore
from docbus.edxml import ImportedDocument, import_edxml, write_document
from tests.docbus.edxml.conftest import sample
from tests.docbus.edxml.signing import agency_certificate, sign_edxml

UNSIGNED = sample("new_multicast.edxml").read_bytes()


@pytest.fixture(scope="module")
def signed() -> bytes:
    key, cert = agency_certificate("Văn phòng Chính phủ")
    return sign_edxml(UNSIGNED, key, cert)


def test_signature_verifies_and_is_kept(signed: bytes, blobs: BlobStore) -> None:
    """A signed file with its certificate verifies; the Signature element stays with the document."""
    imported = import_edxml(signed, blobs=blobs)
    assert isinstance(imported, ImportedDocument)
    assert imported.signature.status == "valid"
    assert imported.signature.certificate_subject == "CN=Văn phòng Chính phủ"
    assert "chain not checked" in imported.signature.detail
    kept = imported.document.signature
    assert kept is not None and kept.startswith("<ns0:Signature") and "SignatureValue" in kept
    unsigned = import_edxml(UNSIGNED, blobs=blobs)
    assert isinstance(unsigned, ImportedDocument)
    assert imported.document == dataclasses.replace(unsigned.document, signature=kept)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Phó Chủ nhiệm".encode(), "Phó Chủ nhiem".encode()),  # the header
        (b"<edXML:Priority>1<", b"<edXML:Priority>3<"),  # a number
        (b"JVBERi0xLjQK", b"JVBERi0xLjUK"),  # one byte of the attachment
    ],
)
def test_one_changed_byte_fails_verification(
    signed: bytes, old: bytes, new: bytes, blobs: BlobStore
) -> None:
    """Changing one byte anywhere under the signature makes it invalid, with the reason."""
    assert old in signed
    imported = import_edxml(signed.replace(old, new, 1), blobs=blobs)
    assert imported.signature.status == "invalid"
    assert "Digest mismatch" in imported.signature.detail


def test_without_certificate_it_cannot_be_verified(blobs: BlobStore) -> None:
    """A signature without X509Certificate is kept and reported as unverifiable."""
    key, cert = agency_certificate("UBND tỉnh Quảng Ninh")
    imported = import_edxml(sign_edxml(UNSIGNED, key, cert, with_certificate=False), blobs=blobs)
    assert imported.signature.status == "no-certificate"
    assert isinstance(imported, ImportedDocument) and imported.document.signature is not None


def test_unsigned_file(blobs: BlobStore) -> None:
    """A file without a signature says so."""
    assert import_edxml(UNSIGNED, blobs=blobs).signature.status == "absent"


def test_kept_signature_is_written_back(signed: bytes, blobs: BlobStore) -> None:
    """Export writes the kept Signature back; over docbus's own layout its digest no longer holds."""
    imported = import_edxml(signed, blobs=blobs)
    assert isinstance(imported, ImportedDocument)
    out = io.StringIO()
    write_document(imported.document, out, blobs=blobs)
    again = import_edxml(out.getvalue().encode(), blobs=blobs)
    assert isinstance(again, ImportedDocument)
    assert again.document.signature == imported.document.signature
    assert again.signature.status == "invalid" and again.signature.detail

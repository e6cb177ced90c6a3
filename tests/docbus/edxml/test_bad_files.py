"""Tests for edXML files that must be refused: each with a clear error naming the element or cause."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from docbus import BlobStore, EdxmlError, UnsafeXmlError
from docbus.edxml import import_edxml
from docbus.edxml._signature import check_signature
from docbus.edxml._tree import MAX_ELEMENT_TEXT
from tests.docbus.edxml.conftest import sample
from tests.docbus.edxml.signing import agency_certificate, sign_edxml

GOOD = sample("new_multicast.edxml").read_text("utf-8")
HEADER = "edXML/edXMLEnvelope/edXMLHeader/MessageHeader"


def _variant(old: str, new: str, text: str = GOOD) -> bytes:
    assert old in text, old
    return text.replace(old, new, 1).encode("utf-8")


def _with_doctype(doctype: str) -> bytes:
    return GOOD.replace("<edXML ", f"{doctype}\n<edXML ", 1).encode("utf-8")


BAD_FILES: dict[str, tuple[bytes, type[EdxmlError], str]] = {
    "malformed XML": (
        _variant("</edXML:Subject>", "</edXML:Subjec>"),
        EdxmlError,
        r"malformed XML at line \d+, column \d+: mismatched tag",
    ),
    "empty file": (b"", EdxmlError, "malformed XML"),
    "not edXML": (
        b"<html><body>hello</body></html>",
        EdxmlError,
        "html.*neither a document message",
    ),
    "missing Subject": (
        _variant(
            "<edXML:Subject>V/v triển khai thực hiện dự toán ngân sách nhà nước năm 2026</edXML:Subject>",
            "",
        ),
        EdxmlError,
        f"{HEADER}/Subject: required element is missing",
    ),
    "missing From": (
        _variant("<edXML:From>", "<edXML:Sender>").replace(b"</edXML:From>", b"</edXML:Sender>", 1),
        EdxmlError,
        f"{HEADER}/From: required element is missing",
    ),
    "missing CodeNumber": (
        _variant("<edXML:CodeNumber>7816</edXML:CodeNumber>", ""),
        EdxmlError,
        f"{HEADER}/Code/CodeNumber: required element is missing",
    ),
    "duplicate To": (
        _variant("000.00.00.H41", "000.00.00.G12"),
        EdxmlError,
        r"MessageHeader/To \(line \d+\): recipient 000.00.00.G12 appears more than once",
    ),
    "bad date": (
        _variant("<edXML:DueDate>2025/10/31", "<edXML:DueDate>2025/13/45"),
        EdxmlError,
        r"MessageHeader/DueDate \(line \d+\): '2025/13/45' is not a date",
    ),
    "priority not a number": (
        _variant("<edXML:Priority>1", "<edXML:Priority>khẩn"),
        EdxmlError,
        r"OtherInfo/Priority \(line \d+\): 'khẩn' is not a whole number",
    ),
    "priority out of range": (
        _variant("<edXML:Priority>1", "<edXML:Priority>7"),
        EdxmlError,
        "breaks the edXML rules: priority must be 0-4",
    ),
    "agency code malformed": (
        _variant("<edXML:OrganId>000.00.00.H41", "<edXML:OrganId>H 41"),
        EdxmlError,
        "recipient 'H 41' is not an agency code",
    ),
    "attachment name too long": (
        _variant("<AttachmentName>7816-VPCP-KTTH.pdf", "<AttachmentName>" + "tệp-" * 60 + ".pdf"),
        EdxmlError,
        "more than 200",
    ),
    "bad base64": (
        _variant("<ContentTransferEncoded>\n", "<ContentTransferEncoded>\n!!!!"),
        EdxmlError,
        r"Attachment/ContentTransferEncoded \(line \d+\): bad base64",
    ),
    "truncated base64": (
        _variant("\n      </ContentTransferEncoded>", "QUJD\nQU\n      </ContentTransferEncoded>"),
        EdxmlError,
        "ContentTransferEncoded.*bad base64",
    ),
    "manifest without content": (
        _variant("<ContentId>7816-vpcp-1</ContentId>", "<ContentId>other</ContentId>"),
        EdxmlError,
        "manifest lists attachment '7816-vpcp-1' but no AttachmentEncoded",
    ),
    "entity expansion (billion laughs)": (
        _with_doctype(
            '<!DOCTYPE edXML [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
            '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        ),
        UnsafeXmlError,
        "entity 'lol' declared: entity declarations are refused .entity-expansion attack.",
    ),
    "external entity (file)": (
        _with_doctype('<!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
        UnsafeXmlError,
        "entity 'xxe' declared with system id 'file:///etc/passwd'.*external-entity attack",
    ),
    "text bomb": (
        _variant("Thủ tướng Chính phủ giao", "x" * (MAX_ELEMENT_TEXT + 10)),
        EdxmlError,
        r"MessageHeader/Content \(line \d+\): more than 1,048,576 characters",
    ),
}

BAD_STATUSES: dict[str, tuple[str, str, str]] = {
    "unknown status code": ("<edXML:StatusCode>03", "<edXML:StatusCode>99", "'99' is not an edXML"),
    "bus-only status code": (
        "<edXML:StatusCode>03",
        "<edXML:StatusCode>90",
        "'90' is not an edXML",
    ),
    "missing document id": (
        "<edXML:DocumentId>000.00.00.G22,2025/10/15,7816/VPCP-KTTH</edXML:DocumentId>",
        "",
        "ResponseFor/DocumentId: required element is missing",
    ),
    "missing timestamp": (
        "<edXML:Timestamp>15/10/2025 10:02:00</edXML:Timestamp>",
        "",
        "Status/Timestamp: required element is missing",
    ),
    "recall without its recipient": (
        "<edXML:OrganId>000.00.00.H29</edXML:OrganId>",
        "<edXML:OrganId>000.00.00.G22</edXML:OrganId>",
        "must name its recipient in To",
    ),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_document_file_is_refused_with_its_reason(kind: str, blobs: BlobStore) -> None:
    """Each kind of bad document file raises an EdxmlError that says where and why."""
    data, error, message = BAD_FILES[kind]
    with pytest.raises(error, match=message):
        import_edxml(data, blobs=blobs)
    assert list((blobs.root / "tmp").iterdir()) == []  # no half-written blob left behind


@pytest.mark.parametrize("kind", list(BAD_STATUSES))
def test_bad_status_file_is_refused_with_its_reason(kind: str, blobs: BlobStore) -> None:
    """Each kind of bad status message raises an EdxmlError that says where and why."""
    old, new, message = BAD_STATUSES[kind]
    text = sample("status_03.edxml").read_text("utf-8")
    with pytest.raises(EdxmlError, match=message):
        import_edxml(_variant(old, new, text), blobs=blobs)


class _RecordingHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'<!ENTITY leak "fetched">')

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request made to it."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _RecordingHandler)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", server.requests  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def test_nothing_is_ever_fetched(
    listener: tuple[str, list[str]], blobs: BlobStore, tmp_path: Path
) -> None:
    """External entities and external DTDs are refused, and fetch nothing, in either parser."""
    url, requests = listener
    with pytest.raises(UnsafeXmlError, match="external-entity"):
        import_edxml(
            _with_doctype(f'<!DOCTYPE edXML [<!ENTITY xxe SYSTEM "{url}/secret">]>'), blobs=blobs
        )
    with pytest.raises(UnsafeXmlError):
        import_edxml(
            _with_doctype(f'<!DOCTYPE edXML [<!ENTITY % p SYSTEM "{url}/p.dtd"> %p;]>'),
            blobs=blobs,
        )
    key, cert = agency_certificate("Văn phòng Chính phủ")
    signed = sign_edxml(GOOD.encode(), key, cert)
    external_dtd = signed.replace(
        b"<edXML ", f'<!DOCTYPE edXML SYSTEM "{url}/edxml.dtd">\n<edXML '.encode(), 1
    )
    with pytest.raises(UnsafeXmlError, match="external DTD or entity"):
        import_edxml(external_dtd, blobs=blobs)
    # the signature check's parsers (lxml, then signxml) load no DTD either, if handed one
    check = check_signature(external_dtd)
    assert (check.status, check.detail) == (
        "invalid",
        "DTD declarations are not supported in XML input",
    )
    assert requests == []

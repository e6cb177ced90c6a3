"""Tests for router._routing: routing decisions for one record, without a broker."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from router import RoutingCore
from router.directory import Directory
from schemas import (
    BUS_AGENCY,
    HEADER_ERROR,
    HEADER_ERROR_CLASS,
    HEADER_RECIPIENT,
    Codec,
    StatusCode,
    StatusNotice,
    TopicLayout,
)
from tests.helpers import G12, G22, H29, H41, letter

LAYOUT = TopicLayout("p")


@dataclass
class Record:
    """A consumed record as the router sees one."""

    topic: str
    value: bytes | None
    key: bytes | None = None
    partition: int = 0
    offset: int = 7
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@pytest.fixture(scope="module")
def codec() -> Codec:
    return Codec()


@pytest.fixture(scope="module")
def core(codec: Codec) -> RoutingCore:
    return RoutingCore(
        directory=Directory.load(), codec=codec, layout=LAYOUT, max_document_bytes=100_000
    )


def header(out, name: str) -> str:
    return dict(out.headers)[name].decode()


def test_multicast_is_one_record_per_recipient(core: RoutingCore, codec: Codec) -> None:
    """A document to three units yields one unchanged copy per recipient's inbox."""
    doc = letter(G22, (H29, "000.00.05.H29", G12))
    routed = core.route(Record(LAYOUT.outbox(G22), codec.encode(doc)))
    assert routed.kind == "document" and routed.deliveries == 3
    assert [o.topic for o in routed.outputs] == [
        LAYOUT.inbox(H29),
        LAYOUT.inbox(H29),
        LAYOUT.inbox(G12),
    ]
    assert [header(o, HEADER_RECIPIENT) for o in routed.outputs] == [H29, "000.00.05.H29", G12]
    assert all(
        o.value == codec.encode(doc) and o.key == doc.document_id.encode() for o in routed.outputs
    )


def test_notice_goes_to_the_original_sender(core: RoutingCore, codec: Codec) -> None:
    """A status notice from a recipient's outbox goes to the sender's inbox, keyed by document."""
    doc = letter(G22, (H29,))
    notice = StatusNotice(
        document_id=doc.document_id,
        document_sender=G22,
        from_agency=H29,
        to_agency=G22,
        status_code=StatusCode.ACCEPTED,
        timestamp=doc.sent_at,
    )
    routed = core.route(Record(LAYOUT.outbox(H29), codec.encode(notice)))
    assert routed.kind == "notice"
    (out,) = routed.outputs
    assert out.topic == LAYOUT.inbox(G22) and out.key == doc.document_id.encode()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"garbage", "bad_marker"),
        (b"", "empty"),
        (None, "empty"),
        (b"\xc3\x01" + b"\x00" * 20, "unknown_schema"),
        (b"x" * 100_001, "oversized"),
    ],
)
def test_undecodable_records_become_dead_letters(core: RoutingCore, value, reason: str) -> None:
    """Bytes that are no document go to the dead-letter topic, and the outbox owner is told."""
    routed = core.route(Record(LAYOUT.outbox(H41), value, key=b"k1"))
    assert (routed.kind, routed.reason) == ("dead_letter", reason)
    dead, rejection = routed.outputs
    assert dead.topic == LAYOUT.deadletter and header(dead, HEADER_ERROR_CLASS) == reason
    assert header(dead, HEADER_ERROR)
    assert header(dead, "docbus-source") == f"{LAYOUT.outbox(H41)}/0/7"
    assert rejection.topic == LAYOUT.inbox(H41)


def test_rejection_notice_says_why(core: RoutingCore, codec: Codec) -> None:
    """The sender's rejection notice is status 02 from the bus, with the reason in words."""
    doc = dataclasses.replace(letter(G22, ("000.00.00.G99",)))
    routed = core.route(Record(LAYOUT.outbox(G22), codec.encode(doc)))
    assert routed.reason == "unknown_recipient"
    notice = codec.decode(routed.outputs[1].value)
    assert isinstance(notice, StatusNotice)
    assert notice.status_code == StatusCode.REJECTED and notice.from_agency == BUS_AGENCY
    assert notice.document_id == doc.document_id and "G99" in notice.description


def test_invalid_document_is_dead_lettered(core: RoutingCore, codec: Codec) -> None:
    """A document that decodes but breaks the edXML rules is refused with every problem."""
    doc = dataclasses.replace(letter(G22, (H29, H29)), priority=7)
    routed = core.route(Record(LAYOUT.outbox(G22), codec.encode(doc)))
    assert routed.reason == "invalid_document"
    assert "priority" in routed.detail and "more than once" in routed.detail


def test_sender_must_own_the_outbox(core: RoutingCore, codec: Codec) -> None:
    """A document claiming another agency as sender is refused as a mismatch."""
    routed = core.route(Record(LAYOUT.outbox(H41), codec.encode(letter(G22, (H29,)))))
    assert routed.reason == "sender_mismatch"


def test_record_on_an_unknown_outbox(core: RoutingCore, codec: Codec) -> None:
    """A record on an outbox of no known agency is dead-lettered with nobody to tell."""
    routed = core.route(Record("p.outbox.000.00.00.G99", codec.encode(letter())))
    assert routed.reason == "unknown_outbox" and len(routed.outputs) == 1

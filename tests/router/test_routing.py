"""Tests for router._routing: routing decisions for one record, without a broker."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

import pytest

from docbus import SignatureError
from docbus.directory import Directory
from router import RoutingCore
from schemas import (
    BUS_AGENCY,
    EXPRESS_PARTITION,
    HEADER_ERROR,
    HEADER_ERROR_CLASS,
    HEADER_OUTBOX_TIME,
    HEADER_RECIPIENT,
    HEADER_SIGNATURE,
    MAX_NOTICE_STEPS,
    VN_TIME,
    Codec,
    StatusCode,
    StatusNotice,
    TopicLayout,
)
from tests.helpers import G12, G22, H29, H41, letter
from tests.signing import signer_for, test_keyring

LAYOUT = TopicLayout("p")


@dataclass
class Record:
    """A consumed record as the router sees one."""

    topic: str
    value: bytes | None
    key: bytes | None = None
    partition: int = 0
    offset: int = 7
    timestamp: int = 1_732_500_000_123
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    signed: bool = True

    def __post_init__(self) -> None:
        """Sign the value with the outbox owner's test key, as its sender would."""
        owner = LAYOUT.outbox_owner(self.topic)
        if self.signed and owner and self.value:
            self.headers = [*self.headers, *signer_for(owner).headers(self.value)]


@pytest.fixture(scope="module")
def codec() -> Codec:
    return Codec()


@pytest.fixture(scope="module")
def core(codec: Codec) -> RoutingCore:
    return RoutingCore(
        directory=Directory.load(),
        codec=codec,
        layout=LAYOUT,
        max_document_bytes=100_000,
        signer=signer_for(BUS_AGENCY),
        keys=test_keyring(),
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
    assert all(o.value == codec.encode(doc) for o in routed.outputs)
    assert routed.outputs[1].key == f"000.00.05.H29|{doc.document_id}".encode()
    assert {header(o, HEADER_OUTBOX_TIME) for o in routed.outputs} == {"1732500000123"}
    assert {o.partition for o in routed.outputs} == {None}  # by key, in the bulk lane


@pytest.mark.parametrize("priority", [3, 4])
def test_express_documents_go_to_the_express_lane(
    core: RoutingCore, codec: Codec, priority: int
) -> None:
    """Every delivery of an express document goes to partition 0 of its inbox."""
    doc = letter(G22, (H29, G12), priority=priority)
    routed = core.route(Record(LAYOUT.outbox(G22), codec.encode(doc)))
    assert [o.partition for o in routed.outputs] == [EXPRESS_PARTITION, EXPRESS_PARTITION]


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


def test_the_bus_signs_its_own_notices_of_a_batch_together(core: RoutingCore, codec: Codec) -> None:
    """Rejections come out unsigned; signed as one batch, each verifies alone as the bus's
    (one signature, a proof each), and a changed byte in one refuses that one only."""
    bad = [letter(G22, (f"000.00.00.G9{i}",)) for i in range(3)]
    own = [core.route(Record(LAYOUT.outbox(G22), codec.encode(doc))).outputs[1] for doc in bad]
    assert all(o.unsigned and not any(n == HEADER_SIGNATURE for n, _ in o.headers) for o in own)
    signed = core.signed(own)
    assert [o.value for o in signed] == [o.value for o in own] and not any(
        o.unsigned for o in signed
    )
    assert len({dict(o.headers)[HEADER_SIGNATURE] for o in signed}) == 1
    assert all(header(o, HEADER_ERROR_CLASS) == "unknown_recipient" for o in signed)
    keys, today = test_keyring(), dt.datetime.now(VN_TIME).date()
    for out in signed:
        assert keys.verify(out.value, out.headers, signer=BUS_AGENCY, day=today)
    tampered = signed[1].value[:-1] + bytes([signed[1].value[-1] ^ 1])
    with pytest.raises(SignatureError, match="does not match"):
        keys.verify(tampered, signed[1].headers, signer=BUS_AGENCY, day=today)
    assert core.signed([]) == []


def test_an_envelope_that_breaks_the_rules_is_dead_lettered(
    core: RoutingCore, codec: Codec
) -> None:
    """Recipients twice and a malformed one: refused with every envelope problem."""
    doc = letter(G22, (H29, H29, "not a code"))
    routed = core.route(Record(LAYOUT.outbox(G22), codec.encode(doc)))
    assert routed.reason == "invalid_document"
    assert "more than once" in routed.detail and "'not a code'" in routed.detail


def test_content_is_not_the_routers_to_check(core: RoutingCore, codec: Codec) -> None:
    """An empty subject and a body cut after the envelope: the router delivers the bytes
    as they are (the receiver checks the whole document)."""
    empty_subject = codec.encode(dataclasses.replace(letter(G22, (H29,), number=1), subject=" "))
    whole = codec.encode(letter(G22, (H29,), number=2))
    cut = whole[: len(whole) - 40]
    for value in (empty_subject, cut):
        routed = core.route(Record(LAYOUT.outbox(G22), value))
        assert routed.kind == "document", routed.detail
        assert [o.value for o in routed.outputs] == [value]


def test_a_priority_outside_the_code_list_is_refused_at_decoding(
    core: RoutingCore, codec: Codec
) -> None:
    """Priority 7 cannot become a Document (its field is a Priority): invalid_document."""
    doc = dataclasses.replace(letter(G22, (H29,)), priority=7)
    routed = core.route(Record(LAYOUT.outbox(G22), codec.encode(doc)))
    assert (routed.reason, routed.detail) == ("invalid_document", "priority must be 0-4, got 7")


def test_sender_must_own_the_outbox(core: RoutingCore, codec: Codec) -> None:
    """A document claiming another agency as sender is refused as a mismatch."""
    routed = core.route(Record(LAYOUT.outbox(H41), codec.encode(letter(G22, (H29,)))))
    assert routed.reason == "sender_mismatch"


def test_record_on_an_unknown_outbox(core: RoutingCore, codec: Codec) -> None:
    """A record on an outbox of no known agency is dead-lettered with nobody to tell."""
    routed = core.route(Record("p.outbox.000.00.00.G99", codec.encode(letter())))
    assert routed.reason == "unknown_outbox" and len(routed.outputs) == 1


def dated(day: dt.date, *recipients: str, sender: str = G22, number: int = 1):  # type: ignore[no-untyped-def]
    """A letter sent at 09:00 in Vietnam on ``day``."""
    sent = dt.datetime.combine(day, dt.time(9, 0), VN_TIME).astimezone(dt.UTC)
    return letter(sender, recipients, number=number, sent_at=sent)


@pytest.mark.parametrize(
    ("closed", "successor"),
    [
        ("000.00.00.H54", "000.00.00.H31"),  # Thái Bình -> Hưng Yên
        ("000.00.00.H26", "000.00.00.H27"),  # Hải Dương -> Hải Phòng
        ("000.00.00.H17", "000.00.00.H36"),  # Đắk Nông -> Lâm Đồng
    ],
)
def test_provinces_merged_on_1_july_2025(
    core: RoutingCore, codec: Codec, closed: str, successor: str
) -> None:
    """Before 1 July 2025 a province gets its own mail; from that day its successor gets it."""
    before = core.route(
        Record(LAYOUT.outbox(G22), codec.encode(dated(dt.date(2025, 6, 30), closed)))
    )
    assert [o.topic for o in before.outputs] == [LAYOUT.inbox(closed)] and before.redirects == 0
    after = core.route(Record(LAYOUT.outbox(G22), codec.encode(dated(dt.date(2025, 7, 1), closed))))
    delivery, notice = after.outputs
    assert delivery.topic == LAYOUT.inbox(successor)
    assert header(delivery, HEADER_RECIPIENT) == successor
    told = codec.decode(notice.value)
    assert notice.topic == LAYOUT.inbox(G22)
    assert (told.status_code, told.from_agency, told.to_agency) == ("90", BUS_AGENCY, G22)
    assert closed in told.description and successor in told.description


@pytest.mark.parametrize(
    ("closed", "successor"),
    [
        ("000.00.00.G05", "000.00.00.G12"),  # Planning and Investment -> Finance
        ("000.00.00.G04", "000.00.00.G17"),  # Transport -> Construction
        (
            "000.00.00.G14",
            "000.00.00.G06",
        ),  # Information and Communications -> Science and Technology
        (
            "000.00.00.G13",
            "000.00.00.G10",
        ),  # Natural Resources and Environment -> Agriculture and Environment
        ("000.00.00.G07", "000.00.00.G09"),  # Labour, Invalids and Social Affairs -> Home Affairs
    ],
)
def test_ministries_merged_on_1_march_2025(
    core: RoutingCore, codec: Codec, closed: str, successor: str
) -> None:
    """Before 1 March 2025 a ministry gets its own mail; from that day its successor gets it."""
    before = core.route(
        Record(LAYOUT.outbox(H29), codec.encode(dated(dt.date(2025, 2, 28), closed, sender=H29)))
    )
    assert [o.topic for o in before.outputs] == [LAYOUT.inbox(closed)]
    after = core.route(
        Record(LAYOUT.outbox(H29), codec.encode(dated(dt.date(2025, 3, 1), closed, sender=H29)))
    )
    assert after.outputs[0].topic == LAYOUT.inbox(successor) and after.redirects == 1


def test_sub_unit_of_a_closed_province_goes_to_the_successor(
    core: RoutingCore, codec: Codec
) -> None:
    """A department of Thái Bình addressed after the merger reaches Hưng Yên's inbox."""
    routed = core.route(
        Record(LAYOUT.outbox(G22), codec.encode(dated(dt.date(2025, 8, 1), "000.00.03.H54")))
    )
    assert routed.outputs[0].topic == LAYOUT.inbox("000.00.00.H31")
    assert header(routed.outputs[0], HEADER_RECIPIENT) == "000.00.00.H31"


def test_groups_resolve_at_the_send_date(core: RoutingCore, codec: Codec) -> None:
    """group:provinces is 63 inboxes in 2024 and 34 after July 2025; group:all adds the ministries."""
    for day, provinces, government in [
        (dt.date(2024, 5, 6), 63, 22),
        (dt.date(2025, 8, 4), 34, 17),
    ]:
        routed = core.route(Record(LAYOUT.outbox(G22), codec.encode(dated(day, "group:provinces"))))
        assert routed.deliveries == provinces and routed.redirects == 0
        routed = core.route(Record(LAYOUT.outbox(G22), codec.encode(dated(day, "group:all"))))
        assert routed.deliveries == provinces + government


def test_named_group_with_merged_members_is_deduplicated(core: RoutingCore, codec: Codec) -> None:
    """A named group whose members merged delivers once to each successor."""
    routed = core.route(
        Record(LAYOUT.outbox(G22), codec.encode(dated(dt.date(2025, 8, 4), "group:mekong-delta")))
    )
    inboxes = [o.topic for o in routed.outputs[: routed.deliveries]]
    # An Giang, Cà Mau, Cần Thơ, Đồng Tháp, Vĩnh Long, and Tây Ninh (which took in Long An)
    assert len(inboxes) == len(set(inboxes)) == 6


def test_unknown_group_and_unknown_unit_are_refused(core: RoutingCore, codec: Codec) -> None:
    """A group or unit the directory lacks is a dead letter naming it."""
    routed = core.route(Record(LAYOUT.outbox(G22), codec.encode(letter(G22, ("group:nowhere",)))))
    assert routed.reason == "unknown_recipient" and "nowhere" in routed.detail
    routed = core.route(Record(LAYOUT.outbox(G22), codec.encode(letter(G22, ("000.00.98.H29",)))))
    assert routed.reason == "unknown_recipient" and "000.00.98.H29" in routed.detail


def test_closed_agency_cannot_send(core: RoutingCore, codec: Codec) -> None:
    """A document from a province after it closed is refused."""
    doc = dated(dt.date(2025, 7, 2), H29, sender="000.00.00.H54")
    routed = core.route(Record(LAYOUT.outbox("000.00.00.H54"), codec.encode(doc)))
    assert routed.reason == "sender_closed"


def test_agencies_may_not_send_the_bus_status(core: RoutingCore, codec: Codec) -> None:
    """Status 90 (redirected) from an agency is refused: only the bus sends it."""
    notice = StatusNotice(
        document_id="x",
        document_sender=G22,
        from_agency=H29,
        to_agency=G22,
        status_code=StatusCode.REDIRECTED,
        timestamp=dt.datetime.now(dt.UTC),
    )
    routed = core.route(Record(LAYOUT.outbox(H29), codec.encode(notice)))
    assert routed.reason == "invalid_notice"


@pytest.mark.parametrize(
    ("codes", "words"),
    [
        (["90", "03"], "status 90"),  # the bus's own status hidden among earlier steps
        (["01"] * (MAX_NOTICE_STEPS + 1), f"at most {MAX_NOTICE_STEPS}"),
        (["01", "77"], "status code"),
    ],
)
def test_a_notice_with_a_forbidden_step_is_dead_lettered_whole(
    core: RoutingCore, codec: Codec, codes: list[str], words: str
) -> None:
    """A notice record is refused, with its reason, for any one step it carries."""
    at = dt.datetime.now(dt.UTC)
    steps = [
        StatusNotice(
            document_id="x",
            document_sender=G22,
            from_agency=H29,
            to_agency=G22,
            status_code=code,  # type: ignore[arg-type]
            timestamp=at,
        )
        for code in codes
    ]
    value = codec.encode(StatusNotice.together(steps))
    routed = core.route(Record(LAYOUT.outbox(H29), value))
    assert routed.kind == "dead_letter" and routed.reason == "invalid_notice"
    assert words in (routed.detail or "")

"""The hostile-input catalogue: broken and malicious records through the real path.

Every case is a record in an agency's outbox on the embedded broker, read by a running
router with tracking on. A record the router can judge (no record, a broken envelope, a
signature that does not prove the sender, a rule of routing broken) must end in the
dead-letter topic with its precise reason (``docbus-error-class``) and words
(``docbus-error``), the outbox's owner told. A signed document whose envelope routes
but whose content is broken is delivered as it is, and its recipient's receiver refuses
it: the sender gets 01 then 02 "refused by <recipient> (<reason>)". Good documents sent
among them must all be delivered and handed over.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from consumers import Receiver
from docbus import Keystore, MalformedRecordError, Settings
from docbus.directory import Directory
from producers import Sender
from router import Router
from router.tracking import Tracker, open_store
from schemas import (
    BUS_AGENCY,
    HEADER_ERROR,
    HEADER_ERROR_CLASS,
    HEADER_KEY_ID,
    HEADER_SIGNATURE,
    Codec,
    Document,
    StatusCode,
    StatusNotice,
    today_vn,
)
from tests.helpers import (
    G12,
    G22,
    H29,
    H41,
    ensure_topics,
    eventually,
    letter,
    produce_raw,
    read_topic,
    steps_in,
    take,
)

pytestmark = pytest.mark.slow

_HEADER_SIZE = 10  # marker and fingerprint
_CASE = "test-case"
_MAX_BYTES = 300_000


def zigzag(n: int) -> bytes:
    """``n`` as an Avro long (zig-zag varint)."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        byte = z & 0x7F
        z >>= 7
        if z:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_long(data: bytes, at: int) -> tuple[int, int]:
    """The Avro long at ``at`` and the position after it."""
    shift = result = 0
    while True:
        byte = data[at]
        at += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return (result >> 1) ^ -(result & 1), at


def envelope_end(codec: Codec, value: bytes) -> int:
    """Where the routing envelope of v4 ``value`` ends."""
    for n in range(_HEADER_SIZE + 1, len(value)):
        try:
            codec.decode_envelope(value[:n])
        except MalformedRecordError:
            continue
        return n
    raise AssertionError("no envelope")


def after_two_strings(value: bytes) -> int:
    """Where the recipients array starts (after document_id and sender)."""
    at = _HEADER_SIZE
    for _ in range(2):
        length, at = read_long(value, at)
        at += length
    return at


@dataclass
class Case:
    """One hostile record: its bytes, how it is signed, and the reason it must get."""

    name: str
    reason: str
    value: bytes | None
    owner: str = G22
    #: "owner" (signed by the outbox's owner), "none", or a function of the value
    signing: str | Callable[[bytes], list[tuple[str, bytes]]] = "owner"
    #: who refuses it: the router (a dead letter) or the recipient's receiver (02)
    refused_by: str = "router"


def catalogue(
    settings: Settings, known: Document, closed: str, expired_key_day: dt.date
) -> list[Case]:
    """The hostile cases, built around ``known`` (a document the router has routed)."""
    codec = Codec()
    keystore = Keystore(settings.keys_root)
    good = letter(G22, (H29,), number=900)
    value = codec.encode(good)
    body_at = after_two_strings(value)
    _, id_at = read_long(value, _HEADER_SIZE)
    notice = StatusNotice.about(known, from_agency=H29, to_agency=G22, status_code="03")
    h29_signs = keystore.signer(H29).headers
    g22_signs = keystore.signer(G22).headers
    expired = keystore.signer(G12, expired_key_day).headers

    def doc(**changes: object) -> bytes:
        return codec.encode(dataclasses.replace(good, **changes))  # type: ignore[arg-type]

    def content(number: int, **changes: object) -> bytes:
        """A letter of its own id (the router tracks each id once), ``changes`` made."""
        own = letter(G22, (H29,), number=number)
        return codec.encode(dataclasses.replace(own, **changes))  # type: ignore[arg-type]

    def note(**changes: object) -> bytes:
        return codec.encode(dataclasses.replace(notice, **changes))  # type: ignore[arg-type]

    invalid_utf8 = bytearray(value)
    invalid_utf8[id_at + 2] = 0xFF
    tampered = bytearray(value)
    tampered[-1] ^= 0x01
    other_fingerprint = codec.encode(notice)[:_HEADER_SIZE]
    return [
        # -- the bytes are no docbus record
        Case("empty value", "empty", b"", signing="none"),
        Case("tombstone (null value)", "empty", None, signing="none"),
        Case("oversize document", "oversized", doc(content="x" * (_MAX_BYTES + 1))),
        Case("wrong marker", "bad_marker", b"\xc3\x02" + value[2:]),
        Case("JSON instead of Avro", "bad_marker", b'{"document_id": "x"}'),
        Case("shorter than the header", "malformed", value[:5]),
        Case("header and nothing else", "malformed", value[:_HEADER_SIZE]),
        Case("unknown fingerprint", "unknown_schema", value[:2] + b"\x01" * 8 + value[10:]),
        Case("truncated inside the envelope", "malformed", value[: envelope_end(codec, value) - 2]),
        Case(
            "huge string length", "malformed", value[:_HEADER_SIZE] + zigzag(2**62) + value[id_at:]
        ),
        Case(
            "negative string length", "malformed", value[:_HEADER_SIZE] + zigzag(-5) + value[id_at:]
        ),
        Case(
            "huge array length", "malformed", value[:body_at] + zigzag(2**40) + value[body_at + 1 :]
        ),
        Case("endless varint", "malformed", value[:_HEADER_SIZE] + b"\xff" * 64),
        Case("invalid UTF-8 in a string", "malformed", bytes(invalid_utf8)),
        Case("notice schema, document body", "malformed", other_fingerprint + value[10:]),
        # -- the signature does not prove the sender
        Case("unsigned", "unsigned", value, signing="none"),
        Case(
            "one byte changed after signing",
            "bad_signature",
            bytes(tampered),
            signing=lambda _: g22_signs(value),
        ),
        Case(
            "signature of 63 bytes",
            "bad_signature",
            value,
            signing=lambda v: [g22_signs(v)[0], (HEADER_SIGNATURE, g22_signs(v)[1][1][:63])],
        ),
        Case(
            "unknown key id",
            "unknown_key",
            value,
            signing=lambda v: [
                (HEADER_KEY_ID, b"000.00.00.G22/20991231-00000000"),
                g22_signs(v)[1],
            ],
        ),
        Case(
            "spoofed sender (H29's key in G22's outbox)", "key_not_owner", value, signing=h29_signs
        ),
        Case(
            "expired key",
            "expired_key",
            codec.encode(letter(G12, (H29,), number=901)),
            owner=G12,
            signing=expired,
        ),
        Case("two signatures", "unsigned", value, signing=lambda v: g22_signs(v) * 2),
        # -- a record that decodes but breaks the rules
        Case("100,000 recipients", "invalid_document", doc(recipients=("H",) * 100_000)),
        Case("no recipients", "invalid_document", doc(recipients=())),
        Case("duplicate recipients", "invalid_document", doc(recipients=(H29, H29))),
        Case("malformed recipient code", "invalid_document", doc(recipients=("not a code",))),
        Case("priority 9", "invalid_document", doc(priority=9)),
        Case("document id of 300 characters", "invalid_document", doc(document_id="x" * 300)),
        # -- a signed document whose envelope routes but whose content is broken
        Case(
            "empty subject",
            "invalid_document",
            content(905, subject="  "),
            refused_by="receiver",
        ),
        Case(
            "steering type 9",
            "invalid_document",
            content(906, steering_type=9),
            refused_by="receiver",
        ),
        Case(
            "body cut after the envelope",
            "malformed",
            (cut := content(907))[: envelope_end(codec, cut) + 3],
            refused_by="receiver",
        ),
        Case(
            "stray bytes after the record",
            "malformed",
            content(908) + b"\0\0",
            refused_by="receiver",
        ),
        Case("unknown recipient agency", "unknown_recipient", doc(recipients=("000.00.00.Z98",))),
        Case(
            "document sender is another agency",
            "sender_mismatch",
            codec.encode(letter(H41, (H29,), number=902)),
        ),
        Case(
            "sender closed in the 2025 reorganisation",
            "sender_closed",
            codec.encode(letter(closed, (H29,), number=903)),
            owner=closed,
        ),
        Case(
            "document id reused with other content",
            "document_id_reused",
            codec.encode(dataclasses.replace(known, subject="Nội dung đã bị thay")),
        ),
        # -- notices that must not pass
        Case(
            "notice for an unknown document",
            "unknown_document",
            note(document_id=letter(G22, (H29,), number=904).document_id),
            owner=H29,
        ),
        Case("notice from a non-recipient", "not_a_recipient", note(from_agency=G12), owner=G12),
        Case(
            "notice posing as another agency", "sender_mismatch", note(from_agency=H41), owner=H29
        ),
        Case(
            "notice with the bus's own status 90",
            "invalid_notice",
            note(status_code=StatusCode.REDIRECTED),
            owner=H29,
        ),
        Case(
            "notice with an unknown status code",
            "invalid_notice",
            note(status_code="77"),
            owner=H29,
        ),
        Case("notice with an empty document id", "invalid_notice", note(document_id=""), owner=H29),
        Case(
            "notice to someone other than the sender",
            "wrong_addressee",
            note(to_agency=G12),
            owner=H29,
        ),
    ]


def signature_headers(case: Case) -> list[tuple[str, bytes]]:
    """The signature headers ``case`` is sent with, beside its owner's (when "owner")."""
    if isinstance(case.signing, str):
        return []
    return case.signing(case.value or b"")


def closed_agency(directory: Directory) -> str:
    """A top-level agency that closed in the 2025 reorganisation."""
    today = today_vn()
    return next(
        a.code
        for a in directory
        if a.valid_to is not None
        and a.valid_to < today
        and directory.agency_at(a.code, today) is None
    )


async def test_every_hostile_record_is_refused_with_its_reason(settings: Settings) -> None:
    """43 kinds of broken or malicious record among good traffic: each refused with its
    precise reason, by the router (a dead letter) or by the recipient's receiver (02), the
    sender told either way; every good document delivered and handed over."""
    settings = settings.replace(max_document_bytes=_MAX_BYTES, keys_dir=settings.home / "keys")
    keystore = Keystore(settings.keys_root)
    expired_day = dt.date(2020, 1, 15)
    keystore.generate(G12, valid_from=dt.date(2020, 1, 1), valid_days=30)
    directory = Directory.load()
    closed = closed_agency(directory)
    keystore.ensure([BUS_AGENCY, *directory.codes()])
    owners = [G22, H29, G12, H41, closed]
    layout = await ensure_topics(settings, owners)
    known = letter(G22, (H29,), number=1)
    refusals: list[tuple[str, str]] = []
    async with (
        Router(settings=settings, unknown_notice_grace_s=1.0) as router,
        Sender(agency=G22, settings=settings) as sender,
    ):
        await sender.send(known)
        await read_topic(settings, layout.inbox(H29), 1)
        cases = catalogue(settings, known, closed, expired_day)
        at_router = [c for c in cases if c.refused_by == "router"]
        at_receiver = [c for c in cases if c.refused_by == "receiver"]
        good = [letter(G22, (H29,), number=100 + n) for n in range(20)]
        for n, case in enumerate(cases):
            await produce_raw(
                settings,
                layout.outbox(case.owner),
                [case.value],
                key=case.name.encode(),
                signed=case.signing == "owner",
                headers=[(_CASE, case.name.encode()), *signature_headers(case)],
            )
            if n % 4 == 0:
                await sender.send(good[n // 4])
        for doc in good[len(cases) // 4 + 1 :]:
            await sender.send(doc)
        dead = await read_topic(settings, layout.deadletter, len(at_router), timeout_s=60)
        async with Receiver(
            agency=H29, settings=settings, on_refused=lambda kind, why: refusals.append((kind, why))
        ) as h29:
            handed = await take(h29, 1 + len(good))
            await eventually(lambda: len(refusals) == len(at_receiver))
            # G22 hears: the bus's 02 for its cases, H29's 01 for each good document, and
            # H29's 01 and 02 for each document H29 refused (one record)
            g22_inbox = await read_topic(
                settings,
                layout.inbox(G22),
                sum(c.owner == G22 for c in at_router) + len(handed) + len(at_receiver),
                timeout_s=60,
            )
        stats = router.stats
    by_case = {dict(r.headers)[_CASE].decode(): r for r in dead}
    wrong = {
        c.name: (
            dict(by_case[c.name].headers)[HEADER_ERROR_CLASS].decode()
            if c.name in by_case
            else None,
            c.reason,
        )
        for c in at_router
        if c.name not in by_case
        or dict(by_case[c.name].headers)[HEADER_ERROR_CLASS].decode() != c.reason
    }
    assert wrong == {}, wrong
    for record in dead:
        words = dict(record.headers)[HEADER_ERROR].decode()
        assert 10 < len(words) <= 1000, words
    assert len(cases) >= 40 and len(at_receiver) >= 4
    assert stats.dead_lettered == len(at_router)
    assert sorted(r.document.document_id for r in handed) == sorted(
        d.document_id for d in [known, *good]
    )
    assert sorted(kind for kind, _ in refusals) == sorted(c.reason for c in at_receiver)
    g22_notices = steps_in(g22_inbox)
    refused_by_h29 = sorted(
        n.description.split(")")[0]
        for n in g22_notices
        if isinstance(n, StatusNotice) and n.from_agency == H29 and n.status_code == "02"
    )
    assert refused_by_h29 == sorted(f"refused by {H29} ({c.reason}" for c in at_receiver)
    told = Counter(
        G22
        for n in g22_notices
        if isinstance(n, StatusNotice) and n.from_agency == BUS_AGENCY and n.status_code == "02"
    )
    elsewhere = Counter(c.owner for c in at_router if c.owner != G22)
    told += await _rejections(settings, layout, elsewhere, {H29: len(handed) + len(at_receiver)})
    assert told == Counter(c.owner for c in at_router)


async def _rejections(
    settings: Settings, layout, expected: Counter, others: dict[str, int]
) -> Counter:  # type: ignore[no-untyped-def]
    """How many 02 notices from the bus each owner's inbox holds (``others``: other records)."""
    codec = Codec()
    found: Counter[str] = Counter()
    for owner, count in expected.items():
        total = count + others.get(owner, 0)
        records = await read_topic(settings, layout.inbox(owner), total, timeout_s=30)
        for record in records:
            message = codec.decode_envelope(record.value)  # some carry broken bodies
            if (
                isinstance(message, StatusNotice)
                and message.from_agency == BUS_AGENCY
                and message.status_code == StatusCode.REJECTED
            ):
                found[owner] += 1
    return found


async def test_a_document_id_reused_after_the_cache_forgot_it(
    settings: Settings, tmp_path: Path
) -> None:
    """A router whose tracking cache holds three documents routes eleven; the first one's
    id then comes again with other content: the router reads its digest back from the
    store and dead-letters it as ``document_id_reused``."""
    layout = await ensure_topics(settings, [G22, H29])
    codec = Codec()
    first, *later = (letter(G22, (H29,), number=n) for n in range(1, 12))
    for doc in (first, *later):
        await produce_raw(
            settings, layout.outbox(G22), [codec.encode(doc)], key=doc.document_id.encode()
        )
    tracker = Tracker(open_store(dsn=None, state_dir=tmp_path), cache_size=3)
    async with Router(settings=settings, tracker=tracker) as router:
        await read_topic(settings, layout.inbox(H29), 11)
        await eventually(lambda: tracker.store.digests([first.document_id]))  # written
        reused = dataclasses.replace(first, subject="Cùng số hiệu, nội dung khác")
        await produce_raw(
            settings, layout.outbox(G22), [codec.encode(reused)], key=first.document_id.encode()
        )
        (dead,) = await read_topic(settings, layout.deadletter, 1)
        assert router.stats.documents_routed == 11
    assert dict(dead.headers)[HEADER_ERROR_CLASS] == b"document_id_reused"
    tracker.store.close()

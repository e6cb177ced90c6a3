"""Tests for schemas._signing: Ed25519 record signatures against the key ring."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from docbus import ConfigurationError, SignatureError
from schemas import (
    BUS_AGENCY,
    HEADER_KEY_ID,
    HEADER_SIGNATURE,
    AgencyKey,
    Codec,
    KeyRing,
    StatusCode,
    StatusNotice,
    record_day,
    signing_agency,
)
from tests.helpers import G22, H29, letter
from tests.signing import signer_for

DAY = dt.date(2026, 3, 2)


@pytest.fixture(scope="module")
def value() -> bytes:
    return Codec().encode(letter(G22, (H29,)))


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing([signer_for(G22).key, signer_for(H29).key, signer_for(BUS_AGENCY).key])


def check(ring: KeyRing, value: bytes, headers, signer: str = G22) -> AgencyKey:  # type: ignore[no-untyped-def]
    return ring.verify(value, headers, signer=signer, day=DAY)


def reason(ring: KeyRing, value: bytes, headers, signer: str = G22) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(SignatureError) as caught:
        check(ring, value, headers, signer)
    return caught.value.kind


def test_a_signed_record_verifies_with_its_senders_key(ring: KeyRing, value: bytes) -> None:
    """The signer's headers prove the agency that signed: the key used is returned."""
    signer = signer_for(G22)
    assert check(ring, value, signer.headers(value)) == signer.key


def test_every_single_changed_byte_is_rejected(ring: KeyRing, value: bytes) -> None:
    """Flip any one byte of the value, or of the signature: bad_signature, every time."""
    headers = signer_for(G22).headers(value)
    for i in range(len(value)):
        changed = bytearray(value)
        changed[i] ^= 0x01
        assert reason(ring, bytes(changed), headers) == "bad_signature", i
    key_id, signature = headers
    for i in range(len(signature[1])):
        forged = bytearray(signature[1])
        forged[i] ^= 0x80
        assert reason(ring, value, [key_id, (HEADER_SIGNATURE, bytes(forged))]) == "bad_signature"


def test_another_agencys_key_is_a_spoofed_sender(ring: KeyRing, value: bytes) -> None:
    """H29 signing a record that G22's outbox carries: key_not_owner, naming both."""
    with pytest.raises(SignatureError, match=f"{H29}'s key .* not a key of {G22}") as caught:
        check(ring, value, signer_for(H29).headers(value))
    assert caught.value.kind == "key_not_owner"


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ([], "unsigned"),
        ([(HEADER_KEY_ID, b"x")], "unsigned"),
        ([(HEADER_SIGNATURE, b"\0" * 64)], "unsigned"),
        (
            [(HEADER_KEY_ID, b"nobody/20260101-00000000"), (HEADER_SIGNATURE, b"\0" * 64)],
            "unknown_key",
        ),
        ([(HEADER_KEY_ID, b"\xff\xfe"), (HEADER_SIGNATURE, b"\0" * 64)], "unknown_key"),
        ([(HEADER_KEY_ID, b"k"), (HEADER_SIGNATURE, b"\0" * 63)], "bad_signature"),
        ([(HEADER_KEY_ID, b"k"), (HEADER_SIGNATURE, None)], "bad_signature"),
    ],
)
def test_missing_or_malformed_signature_headers(
    ring: KeyRing, value: bytes, headers, kind: str
) -> None:  # type: ignore[no-untyped-def]
    """No headers, half of them, an unknown or non-ASCII key id, a short signature."""
    assert reason(ring, value, headers) == kind


def test_two_signatures_are_refused(ring: KeyRing, value: bytes) -> None:
    """A record carrying a second signature pair is not checked against either."""
    headers = signer_for(G22).headers(value)
    assert reason(ring, value, headers + headers) == "unsigned"


def test_a_key_signs_only_within_its_dates(value: bytes) -> None:
    """Before valid_from or after valid_to: expired_key; on both end days it verifies."""
    signer = signer_for(G22)
    dated = dataclasses.replace(
        signer.key, valid_from=dt.date(2026, 1, 1), valid_to=dt.date(2026, 1, 31)
    )
    ring = KeyRing([dated])
    headers = signer.headers(value)
    for day in (dt.date(2026, 1, 1), dt.date(2026, 1, 31)):
        ring.verify(value, headers, signer=G22, day=day)
    for day in (dt.date(2025, 12, 31), dt.date(2026, 2, 1)):
        with pytest.raises(SignatureError) as caught:
            ring.verify(value, headers, signer=G22, day=day)
        assert caught.value.kind == "expired_key"


def test_during_a_rollover_both_keys_verify(value: bytes) -> None:
    """Two keys of one agency valid at once: records signed with either are accepted."""
    old, new = signer_for(G22), signer_for(G22, generation=1)
    ring = KeyRing([old.key, new.key])
    assert check(ring, value, old.headers(value)) == old.key
    assert check(ring, value, new.headers(value)) == new.key
    assert ring.keys_of(G22) == sorted([old.key, new.key], key=lambda k: k.valid_from)


def test_messages_are_checked_by_their_sender_on_their_day(ring: KeyRing) -> None:
    """verify_message: a unit's document by its agency's key; the bus's notices by the bus's."""
    codec = Codec()
    doc = letter("000.00.05.G22", (H29,))
    value = codec.encode(doc)
    assert ring.verify_message(value, signer_for(G22).headers(value), doc, day=DAY).agency == G22
    notice = StatusNotice.about(
        doc, from_agency=BUS_AGENCY, to_agency=G22, status_code=StatusCode.REJECTED
    )
    assert signing_agency(notice) == BUS_AGENCY
    encoded = codec.encode(notice)
    with pytest.raises(SignatureError, match="key_not_owner"):
        ring.verify_message(encoded, signer_for(G22).headers(encoded), notice, day=DAY)


def test_keys_travel_as_json(ring: KeyRing) -> None:
    """A ring survives its JSON form; a malformed key is a clear configuration error."""
    again = KeyRing.from_json(ring.to_json())
    assert sorted(k.key_id for k in again) == sorted(k.key_id for k in ring)
    assert {k.public_key for k in again} == {k.public_key for k in ring}
    broken = {**ring.to_json()[0], "public_key": "not base64!"}
    with pytest.raises(ConfigurationError, match="not a docbus public key"):
        KeyRing.from_json([broken])
    with pytest.raises(ConfigurationError, match="appears twice"):
        KeyRing.from_json(ring.to_json() * 2)
    with pytest.raises(ConfigurationError, match="32 bytes"):
        AgencyKey("k", G22, b"short", DAY)


def test_a_record_timestamp_is_dated_in_vietnam() -> None:
    """17:30 UTC is already the next day in Vietnam (UTC+7)."""
    evening = dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC)
    assert record_day(int(evening.timestamp() * 1000)) == dt.date(2026, 3, 2)

"""Batch signatures (schemas/SIGNATURES.md): one Ed25519 signature over a hash-tree root,
each record checkable alone by its proof; tampering refuses that record only."""

from __future__ import annotations

import datetime as dt
import json
from hashlib import sha256

import pytest
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from docbus import SignatureError
from schemas import (
    HEADER_KEY_ID,
    HEADER_PROOF,
    HEADER_SIGNATURE,
    MAX_SIGNED_BATCH,
    KeyRing,
)
from tests.helpers import G22, H29
from tests.schemas.signature_vectors import VECTORS, build, vector_signer
from tests.signing import signer_for

DAY = dt.date(2026, 3, 2)
Headers = list[tuple[str, bytes]]


def values(n: int, tag: str = "") -> list[bytes]:
    return [f"record {i} {tag}".encode() * (1 + i % 3) for i in range(n)]


def ring() -> KeyRing:
    return KeyRing([signer_for(G22).key, signer_for(H29).key, signer_for(G22, generation=1).key])


def reason(keys: KeyRing, value: bytes, headers: Headers, signer: str = G22) -> str:
    with pytest.raises(SignatureError) as caught:
        keys.verify(value, headers, signer=signer, day=DAY)
    return caught.value.kind


def replaced(headers: Headers, name: str, raw: bytes) -> Headers:
    return [(n, raw if n == name else v) for n, v in headers]


def proof_of(headers: Headers) -> bytes:
    return dict(headers)[HEADER_PROOF]


# A verifier written from schemas/SIGNATURES.md alone (recursive, as RFC 9162 defines
# the tree), to show the page is enough and to check docbus's iterative one against it.
def spec_verify(public_key: bytes, value: bytes, headers: Headers) -> bool:
    fields = dict(headers)
    signature = fields["docbus-signature"]
    if "docbus-proof" not in fields:
        signed = value
    else:
        proof = fields["docbus-proof"]
        index, size = int.from_bytes(proof[:4], "big"), int.from_bytes(proof[4:8], "big")
        path = [proof[i : i + 32] for i in range(8, len(proof), 32)]
        root = spec_root(sha256(b"\0" + value).digest(), index, size, path)
        if root is None:
            return False
        signed = b"docbus-batch-v1\n" + size.to_bytes(4, "big") + root
    try:
        VerifyKey(public_key).verify(signed, signature)
    except BadSignatureError:
        return False
    return True


def spec_root(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes | None:
    """The root over ``size`` leaves when leaf ``index`` is ``leaf`` and ``path`` (bottom up)
    gives the other subtrees: the path's last hash is the top split's other side."""
    if size == 1:
        return leaf if not path else None
    if not path or not 0 <= index < size:
        return None
    split = 1
    while split * 2 < size:
        split *= 2
    if index < split:
        left = spec_root(leaf, index, split, path[:-1])
        return None if left is None else sha256(b"\1" + left + path[-1]).digest()
    right = spec_root(leaf, index - split, size - split, path[:-1])
    return None if right is None else sha256(b"\1" + path[-1] + right).digest()


def test_the_vectors_are_what_the_signer_writes() -> None:
    """schemas/signature_vectors.json is the signer's output, byte for byte."""
    assert json.loads(VECTORS.read_text(encoding="utf-8")) == build()


def test_the_vectors_verify_by_the_spec_and_by_the_key_ring() -> None:
    """Every vector record checks with the page's verifier and with docbus's."""
    raw = json.loads(VECTORS.read_text(encoding="utf-8"))
    public = bytes.fromhex(raw["public_key"])
    keys = KeyRing([vector_signer().key])
    checked = 0
    for batch in raw["batches"]:
        for record in batch:
            value = bytes.fromhex(record["value"])
            headers = [(name, bytes.fromhex(v)) for name, v in record["headers"]]
            assert spec_verify(public, value, headers)
            keys.verify(value, headers, signer=G22, day=DAY)
            checked += 1
    assert checked == 1 + 2 + 3 + 5 + 7


@pytest.mark.parametrize("size", [2, 3, 5, 8, 13, 64, MAX_SIGNED_BATCH])
def test_every_record_of_a_batch_verifies_alone(size: int) -> None:
    """Each record, with a fresh ring (no batch-mate seen), checks by its proof."""
    batch = values(size)
    signed = signer_for(G22).batch_headers(batch)
    assert len({dict(h)[HEADER_SIGNATURE] for h in signed}) == 1
    public = signer_for(G22).key.public_key
    for value, headers in zip(batch, signed, strict=True):
        ring().verify(value, headers, signer=G22, day=DAY)
        assert spec_verify(public, value, headers)


def test_a_batch_of_one_is_signed_as_a_record_alone() -> None:
    """One value: today's two headers, the signature over the value itself."""
    signer = signer_for(G22)
    (headers,) = signer.batch_headers([b"alone"])
    assert headers == signer.headers(b"alone")
    assert HEADER_PROOF not in dict(headers)


def test_more_than_a_batch_is_signed_under_several_roots() -> None:
    """300 values: three signatures (128, 128, 44), every record checks."""
    batch = values(300)
    signed = signer_for(G22).batch_headers(batch)
    signatures = [dict(h)[HEADER_SIGNATURE] for h in signed]
    assert len(set(signatures)) == 3
    keys = ring()
    for value, headers in zip(batch, signed, strict=True):
        keys.verify(value, headers, signer=G22, day=DAY)


def test_a_tampered_record_is_refused_and_its_batch_mates_are_not() -> None:
    """One changed byte in one record: that record is bad_signature, the rest still check,
    before and after it, in the same ring."""
    batch = values(16)
    signed = signer_for(G22).batch_headers(batch)
    keys = ring()
    tampered = bytearray(batch[5])
    tampered[0] ^= 1
    for i, (value, headers) in enumerate(zip(batch, signed, strict=True)):
        if i == 5:
            assert reason(keys, bytes(tampered), headers) == "bad_signature"
        keys.verify(value, headers, signer=G22, day=DAY)


def test_every_changed_byte_of_a_proof_is_refused() -> None:
    """Flip any bit of a proof (index, size or path): bad_signature every time."""
    batch = values(7)
    headers = signer_for(G22).batch_headers(batch)[3]
    keys = ring()
    keys.verify(batch[3], headers, signer=G22, day=DAY)  # the root is now remembered
    proof = proof_of(headers)
    for i in range(len(proof)):
        for bit in (0x01, 0x80):
            changed = bytearray(proof)
            changed[i] ^= bit
            bad = replaced(headers, HEADER_PROOF, bytes(changed))
            assert reason(keys, batch[3], bad) == "bad_signature", (i, bit)


def test_reordered_truncated_lengthened_and_foreign_proofs_are_refused() -> None:
    """Siblings swapped, one dropped, one added, a batch-mate's proof, another batch's."""
    batch = values(8)
    signed = signer_for(G22).batch_headers(batch)
    keys = ring()
    for value, headers in zip(batch, signed, strict=True):
        keys.verify(value, headers, signer=G22, day=DAY)
    proof = proof_of(signed[2])
    prefix, path = proof[:8], [proof[i : i + 32] for i in range(8, len(proof), 32)]
    cases = {
        "reordered": prefix + path[1] + path[0] + path[2],
        "truncated": prefix + path[0] + path[1],
        "lengthened": proof + path[0],
        "ragged": proof[:-1],
        "batch-mate's": proof_of(signed[3]),
        "index beyond the size": (9).to_bytes(4, "big") + proof[4:],
    }
    for case, bad in cases.items():
        assert reason(keys, batch[2], replaced(signed[2], HEADER_PROOF, bad)) == "bad_signature", (
            case
        )
    other = signer_for(G22).batch_headers(values(8, "other"))[2]
    assert reason(keys, batch[2], other) == "bad_signature"


def test_a_forged_signature_over_a_good_proof_is_refused() -> None:
    """The cache is keyed by the signature: another 64 bytes do not borrow a good root."""
    batch = values(4)
    signed = signer_for(G22).batch_headers(batch)
    keys = ring()
    keys.verify(batch[0], signed[0], signer=G22, day=DAY)
    forged = replaced(signed[1], HEADER_SIGNATURE, bytes(64))
    assert reason(keys, batch[1], forged) == "bad_signature"


def test_batches_of_several_keys_mixed_in_one_fetch() -> None:
    """Two agencies' batches and both keys of a rollover, interleaved: each record checks
    with its own key; a G22 proof under H29's key id is a spoofed sender."""
    keys = ring()
    mixed = []
    for signer, tag in [
        (signer_for(G22), "g22"),
        (signer_for(H29), "h29"),
        (signer_for(G22, generation=1), "g22-new"),
    ]:
        batch = values(5, tag)
        mixed += [
            (signer.agency, v, h) for v, h in zip(batch, signer.batch_headers(batch), strict=True)
        ]
    mixed = mixed[::3] + mixed[1::3] + mixed[2::3]
    for agency, value, headers in mixed:
        keys.verify(value, headers, signer=agency, day=DAY)
    agency, value, headers = next(m for m in mixed if m[0] == G22)
    spoofed = replaced(headers, HEADER_KEY_ID, signer_for(H29).key.key_id.encode())
    assert reason(keys, value, spoofed, signer=H29) == "bad_signature"
    assert reason(keys, value, spoofed, signer=G22) == "key_not_owner"


def test_a_record_exported_alone_checks_years_later() -> None:
    """Value and headers written out as JSON, read back by a new ring: still good."""
    batch = values(9)
    headers = signer_for(G22).batch_headers(batch)[6]
    exported = json.dumps({"value": batch[6].hex(), "headers": [[n, v.hex()] for n, v in headers]})
    raw = json.loads(exported)
    value = bytes.fromhex(raw["value"])
    back = [(n, bytes.fromhex(v)) for n, v in raw["headers"]]
    ring().verify(value, back, signer=G22, day=dt.date(2031, 6, 1))
    assert spec_verify(signer_for(G22).key.public_key, value, back)


def test_two_proofs_are_refused() -> None:
    """A second docbus-proof header is not checked against either."""
    batch = values(3)
    headers = signer_for(G22).batch_headers(batch)[0]
    doubled = [*headers, (HEADER_PROOF, proof_of(headers))]
    assert reason(ring(), batch[0], doubled) == "unsigned"

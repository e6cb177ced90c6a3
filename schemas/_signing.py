"""Record signatures: Ed25519 over a record's encoded bytes, or over the hash-tree root of a
batch of records, checked against the key ring.

The signature travels in record headers beside the value it covers: the key id
(``docbus-key-id``) and the 64 signature bytes (``docbus-signature``); a record signed in a
batch also carries its inclusion proof (``docbus-proof``), so it can be checked alone,
without its batch-mates (``schemas/SIGNATURES.md`` is the format). The value is the
Avro single-object encoding, which is canonical for a schema version, so the bytes the
sender signed are the bytes every reader gets; the router forwards them untouched and
the recipient verifies them again, end to end.

Keys belong to top-level agencies (a unit signs with its agency's key) and to the bus
itself (``docbus``, for the notices the router writes). Each key has validity dates; an
agency has two valid keys while it rolls one over.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from schemas._agency_code import top_level_of
from schemas._envelope import DocumentEnvelope
from schemas._errors import ConfigurationError, DirectoryError, SignatureError
from schemas._merkle import proofs_and_root, root_from_proof
from schemas._models import VN_TIME, Document, StatusNotice
from schemas._topics import BUS_AGENCY

__all__ = [
    "HEADER_KEY_ID",
    "HEADER_PROOF",
    "HEADER_SIGNATURE",
    "MAX_SIGNED_BATCH",
    "AgencyKey",
    "KeyRing",
    "RecordSigner",
    "key_id_for",
    "record_day",
    "signing_agency",
]

#: Record header naming the key that signed the record's value.
HEADER_KEY_ID = "docbus-key-id"
#: Record header holding the 64-byte Ed25519 signature of the record's value.
HEADER_SIGNATURE = "docbus-signature"
#: Record header of a record signed in a batch: its index, the batch's size, its path.
HEADER_PROOF = "docbus-proof"
#: Records a signer puts under one root: the signature's cost is shared 128 ways (under
#: 0.5 µs of the 57 µs check a record) while a proof stays at most 7 hashes (232 bytes).
MAX_SIGNED_BATCH = 128
#: The domain of a batch signature: what is signed is this, the size, then the root.
BATCH_DOMAIN = b"docbus-batch-v1\n"
_PROOF_PREFIX = struct.Struct(">II")  # leaf index, tree size
_HASH_BYTES = 32
_MAX_TREE_SIZE = 1 << 16  # a proof of at most 16 hashes
_SIGNATURE_BYTES = 64
_PUBLIC_KEY_BYTES = 32
#: Distinct batch signatures a key ring remembers having checked.
_VERIFIED_ROOTS = 4096


def key_id_for(agency: str, public_key: bytes, valid_from: dt.date) -> str:
    """A readable, unique key id: ``<agency>/<yyyymmdd>-<first 8 hex of SHA-256(key)>``."""
    digest = hashlib.sha256(public_key).hexdigest()[:8]
    return f"{agency}/{valid_from:%Y%m%d}-{digest}"


def record_day(timestamp_ms: int) -> dt.date:
    """The day in Vietnam of a record timestamp (ms since the epoch): a key must be valid then."""
    return dt.datetime.fromtimestamp(timestamp_ms / 1000, VN_TIME).date()


def signing_agency(message: Document | DocumentEnvelope | StatusNotice) -> str:
    """Whose key must sign ``message``: its sender's top-level agency, or the bus itself."""
    code = message.from_agency if isinstance(message, StatusNotice) else message.sender
    if code == BUS_AGENCY:
        return BUS_AGENCY
    try:
        return top_level_of(code)
    except DirectoryError as exc:
        raise SignatureError("key_not_owner", f"sender {code!r} is not an agency code") from exc


@dataclass(frozen=True, slots=True)
class AgencyKey:
    """An agency's public key with the days it may sign on (``valid_to`` inclusive)."""

    key_id: str
    agency: str
    public_key: bytes
    valid_from: dt.date
    valid_to: dt.date | None = None

    def __post_init__(self) -> None:
        if len(self.public_key) != _PUBLIC_KEY_BYTES:
            raise ConfigurationError(
                f"key {self.key_id}: an Ed25519 public key has 32 bytes, not {len(self.public_key)}"
            )
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ConfigurationError(
                f"key {self.key_id}: valid_to {self.valid_to} is before valid_from "
                f"{self.valid_from}"
            )

    def valid_on(self, day: dt.date) -> bool:
        """Whether the key may sign on ``day``."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def to_json(self) -> dict[str, Any]:
        """The key as the directory stores it (public key in base64)."""
        return {
            "key_id": self.key_id,
            "agency": self.agency,
            "public_key": base64.b64encode(self.public_key).decode(),
            "valid_from": self.valid_from.isoformat(),
            "valid_to": None if self.valid_to is None else self.valid_to.isoformat(),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> AgencyKey:
        """A key from :meth:`to_json`'s form; ConfigurationError when it is not one."""
        try:
            valid_to = raw.get("valid_to")
            return cls(
                key_id=str(raw["key_id"]),
                agency=str(raw["agency"]),
                public_key=base64.b64decode(raw["public_key"], validate=True),
                valid_from=dt.date.fromisoformat(raw["valid_from"]),
                valid_to=None if valid_to is None else dt.date.fromisoformat(valid_to),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"not a docbus public key: {exc}") from exc


class KeyRing:
    """Every agency's public keys, by key id: verifies record signatures."""

    def __init__(self, keys: Iterable[AgencyKey] = ()) -> None:
        self._keys: dict[str, AgencyKey] = {}
        for key in keys:
            if key.key_id in self._keys:
                raise ConfigurationError(f"key id {key.key_id} appears twice")
            self._keys[key.key_id] = key
        self._verifiers: dict[str, VerifyKey] = {}
        #: batch signature -> (key id, signed message) it was found good for
        self._verified_roots: dict[bytes, tuple[str, bytes]] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[AgencyKey]:
        return iter(self._keys.values())

    def get(self, key_id: str) -> AgencyKey | None:
        """The key of ``key_id``, if the ring has it."""
        return self._keys.get(key_id)

    def keys_of(self, agency: str) -> list[AgencyKey]:
        """``agency``'s keys, oldest first (by first day, then by last day)."""
        return sorted(
            (k for k in self._keys.values() if k.agency == agency),
            key=lambda k: (k.valid_from, k.valid_to or dt.date.max),
        )

    def verify(
        self, value: bytes, headers: Sequence[tuple[str, bytes]], *, signer: str, day: dt.date
    ) -> AgencyKey:
        """Check that ``signer`` signed ``value`` with a key valid on ``day``; the key used.

        A record signed in a batch is checked by its proof up to the signed root; each
        distinct batch signature is checked once (the ring remembers the last 4096).
        Raises :class:`SignatureError` whose ``kind`` says what failed: ``unsigned``,
        ``unknown_key``, ``key_not_owner`` (another agency's key: a spoofed sender),
        ``expired_key`` or ``bad_signature`` (a changed byte, a forged signature, a proof
        that does not hold).
        """
        key_id, signature, proof = _signature_headers(headers)
        key = self._keys.get(key_id)
        if key is None:
            raise SignatureError("unknown_key", f"no key {key_id!r} in the directory")
        if key.agency != signer:
            raise SignatureError(
                "key_not_owner", f"signed with {key.agency}'s key {key_id}, not a key of {signer}"
            )
        if not key.valid_on(day):
            until = "" if key.valid_to is None else f" to {key.valid_to}"
            raise SignatureError(
                "expired_key", f"key {key_id} is valid from {key.valid_from}{until}, not on {day}"
            )
        if proof is None:
            self._check(key, value, signature)
            return key
        signed = batch_message(value, proof)
        if self._verified_roots.get(signature) != (key_id, signed):
            self._check(key, signed, signature)
            if len(self._verified_roots) >= _VERIFIED_ROOTS:
                del self._verified_roots[next(iter(self._verified_roots))]  # the oldest
            self._verified_roots[signature] = (key_id, signed)
        return key

    def _check(self, key: AgencyKey, signed: bytes, signature: bytes) -> None:
        try:
            self._verifier(key).verify(signed, signature)
        except BadSignatureError as exc:
            raise SignatureError(
                "bad_signature", f"signature by {key.key_id} does not match the record's bytes"
            ) from exc

    def verify_message(
        self,
        value: bytes,
        headers: Sequence[tuple[str, bytes]],
        message: Document | DocumentEnvelope | StatusNotice,
        *,
        day: dt.date,
    ) -> AgencyKey:
        """:meth:`verify` for a decoded ``message``, by its sender (the bus for its own)."""
        return self.verify(value, headers, signer=signing_agency(message), day=day)

    def _verifier(self, key: AgencyKey) -> VerifyKey:
        """libsodium's check (PyNaCl): 89 µs a record here against 160 µs with OpenSSL's
        (``python benchmarks/signatures.py``, BENCHMARKS.md "Signatures")."""
        verifier = self._verifiers.get(key.key_id)
        if verifier is None:
            verifier = VerifyKey(key.public_key)
            self._verifiers[key.key_id] = verifier
        return verifier

    def to_json(self) -> list[dict[str, Any]]:
        """Every key, as the directory stores them."""
        return [k.to_json() for k in sorted(self._keys.values(), key=lambda k: k.key_id)]

    @classmethod
    def from_json(cls, raw: Iterable[Mapping[str, Any]]) -> KeyRing:
        """A ring from :meth:`to_json`'s form."""
        return cls(AgencyKey.from_json(item) for item in raw)


class RecordSigner:
    """Signs record values with one agency key: the headers to send beside the value."""

    def __init__(self, key: AgencyKey, private_key: Ed25519PrivateKey) -> None:
        public = private_key.public_key().public_bytes_raw()
        if public != key.public_key:
            raise ConfigurationError(f"the private key given is not the one of {key.key_id}")
        self.key = key
        self._private = SigningKey(private_key.private_bytes_raw())  # libsodium signs faster
        self._key_id = key.key_id.encode()

    @property
    def agency(self) -> str:
        """The agency that signs."""
        return self.key.agency

    def headers(self, value: bytes) -> list[tuple[str, bytes]]:
        """The signature headers of ``value``."""
        signature = self._private.sign(value).signature
        return [(HEADER_KEY_ID, self._key_id), (HEADER_SIGNATURE, signature)]

    def batch_headers(self, values: Sequence[bytes]) -> list[list[tuple[str, bytes]]]:
        """The signature headers of each of ``values``: one signature per tree of up to
        :data:`MAX_SIGNED_BATCH` records, each record with its proof; a lone record is
        signed as by :meth:`headers`."""
        if len(values) == 1:
            return [self.headers(values[0])]
        signed: list[list[tuple[str, bytes]]] = []
        for start in range(0, len(values), MAX_SIGNED_BATCH):
            chunk = values[start : start + MAX_SIGNED_BATCH]
            paths, root = proofs_and_root(chunk)
            size = len(chunk)
            signature = self._private.sign(_signed_root(size, root)).signature
            signed += [
                [
                    (HEADER_KEY_ID, self._key_id),
                    (HEADER_SIGNATURE, signature),
                    (HEADER_PROOF, _PROOF_PREFIX.pack(index, size) + b"".join(path)),
                ]
                for index, path in enumerate(paths)
            ]
        return signed


def batch_message(value: bytes, proof: bytes) -> bytes:
    """What a batch signature signs, as ``value`` and its ``proof`` header say; SignatureError
    (``bad_signature``) when the proof is malformed or cannot hold for its index and size."""
    if len(proof) < _PROOF_PREFIX.size or (len(proof) - _PROOF_PREFIX.size) % _HASH_BYTES:
        raise SignatureError(
            "bad_signature", f"proof of {len(proof)} bytes: not 8 + a multiple of 32"
        )
    index, size = _PROOF_PREFIX.unpack_from(proof)
    if size > _MAX_TREE_SIZE:
        raise SignatureError("bad_signature", f"proof for a batch of {size}, over {_MAX_TREE_SIZE}")
    path = [
        proof[at : at + _HASH_BYTES] for at in range(_PROOF_PREFIX.size, len(proof), _HASH_BYTES)
    ]
    root = root_from_proof(value, index, size, path)
    if root is None:
        raise SignatureError(
            "bad_signature",
            f"proof of {len(path)} hashes cannot place record {index} in a batch of {size}",
        )
    return _signed_root(size, root)


def _signed_root(size: int, root: bytes) -> bytes:
    return BATCH_DOMAIN + size.to_bytes(4, "big") + root


def _signature_headers(headers: Sequence[tuple[str, bytes]]) -> tuple[str, bytes, bytes | None]:
    """Key id, signature and proof (None: the record is signed alone) from ``headers``."""
    key_ids = [v or b"" for k, v in headers if k == HEADER_KEY_ID]
    signatures = [v or b"" for k, v in headers if k == HEADER_SIGNATURE]
    proofs = [v or b"" for k, v in headers if k == HEADER_PROOF]
    if not key_ids or not signatures:
        raise SignatureError("unsigned", "record has no docbus-key-id and docbus-signature headers")
    if len(key_ids) > 1 or len(signatures) > 1 or len(proofs) > 1:
        raise SignatureError("unsigned", "record has more than one signature header of a kind")
    if len(signatures[0]) != _SIGNATURE_BYTES:
        raise SignatureError(
            "bad_signature", f"signature of {len(signatures[0])} bytes, not {_SIGNATURE_BYTES}"
        )
    try:
        key_id = key_ids[0].decode("ascii")
    except UnicodeDecodeError as exc:
        raise SignatureError("unknown_key", "key id is not ASCII") from exc
    return key_id, signatures[0], proofs[0] if proofs else None

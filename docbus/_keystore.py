"""Signing keys on disk: each agency's Ed25519 private keys and the public list the directory takes.

Layout of a keystore folder (``Settings.keys_root``), flat so that it mounts as a
Kubernetes Secret as it is::

    public-keys.json          every public key with its validity dates (published in the directory)
    <key id>.pem              one PKCS#8 private key per key, readable by its owner only

A key id is ``<agency>/<yyyymmdd>-<8 hex>``; ``/`` becomes ``_`` in file names. An agency
rolls its key over with :meth:`Keystore.rotate`: the new key starts on a given day (by
default tomorrow, so that the directory can be published before it is used) and the old
one stays valid for an overlap after that, so that records signed just before the switch
are still accepted.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from docbus._exceptions import ConfigurationError, SignatureError
from schemas import (
    AgencyKey,
    Document,
    DocumentEnvelope,
    KeyRing,
    RecordSigner,
    StatusNotice,
    key_id_for,
    record_day,
    today_vn,
)

__all__ = ["DEFAULT_OVERLAP_DAYS", "DEFAULT_VALID_DAYS", "Keystore", "Signers", "TrustedKeys"]

#: How long a new key is valid for, in days.
DEFAULT_VALID_DAYS = 730
#: How long an old key stays valid after its successor starts, in days.
DEFAULT_OVERLAP_DAYS = 7


class Keystore:
    """The signing keys in one folder: generate, rotate, sign, and the public key ring."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.public_path = root / "public-keys.json"

    def keyring(self) -> KeyRing:
        """Every public key in the store (empty when it has none)."""
        if not self.public_path.exists():
            return KeyRing()
        try:
            raw = json.loads(self.public_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ConfigurationError(f"{self.public_path} is not JSON: {exc}") from exc
        return KeyRing.from_json(raw)

    def generate(
        self,
        agency: str,
        *,
        valid_from: dt.date | None = None,
        valid_days: int = DEFAULT_VALID_DAYS,
    ) -> AgencyKey:
        """A first key for ``agency``; refused if it has a key still valid (use :meth:`rotate`)."""
        start = valid_from if valid_from is not None else today_vn()
        ring = self.keyring()
        current = [k for k in ring.keys_of(agency) if k.valid_to is None or k.valid_to >= start]
        if current:
            raise ConfigurationError(
                f"{agency} already has key {current[-1].key_id}: use `docbus keys rotate`"
            )
        key, private = _new_key(agency, start, valid_days)
        self._save(ring, [(key, private)], replaced=[])
        return key

    def rotate(
        self,
        agency: str,
        *,
        starts: dt.date | None = None,
        overlap_days: int = DEFAULT_OVERLAP_DAYS,
        valid_days: int = DEFAULT_VALID_DAYS,
    ) -> AgencyKey:
        """A new key for ``agency`` from ``starts`` (tomorrow); older keys end ``overlap_days`` later."""
        if overlap_days < 0:
            raise ConfigurationError(f"overlap_days must not be negative, got {overlap_days}")
        start = starts if starts is not None else today_vn() + dt.timedelta(days=1)
        ring = self.keyring()
        old = ring.keys_of(agency)
        if not old:
            raise ConfigurationError(f"{agency} has no key to rotate: use `docbus keys generate`")
        end = start + dt.timedelta(days=overlap_days)
        replaced = [
            AgencyKey(k.key_id, k.agency, k.public_key, k.valid_from, _earlier(k.valid_to, end))
            for k in old
            if k.valid_to is None or k.valid_to > end
        ]
        key, private = _new_key(agency, start, valid_days)
        self._save(ring, [(key, private)], replaced=replaced)
        return key

    def ensure(self, agencies: Iterable[str]) -> list[AgencyKey]:
        """Generate a key for each of ``agencies`` that has none valid today; the new keys."""
        today = today_vn()
        ring = self.keyring()
        signing = {k.agency for k in ring if k.valid_on(today) and self._private_path(k).exists()}
        missing = [a for a in dict.fromkeys(agencies) if a not in signing]
        new = [_new_key(a, today, DEFAULT_VALID_DAYS) for a in missing]
        if new:
            self._save(ring, new, replaced=[])
        return [key for key, _ in new]

    def signer(self, agency: str, day: dt.date | None = None) -> RecordSigner:
        """A signer with ``agency``'s newest key valid on ``day`` (today) whose private key is here."""
        on = day if day is not None else today_vn()
        for key in reversed(self.keyring().keys_of(agency)):
            path = self._private_path(key)
            if key.valid_on(on) and path.exists():
                return RecordSigner(key, _read_private(path))
        raise ConfigurationError(
            f"no signing key for {agency} valid on {on} in {self.root}: "
            f"run `docbus keys generate --agency {agency}`"
        )

    def _save(
        self,
        ring: KeyRing,
        new: list[tuple[AgencyKey, Ed25519PrivateKey]],
        *,
        replaced: list[AgencyKey],
    ) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        for key, private in new:
            _write_private(self._private_path(key), private)
        changed = {k.key_id: k for k in replaced}
        keys = [changed.get(k.key_id, k) for k in ring] + [key for key, _ in new]
        text = json.dumps(KeyRing(keys).to_json(), indent=1) + "\n"
        temporary = self.public_path.with_suffix(".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.public_path)

    def _private_path(self, key: AgencyKey) -> Path:
        return self.root / f"{key.key_id.replace('/', '_')}.pem"


class Signers:
    """Each agency's signer from one keystore, read from disk once (preloading, tests)."""

    def __init__(self, keystore: Keystore) -> None:
        self._keystore = keystore
        self._by_agency: dict[str, RecordSigner] = {}

    def __call__(self, agency: str) -> RecordSigner:
        """``agency``'s signer (its newest key valid today)."""
        signer = self._by_agency.get(agency)
        if signer is None:
            signer = self._by_agency[agency] = self._keystore.signer(agency)
        return signer


class TrustedKeys:
    """The public keys a client checks its inbox with: the keystore's list, read again when a
    record names a key it does not know (or knows as expired) and the list has changed."""

    def __init__(self, keystore: Keystore) -> None:
        self._keystore = keystore
        self._stamp: int | None = None
        self._ring: KeyRing | None = None  # read at the first record, not before

    def verify(
        self,
        value: bytes,
        headers: Sequence[tuple[str, bytes]],
        message: Document | DocumentEnvelope | StatusNotice,
        *,
        timestamp_ms: int,
    ) -> AgencyKey:
        """Check ``message``'s signature with a key valid on the day of the record's
        ``timestamp_ms`` (when the router wrote it, having checked the key that day)."""
        day = record_day(timestamp_ms)
        ring = self._ring if self._ring is not None else self._read()
        try:
            return ring.verify_message(value, headers, message, day=day)
        except SignatureError as exc:
            if exc.kind not in {"unknown_key", "expired_key"} or self._modified() == self._stamp:
                raise
        return self._read().verify_message(value, headers, message, day=day)

    def _read(self) -> KeyRing:
        self._stamp = self._modified()
        self._ring = self._keystore.keyring()
        return self._ring

    def _modified(self) -> int | None:
        try:
            return self._keystore.public_path.stat().st_mtime_ns
        except FileNotFoundError:
            return None


def _new_key(agency: str, start: dt.date, valid_days: int) -> tuple[AgencyKey, Ed25519PrivateKey]:
    if valid_days < 1:
        raise ConfigurationError(f"valid_days must be at least 1, got {valid_days}")
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    key = AgencyKey(
        key_id=key_id_for(agency, public, start),
        agency=agency,
        public_key=public,
        valid_from=start,
        valid_to=start + dt.timedelta(days=valid_days - 1),
    )
    return key, private


def _earlier(first: dt.date | None, second: dt.date) -> dt.date:
    return second if first is None else min(first, second)


def _write_private(path: Path, private: Ed25519PrivateKey) -> None:
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)


def _read_private(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{path} is not an Ed25519 private key")
    return key

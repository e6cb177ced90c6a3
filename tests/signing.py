"""Deterministic signing keys for tests that route records without a broker or a keystore."""

from __future__ import annotations

import datetime as dt
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from docbus.directory import Directory
from schemas import BUS_AGENCY, AgencyKey, KeyRing, RecordSigner, key_id_for

VALID_FROM = dt.date(2019, 1, 1)


def signer_for(agency: str, *, generation: int = 0) -> RecordSigner:
    """``agency``'s test key (the same bytes every run), valid from 2019 with no end."""
    seed = hashlib.sha256(f"docbus-test-key:{agency}:{generation}".encode()).digest()
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key().public_bytes_raw()
    key = AgencyKey(key_id_for(agency, public, VALID_FROM), agency, public, VALID_FROM)
    return RecordSigner(key, private)


def test_keyring() -> KeyRing:
    """The test keys of the bus and of every agency the directory has ever had."""
    return KeyRing(signer_for(a).key for a in [BUS_AGENCY, *Directory.load().codes()])


test_keyring.__test__ = False  # type: ignore[attr-defined]  # not a test, despite its name

"""The test vectors of ``schemas/SIGNATURES.md``: ``python -m tests.schemas.signature_vectors``
writes them to ``schemas/signature_vectors.json``."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas import AgencyKey, RecordSigner, key_id_for

VECTORS = Path(__file__).parents[2] / "schemas" / "signature_vectors.json"
SIZES = (1, 2, 3, 5, 7)
AGENCY = "000.00.00.G22"


def vector_signer() -> RecordSigner:
    """The vectors' key: its seed is SHA-256 of ``docbus-signature-vectors``."""
    seed = hashlib.sha256(b"docbus-signature-vectors").digest()
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key().public_bytes_raw()
    valid_from = dt.date(2026, 1, 1)
    return RecordSigner(
        AgencyKey(key_id_for(AGENCY, public, valid_from), AGENCY, public, valid_from), private
    )


def build() -> dict[str, Any]:
    """The vectors, as the file holds them."""
    signer = vector_signer()
    seed = hashlib.sha256(b"docbus-signature-vectors").hexdigest()
    batches = []
    for size in SIZES:
        values = [f"docbus vector record {i} of {size}".encode() for i in range(size)]
        batches.append(
            [
                {"value": value.hex(), "headers": [[name, raw.hex()] for name, raw in headers]}
                for value, headers in zip(values, signer.batch_headers(values), strict=True)
            ]
        )
    return {
        "about": "docbus record signatures, schemas/SIGNATURES.md; bytes in hex",
        "private_key_seed": seed,
        "public_key": signer.key.public_key.hex(),
        "key_id": signer.key.key_id,
        "batches": batches,
    }


if __name__ == "__main__":
    VECTORS.write_text(json.dumps(build(), indent=1) + "\n", encoding="utf-8")

"""Benchmark: what an Ed25519 signature and its check cost, with OpenSSL and with libsodium,
and what a record costs signed and checked alone or in a batch through docbus's own
signer and key ring (``schemas/SIGNATURES.md``).

Prints one JSON object. Usage: python benchmarks/signatures.py [--calls N] [--repeat R]
Signs and verifies the encoded bytes of workload documents, as senders, the router and
receivers do: ``cryptography`` (OpenSSL) against PyNaCl (libsodium), which docbus signs
and verifies with (``schemas._signing``). Reports the median of R rounds per operation,
in µs per record.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import statistics
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.signing import SigningKey, VerifyKey

from docbus.directory import Directory
from producers.simulation import DocumentMix
from schemas import MAX_SIGNED_BATCH, AgencyKey, Codec, KeyRing, RecordSigner, key_id_for


def _microseconds(operation: Callable[[bytes], object], values: list[bytes], calls: int) -> float:
    """Mean µs of ``operation`` over ``calls`` values taken in turn."""
    cycle = itertools.islice(itertools.cycle(values), calls)
    started = time.perf_counter()
    for value in cycle:
        operation(value)
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    codec = Codec()
    values = [codec.encode(d) for d in DocumentMix(Directory.load(), seed=3).documents(500)]
    openssl = Ed25519PrivateKey.generate()
    openssl_public = openssl.public_key()
    sodium = SigningKey(openssl.private_bytes_raw())
    sodium_public = VerifyKey(openssl_public.public_bytes_raw())
    signatures = {v: openssl.sign(v) for v in values}
    assert all(sodium.sign(v).signature == s for v, s in signatures.items())  # deterministic

    operations: dict[str, Callable[[bytes], object]] = {
        "openssl_sign": openssl.sign,
        "openssl_verify": lambda v: openssl_public.verify(signatures[v], v),
        "sodium_sign": sodium.sign,
        "sodium_verify": lambda v: sodium_public.verify(v, signatures[v]),
    }
    rounds = {
        name: [_microseconds(op, values, args.calls) for _ in range(args.repeat)]
        for name, op in operations.items()
    }
    rounds |= _docbus_rounds(openssl, values, args.calls, args.repeat)
    print(
        json.dumps(
            {
                "benchmark": "signatures",
                "calls": args.calls,
                "mean_value_bytes": round(sum(map(len, values)) / len(values)),
                **{f"{name}_us": round(statistics.median(r), 1) for name, r in rounds.items()},
                "rounds_us": {name: [round(x, 1) for x in r] for name, r in rounds.items()},
            }
        )
    )


def _docbus_rounds(
    private: Ed25519PrivateKey, values: list[bytes], calls: int, repeat: int
) -> dict[str, list[float]]:
    """µs per record through RecordSigner and KeyRing: alone, and in batches of 128 with a
    new ring per round (each root checked once, as a receiver sees a batch)."""
    day = dt.date(2026, 1, 1)
    public = private.public_key().public_bytes_raw()
    agency = "000.00.00.G22"
    signer = RecordSigner(AgencyKey(key_id_for(agency, public, day), agency, public, day), private)
    batches = [values[i : i + MAX_SIGNED_BATCH] for i in range(0, len(values), MAX_SIGNED_BATCH)]
    alone = [(v, signer.headers(v)) for v in values]
    batched = [
        (v, h) for batch in batches for v, h in zip(batch, signer.batch_headers(batch), strict=True)
    ]

    def per_record(work: Callable[[], object], records: int) -> float:
        started = time.perf_counter()
        for _ in range(max(1, calls // records)):
            work()
        return (time.perf_counter() - started) / (max(1, calls // records) * records) * 1e6

    def check_all(signed: list[tuple[bytes, list[tuple[str, bytes]]]]) -> None:
        ring = KeyRing([signer.key])
        for value, headers in signed:
            ring.verify(value, headers, signer=agency, day=day)

    work: dict[str, Callable[[], object]] = {
        "docbus_sign_alone": lambda: [signer.headers(v) for v in values],
        "docbus_sign_batch": lambda: [signer.batch_headers(b) for b in batches],
        "docbus_verify_alone": lambda: check_all(alone),
        "docbus_verify_batch": lambda: check_all(batched),
    }
    return {
        name: [per_record(run, len(values)) for _ in range(repeat)] for name, run in work.items()
    }


if __name__ == "__main__":
    main()

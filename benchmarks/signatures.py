"""Benchmark: what an Ed25519 signature and its check cost, with OpenSSL and with libsodium.

Prints one JSON object. Usage: python benchmarks/signatures.py [--calls N] [--repeat R]
Signs and verifies the encoded bytes of workload documents, as senders, the router and
receivers do: ``cryptography`` (OpenSSL) against PyNaCl (libsodium), which docbus signs
and verifies with (``schemas._signing``). Reports the median of R rounds per operation.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.signing import SigningKey, VerifyKey

from docbus.directory import Directory
from producers.simulation import DocumentMix
from schemas import Codec


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


if __name__ == "__main__":
    main()

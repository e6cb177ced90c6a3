"""Fuzz run of the decoder: mutated records in, nothing but the codec's own error out.

Prints one JSON object. Usage:
    python benchmarks/fuzz_decoder.py [--iterations N] [--seed S]

The corpus is every schema version's encoding of documents from the workload mix and of
status notices. Each iteration takes one record and applies one to three mutations (bit
flips, random bytes, insertions, deletions, truncation, duplicated slices, a huge or
negative varint, splices of two records), then decodes it. An outcome is ``decoded``
(the mutation still spelled a valid record), a :class:`CodecError` kind (or
``invalid_document``/``invalid_notice``: a record whose code-list value the mutation
moved out of its list), or ``escaped``: any other exception, which is a bug. The run fails
(exit 1) if anything escaped.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import time
import traceback
from collections.abc import Callable

from docbus import CodecError, ValidationError
from docbus.directory import Directory
from producers.simulation import DocumentMix
from schemas import DOCUMENT_SCHEMA, NOTICE_SCHEMA, Codec, StatusNotice

Mutation = Callable[[random.Random, bytes, list[bytes]], bytes]


def _varint(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z > 0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def _flip(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1 :]


def _set_byte(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]


def _insert(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.randbytes(rng.randrange(1, 16)) + data[at:]


def _delete(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randrange(1, 16) :]


def _truncate(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _duplicate(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    if not data:
        return data
    start = rng.randrange(len(data))
    piece = data[start : start + rng.randrange(1, 64)]
    at = rng.randrange(len(data) + 1)
    return data[:at] + piece + data[at:]


def _huge_varint(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    at = rng.randrange(10, max(11, len(data)))
    value = rng.choice([2**62, 2**31, -(2**62), -1, -5, 2**40, rng.randrange(-(2**20), 2**20)])
    return data[:at] + _varint(value) + data[at + 1 :]


def _splice(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    other = rng.choice(corpus)
    return data[: rng.randrange(len(data) + 1)] + other[rng.randrange(len(other) + 1) :]


MUTATIONS: dict[str, Mutation] = {
    "flip": _flip,
    "set_byte": _set_byte,
    "insert": _insert,
    "delete": _delete,
    "truncate": _truncate,
    "duplicate": _duplicate,
    "huge_varint": _huge_varint,
    "splice": _splice,
}


def corpus(codec: Codec, seed: int, documents: int = 40) -> list[bytes]:
    """Valid records: documents and notices in every schema version kept."""
    docs = list(DocumentMix(Directory.load(), seed=seed).documents(documents))
    records = [
        codec.encode(d, version=v.version)
        for d in docs
        for v in codec.registry.versions(DOCUMENT_SCHEMA)
    ]
    for doc in docs[:10]:
        notice = StatusNotice.about(
            doc, from_agency=doc.recipients[0], to_agency=doc.sender, status_code="03"
        )
        records += [
            codec.encode(notice, version=v.version) for v in codec.registry.versions(NOTICE_SCHEMA)
        ]
    return records


def fuzz(iterations: int, seed: int) -> dict[str, object]:
    """Decode ``iterations`` mutated records; what became of them."""
    rng = random.Random(seed)
    codec = Codec()
    seeds = corpus(codec, seed)
    outcomes: collections.Counter[str] = collections.Counter()
    escaped: list[dict[str, str]] = []
    started = time.perf_counter()
    for _ in range(iterations):
        data = rng.choice(seeds)
        for name in rng.sample(sorted(MUTATIONS), rng.randint(1, 3)):
            data = MUTATIONS[name](rng, data, seeds)
        try:
            codec.decode(data)
        except (CodecError, ValidationError) as exc:  # a record outside a code list: invalid_*
            outcomes[exc.kind] += 1
        except Exception as exc:  # the bug this run looks for
            outcomes["escaped"] += 1
            if len(escaped) < 10:
                escaped.append(
                    {"input": data.hex(), "error": "".join(traceback.format_exception_only(exc))}
                )
        else:
            outcomes["decoded"] += 1
    elapsed = time.perf_counter() - started
    return {
        "benchmark": "fuzz_decoder",
        "iterations": iterations,
        "seed": seed,
        "corpus": len(seeds),
        "outcomes": dict(sorted(outcomes.items())),
        "escaped": outcomes["escaped"],
        "escaped_examples": escaped,
        "elapsed_s": round(elapsed, 2),
        "per_s": round(iterations / elapsed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = fuzz(args.iterations, args.seed)
    print(json.dumps(result))
    sys.exit(1 if result["escaped"] else 0)


if __name__ == "__main__":
    main()

"""Benchmark: encoding and decoding a document, for each Document schema version.

Prints one JSON object. Usage: python benchmarks/codec.py [--documents N] [--seed S]
Documents come from the workload mix (model conversion included, as receivers pay it);
``envelope_us`` is what the router pays: the routing envelope alone (v4 on), or a whole
decode for older versions.
"""

from __future__ import annotations

import argparse
import json
import time

from docbus.directory import Directory
from producers.simulation import DocumentMix
from schemas import DOCUMENT_SCHEMA, Codec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    codec = Codec()
    docs = list(DocumentMix(Directory.load(), seed=args.seed).documents(args.documents))
    result: dict[str, object] = {"benchmark": "codec", "documents": len(docs)}
    for version in codec.registry.versions(DOCUMENT_SCHEMA):
        started = time.perf_counter()
        encoded = [codec.encode(d, version=version.version) for d in docs]
        encode_s = time.perf_counter() - started
        started = time.perf_counter()
        for data in encoded:
            codec.decode(data)
        decode_s = time.perf_counter() - started
        started = time.perf_counter()
        for data in encoded:
            codec.decode_envelope(data)
        envelope_s = time.perf_counter() - started
        result[f"v{version.version}"] = {
            "encode_us": round(encode_s / len(docs) * 1e6, 2),
            "decode_us": round(decode_s / len(docs) * 1e6, 2),
            "envelope_us": round(envelope_s / len(docs) * 1e6, 2),
            "mean_bytes": round(sum(map(len, encoded)) / len(encoded)),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

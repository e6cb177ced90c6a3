"""Benchmark: a receiver's look-up of a fetched batch in its dedupe store, by store size.

Prints one JSON object. Usage:
    python benchmarks/dedupe_lookup.py [--sizes 1000,50000,200000] [--batch 100] [--repeat 20]

For each size a SQLite dedupe store (what a receiver keeps by default) is filled with
that many handled deliveries; then ``handled()`` is asked about a batch of ``--batch``
keys, half of them kept and half new (a batch the receiver just fetched), ``--repeat``
times. A look-up that follows the primary key costs the same at every size.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from consumers import SqliteDedupeStore

_RECIPIENT = "000.00.00.H29"


def _key(n: int) -> tuple[str, str]:
    return (f"000.00.00.G22,2024/03/{n % 28 + 1:02d},{n}/VPCP-KSTT", _RECIPIENT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,50000,200000")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    result: dict[str, object] = {"benchmark": "dedupe_lookup", "batch": args.batch}
    with tempfile.TemporaryDirectory(prefix="docbus-dedupe-") as state:
        for size in (int(s) for s in args.sizes.split(",")):
            store = SqliteDedupeStore(Path(state) / f"dedupe-{size}.sqlite")
            store.remember({}, [_key(n) for n in range(size)])
            asked = [_key(n) for n in range(size - args.batch // 2, size + args.batch // 2)]
            assert len(store.handled(asked)) == args.batch // 2
            started = time.perf_counter()
            for _ in range(args.repeat):
                store.handled(asked)
            seconds = (time.perf_counter() - started) / args.repeat
            result[f"ms_per_batch_at_{size}"] = round(seconds * 1000, 3)
            store.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Benchmark: reading back document digests for a batch (the reused-id check beyond the cache).

Prints one JSON object. Usage:
    python benchmarks/store_digests.py [--stored N] [--batch B] [--repeat R]

A SQLite tracking store is filled with N documents; then the digests of B ids it does
not have (a batch of new documents, the usual case) and of B it has are read, R times.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from pathlib import Path

from router.tracking import open_store
from router.tracking._store import WriteBatch

_WRITE_AT_ONCE = 5000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stored", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="docbus-digests-") as state:
        store = open_store(dsn=None, state_dir=Path(state))
        stored = [str(uuid.uuid4()) for _ in range(args.stored)]
        for start in range(0, len(stored), _WRITE_AT_ONCE):
            rows = [
                (i, "000.00.00.G22", "1/X", "s", 0, 0, 0, None, i[:16].encode())
                for i in stored[start : start + _WRITE_AT_ONCE]
            ]
            store.write(WriteBatch(rows))
            store.commit()
        result: dict[str, object] = {"benchmark": "store_digests", "stored": args.stored}
        for label, ids in (
            ("unknown", [str(uuid.uuid4()) for _ in range(args.batch)]),
            ("known", stored[: args.batch]),
        ):
            started = time.perf_counter()
            for _ in range(args.repeat):
                store.digests(ids)
            seconds = (time.perf_counter() - started) / args.repeat
            result[f"{label}_ms_per_batch"] = round(seconds * 1000, 1)
            result[f"{label}_us_per_id"] = round(seconds / args.batch * 1e6, 2)
        store.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Benchmark: resolving a recipient over the full directory (about 100,000 units).

Prints one JSON object. Usage: python benchmarks/directory_resolve.py [--lookups N] [--seed S]
The codes looked up are drawn at random from every unit and agency, half dated before and
half after the 2025 reorganisation, so closed agencies' successors are followed too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import time

from docbus.directory import Directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lookups", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    directory = Directory.load()
    units = directory.units
    build_s = time.perf_counter() - started

    rng = random.Random(args.seed)
    codes = [*units, *directory.codes()]
    days = [dt.date(2024, 11, 4), dt.date(2025, 8, 4)]
    queries = [(rng.choice(codes), rng.choice(days)) for _ in range(args.lookups)]

    redirected = 0
    started = time.perf_counter()
    for code, day in queries:
        if directory.resolve(code, day).redirected_from is not None:
            redirected += 1
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "benchmark": "directory_resolve",
                "directory_version": directory.version,
                "units": len(units),
                "agencies": len(directory),
                "lookups": args.lookups,
                "redirected_share": round(redirected / args.lookups, 3),
                "mean_us": round(elapsed / args.lookups * 1e6, 3),
                "lookups_per_s": round(args.lookups / elapsed),
                "directory_build_s": round(build_s, 3),
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()

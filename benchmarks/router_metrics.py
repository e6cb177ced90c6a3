"""Benchmark: what the router's Prometheus metrics cost per routed record.

Prints one JSON object. Usage: python benchmarks/router_metrics.py [--records N]
Runs RouterMetrics.record and .settled over a realistic mix (documents to one to three
recipients, two notices a delivery, one dead letter in a hundred) in batches of 5,000,
as the router does, and the cost of one scrape of the resulting registry.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import platform
import random
import time

from prometheus_client import generate_latest

from router import Routed, RouterMetrics

BATCH = 5_000


def _mix(count: int, rng: random.Random, agencies: list[str]) -> list[Routed]:
    sent = dt.datetime.now(dt.UTC)
    out: list[Routed] = []
    while len(out) < count:
        roll = rng.random()
        if roll < 0.01:
            out.append(Routed("dead_letter", [], reason="bad_marker"))
        elif roll < 0.35:
            inboxes = tuple(rng.sample(agencies, rng.choice((1, 1, 2, 3))))
            out.append(
                Routed(
                    "document",
                    [],
                    sender=rng.choice(agencies),
                    inboxes=inboxes,
                    priority=rng.choice((0, 0, 0, 0, 1, 2, 3)),
                    document_type=1,
                    sent_at=sent,
                )
            )
        else:
            out.append(
                Routed(
                    "notice",
                    [],
                    inboxes=(rng.choice(agencies),),
                    status_code=rng.choice(("01", "03")),
                    sent_at=sent,
                )
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    agencies = [f"000.00.00.H{n:02d}" for n in range(1, 64)] + [
        f"000.00.00.G{n:02d}" for n in range(1, 25)
    ]
    records = _mix(args.records, random.Random(args.seed), agencies)
    metrics = RouterMetrics()
    started = time.perf_counter()
    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]
        fetched_at = time.time()
        metrics.in_flight.inc(len(batch))
        for routed in batch:
            metrics.record(routed)
        metrics.settled(batch, fetched_at=fetched_at)
    elapsed = time.perf_counter() - started

    scrapes = 20
    scrape_started = time.perf_counter()
    for _ in range(scrapes):
        body = generate_latest(metrics.registry)
    scrape_s = (time.perf_counter() - scrape_started) / scrapes

    print(
        json.dumps(
            {
                "benchmark": "router_metrics",
                "records": len(records),
                "us_per_record": round(elapsed / len(records) * 1e6, 2),
                "scrape_ms": round(scrape_s * 1e3, 2),
                "scrape_bytes": len(body),
                "series": sum(len(f.samples) for f in metrics.registry.collect()),
                "python": platform.python_version(),
                "prometheus_client": importlib.metadata.version("prometheus-client"),
            }
        )
    )


if __name__ == "__main__":
    main()

"""Benchmark: a small replay on an embedded broker that already holds many other topics.

Prints one JSON object. Usage:
    python benchmarks/broker_topic_count.py [--other-topics N] [--scale F] [--segments K]

Pattern subscriptions and metadata requests list every topic the broker has, so a
broker left holding thousands of topics slows every client that joins: this is why the
test suite deletes each test's topics when the test is done.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from docbus import Keystore, Settings, create_missing_topics
from docbus.directory import Directory
from schemas import BUS_AGENCY
from shell import EmbeddedBroker, run_replay

_CREATE_AT_ONCE = 500


async def measure(other_topics: int, scale: float, segments: int) -> dict[str, object]:
    """Seconds a replay at ``scale`` takes beside ``other_topics`` idle topics."""
    async with EmbeddedBroker() as broker:
        with tempfile.TemporaryDirectory(prefix="docbus-topics-") as keys:
            settings = Settings(
                topic_prefix="bench", session_timeout_ms=1500, keys_dir=Path(keys)
            ).for_embedded(broker.bootstrap_servers)
            Keystore(settings.keys_root).ensure([BUS_AGENCY, *Directory.load().codes()])
            for start in range(0, other_topics, _CREATE_AT_ONCE):
                stop = min(start + _CREATE_AT_ONCE, other_topics)
                await create_missing_topics(
                    settings, [f"idle{i}.topic" for i in range(start, stop)]
                )
            started = time.monotonic()
            summary = await run_replay(
                settings, year=2024, scale=scale, seed=5, broker=broker, segments=segments
            )
            return {
                "benchmark": "broker_topic_count",
                "other_topics": other_topics,
                "documents": summary.documents,
                "lost": summary.lost,
                "duplicates_delivered": summary.duplicates_delivered,
                "elapsed_s": round(time.monotonic() - started, 1),
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--other-topics", type=int, default=4000)
    parser.add_argument("--scale", type=float, default=0.0002)
    parser.add_argument("--segments", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.other_topics, args.scale, args.segments))))


if __name__ == "__main__":  # the replay's router runs in a spawned process
    main()

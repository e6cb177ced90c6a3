"""Benchmark: the router's memory while it dead-letters a flood of bad records.

N bad records (the five kinds of ``producers/simulation/_bad_records.py``: garbage, a truncated
document, an unknown fingerprint, the bus's key in an agency's outbox, no signature),
spread over every open agency's outbox, are written in rounds of R. A router process
dead-letters each round, telling each outbox's owner, before the next is written; its
resident memory is read after each round. Prints one JSON object. Usage:

    python benchmarks/hostile_memory.py [--records N] [--round R]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import tempfile
import time
from pathlib import Path

from docbus import Keystore, Settings, produce_in_batches, scraped_total
from docbus.directory import Directory
from producers.simulation import bad_records
from router import ensure_bus_topics
from schemas import BUS_AGENCY, Codec, today_vn
from shell import EmbeddedBroker
from shell._router_process import RouterProcess

DEAD_LETTERS = ("docbus_dead_letters_total",)


async def measure(records: int, per_round: int) -> dict[str, object]:
    """The router's RSS after each round of ``per_round`` bad records, ``records`` in all."""
    directory = Directory.load()
    codec = Codec()
    owners = [a.code for a in directory.open_at(today_vn())]
    async with EmbeddedBroker() as broker:
        with tempfile.TemporaryDirectory(prefix="docbus-hostile-") as state:
            settings = Settings(home=Path(state), metrics_port=0, log_level="ERROR").for_embedded(
                broker.bootstrap_servers
            )
            Keystore(settings.keys_root).ensure([BUS_AGENCY, *directory.codes()])
            await ensure_bus_topics(settings, directory)
            samples: list[dict[str, float]] = []
            started = time.monotonic()
            async with RouterProcess(settings) as router:
                url = router.metrics_url
                assert url is not None
                rss_mib = round(router.rss_bytes() / 2**20, 1)
                samples.append({"dead_lettered": 0, "router_rss_mib": rss_mib})
                flood = bad_records(settings, directory, owners, codec, records)
                done = 0
                while batch := list(itertools.islice(flood, per_round)):
                    await produce_in_batches(settings, batch)
                    done += len(batch)
                    while await asyncio.to_thread(scraped_total, url, DEAD_LETTERS) < done:
                        await asyncio.sleep(0.2)
                    rss_mib = round(router.rss_bytes() / 2**20, 1)
                    samples.append({"dead_lettered": done, "router_rss_mib": rss_mib})
            elapsed = time.monotonic() - started
    return {
        "benchmark": "hostile_memory",
        "records": records,
        "records_per_s": round(records / elapsed, 1),
        "router_rss_mib": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--round", type=int, default=20_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.records, args.round))))


if __name__ == "__main__":  # the router runs in a spawned process
    main()

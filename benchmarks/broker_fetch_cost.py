"""Benchmark: what a fetch costs the embedded broker, by kind, as a partition grows.

Prints one JSON object. Usage:
    python benchmarks/broker_fetch_cost.py [--batches 5000,10000,20000] [--repeats 5]

One partition is grown to each number of record batches (one small record a batch, as
a lightly loaded producer writes them); at each size the broker's CPU time is read from
``/proc`` around fetches of three kinds:

- ``records``: a fetch that finds a record to return (``fetch_min_bytes`` 1);
- ``empty``: a fetch at the end of the partition, held the usual 50 ms and answered empty;
- ``held``: a fetch that finds less than ``fetch_min_bytes`` (1 MiB) and is held 500 ms,
  as the router's bulk lane asks a cluster (``DOCBUS_BULK_FETCH_MIN_BYTES``).

``held_over_records`` is how many times a held fetch reads the partition for one answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.fetch import FetchRequest

from docbus import Settings, create_missing_topics
from docbus.process import cpu_seconds
from shell import EmbeddedBroker

_TOPIC = "fetch-cost"
_RECORD = b"x" * 200
_BATCHES_IN_FLIGHT = 500


@dataclass(frozen=True)
class FetchKind:
    """One kind of fetch: how long the broker may hold it, what it must gather, where
    it reads from (0: the partition's last record, 1: its end)."""

    name: str
    max_wait_ms: int
    min_bytes: int
    past_last: int
    repeats: int


async def _grow(producer: AIOKafkaProducer, batches: int) -> None:
    """Append ``batches`` one-record batches to the partition."""
    for start in range(0, batches, _BATCHES_IN_FLIGHT):
        waits = []
        for _ in range(min(_BATCHES_IN_FLIGHT, batches - start)):
            batch = producer.create_batch()
            batch.append(key=None, value=_RECORD, timestamp=None)
            waits.append(await producer.send_batch(batch, _TOPIC, partition=0))
        await asyncio.gather(*waits)


async def _cost(client: AIOKafkaClient, pid: int, kind: FetchKind, end: int) -> dict[str, float]:
    """Wall and broker CPU milliseconds per fetch of ``kind`` at offset ``end - 1 + past_last``."""
    node = client.cluster.leader_for_partition(TopicPartition(_TOPIC, 0))
    offset = end - 1 + kind.past_last
    request = FetchRequest(
        kind.max_wait_ms, kind.min_bytes, 8 * 1024 * 1024, 0, [(_TOPIC, [(0, offset, 1 << 22)])]
    )
    cpu_before, started = cpu_seconds(pid), time.perf_counter()
    for _ in range(kind.repeats):
        await client.send(node, request)
    wall = (time.perf_counter() - started) / kind.repeats
    cpu = (cpu_seconds(pid) - cpu_before) / kind.repeats
    return {"wall_ms": round(wall * 1000, 1), "broker_cpu_ms": round(cpu * 1000, 2)}


async def measure(sizes: list[int], repeats: int) -> dict[str, object]:
    """Fetch costs at each partition size in ``sizes`` (record batches)."""
    kinds = [
        FetchKind("records", 50, 1, 0, repeats * 10),
        FetchKind("empty", 50, 1, 1, repeats * 10),
        FetchKind("held", 500, 1024 * 1024, 0, repeats),
    ]
    rows = []
    async with EmbeddedBroker() as broker:
        settings = Settings(topic_prefix="bench").for_embedded(broker.bootstrap_servers)
        await create_missing_topics(settings, [_TOPIC])
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=0)
        client = AIOKafkaClient(bootstrap_servers=broker.bootstrap_servers)
        await producer.start()
        try:
            await client.bootstrap()
            grown = 0
            for size in sorted(sizes):
                await _grow(producer, size - grown)
                grown = size
                costs = {k.name: await _cost(client, broker.pid, k, size) for k in kinds}
                held, records = costs["held"]["broker_cpu_ms"], costs["records"]["broker_cpu_ms"]
                rows.append(
                    {
                        "batches": size,
                        **costs,
                        "held_over_records": round(held / records, 1) if records else None,
                    }
                )
        finally:
            await client.close()
            await producer.stop()
    return {"benchmark": "broker_fetch_cost", "record_bytes": len(_RECORD), "sizes": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", default="5000,10000,20000", help="partition sizes, in batches")
    parser.add_argument("--repeats", type=int, default=5, help="held fetches at each size")
    args = parser.parse_args()
    sizes = [int(n) for n in args.batches.split(",")]
    print(json.dumps(asyncio.run(measure(sizes, args.repeats))))


if __name__ == "__main__":
    main()

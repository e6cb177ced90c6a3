"""Benchmark: the bus's Kafka client (aiokafka) against librdkafka (confluent-kafka), same pipe.

Prints one JSON object. Usage (confluent-kafka is not a docbus dependency):
    .venv/bin/pip install confluent-kafka
    python benchmarks/kafka_clients.py [--records 50000] [--turns 2]

What a compiled Kafka client would save the bus: on a fresh embedded broker, records shaped
as the bus's (550-byte values, the three signature headers) are preloaded once, then each
client drains them in turn under a fresh consumer group with the same loop: fetch up to
2,000, produce each one unchanged to the same partition of another topic (acks from all,
lz4, the bus's linger), wait for the acks, commit. Each arm reports its wall time from its
first batch to its last, the CPU its process spent meanwhile (librdkafka's threads
included), the broker's CPU, and the records the target topic holds afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import time
from typing import Any

from aiokafka import TopicPartition

from docbus import Settings, create_missing_topics, make_consumer, make_producer, start_producer
from docbus.process import cpu_seconds
from shell import EmbeddedBroker

_PARTITIONS = 8
_FETCH = 2000
_VALUE = os.urandom(200) + b"docbus " * 50  # 550 bytes, as a document's mean (525)
_HEADERS = [
    ("docbus-key-id", b"000.00.00.G22:2024-01"),
    ("docbus-signature", os.urandom(64)),
    ("docbus-proof", os.urandom(8 + 32 * 7)),
]


def _own_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


async def _preload(settings: Settings, topic: str, records: int) -> None:
    producer = make_producer(settings)
    await start_producer(producer, settings, "the preloader")
    try:
        acks = [
            await producer.send(
                topic, _VALUE, key=str(n).encode(), headers=_HEADERS, partition=n % _PARTITIONS
            )
            for n in range(records)
        ]
        await asyncio.gather(*acks)
    finally:
        await producer.stop()


async def _aiokafka_pipe(
    settings: Settings, source: str, target: str, records: int
) -> tuple[float, float]:
    """(seconds, own CPU seconds) from the first batch to the last, the bus's client."""
    consumer = make_consumer(settings, group_id=f"pipe-aiokafka-{target}")
    producer = make_producer(settings)
    await start_producer(producer, settings, "the aiokafka pipe")
    consumer.subscribe([source])
    await consumer.start()
    piped, first = 0, (0.0, 0.0)
    try:
        while piped < records:
            batch = await consumer.getmany(timeout_ms=100, max_records=_FETCH)
            if not batch:
                continue
            if not piped:
                first = (time.perf_counter(), _own_cpu())
            acks = [
                await producer.send(
                    target, r.value, key=r.key, headers=list(r.headers), partition=tp.partition
                )
                for tp, batch_records in batch.items()
                for r in batch_records
            ]
            await asyncio.gather(*acks)
            await consumer.commit({tp: rs[-1].offset + 1 for tp, rs in batch.items()})
            piped += len(acks)
        return time.perf_counter() - first[0], _own_cpu() - first[1]
    finally:
        await consumer.stop()
        await producer.stop()


def _librdkafka_pipe(
    bootstrap: str, settings: Settings, source: str, target: str, records: int
) -> tuple[float, float]:
    """The same loop with confluent-kafka (blocking calls; run in a thread)."""
    from confluent_kafka import Consumer, Producer

    failures: list[str] = []
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"pipe-librdkafka-{target}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "fetch.wait.max.ms": settings.fetch_max_wait_ms,
        }
    )
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "compression.type": settings.compression_type,
            "linger.ms": settings.linger_ms,
        }
    )

    def delivered(error: Any, _message: Any) -> None:
        if error is not None:
            failures.append(str(error))

    known = producer.list_topics(target, timeout=10).topics[target].partitions
    if len(known) != _PARTITIONS:
        raise RuntimeError(f"{target} has {len(known)} partitions, not {_PARTITIONS}")
    consumer.subscribe([source])
    piped, first = 0, (0.0, 0.0)
    try:
        while piped < records:
            messages = consumer.consume(num_messages=_FETCH, timeout=0.1)
            if not messages:
                continue
            if not piped:
                first = (time.perf_counter(), _own_cpu())
            for message in messages:
                if message.error() is not None:
                    raise RuntimeError(f"fetch failed: {message.error()}")
                producer.produce(
                    target,
                    message.value(),
                    message.key(),
                    partition=message.partition() or 0,
                    headers=message.headers(),
                    on_delivery=delivered,
                )
            producer.flush()
            if failures:
                raise RuntimeError(f"{len(failures)} records not delivered: {failures[0]}")
            consumer.commit(asynchronous=False)
            piped += len(messages)
        return time.perf_counter() - first[0], _own_cpu() - first[1]
    finally:
        consumer.close()


async def _held(settings: Settings, topic: str) -> int:
    """How many records ``topic`` holds, read back (Tansu's end offsets stop at the last
    batch's base offset, so they undercount)."""
    consumer = make_consumer(settings, group_id=None)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(_PARTITIONS)])
        held = 0
        while batch := await consumer.getmany(timeout_ms=1000, max_records=10_000):
            held += sum(len(records) for records in batch.values())
        return held
    finally:
        await consumer.stop()


async def compare(records: int, turns: int) -> dict[str, Any]:
    """Each client's pipe, ``turns`` times in alternation, over the same preloaded records."""
    async with EmbeddedBroker() as broker:
        settings = Settings(log_level="ERROR", partitions=_PARTITIONS).for_embedded(
            broker.bootstrap_servers
        )
        targets = [f"pipe-{client}-{turn}" for turn in range(turns) for client in ("a", "l")]
        await create_missing_topics(settings, ["pipe-source", *targets])
        await _preload(settings, "pipe-source", records)
        runs: list[dict[str, Any]] = []
        for turn in range(turns):
            for client in ("aiokafka", "librdkafka"):
                target = f"pipe-{client[0]}-{turn}"
                broker_before = cpu_seconds(broker.pid)
                if client == "aiokafka":
                    seconds, cpu = await _aiokafka_pipe(settings, "pipe-source", target, records)
                else:
                    seconds, cpu = await asyncio.to_thread(
                        _librdkafka_pipe,
                        broker.bootstrap_servers,
                        settings,
                        "pipe-source",
                        target,
                        records,
                    )
                runs.append(
                    {
                        "client": client,
                        "records_per_s": round(records / seconds),
                        "client_cpu_us_per_record": round(cpu / records * 1e6, 1),
                        "broker_cpu_us_per_record": round(
                            (cpu_seconds(broker.pid) - broker_before) / records * 1e6, 1
                        ),
                        "records_held": await _held(settings, target),
                    }
                )
    summary = {
        client: {
            key: statistics.median(r[key] for r in runs if r["client"] == client)
            for key in ("records_per_s", "client_cpu_us_per_record", "broker_cpu_us_per_record")
        }
        for client in ("aiokafka", "librdkafka")
    }
    return {"benchmark": "kafka_clients", "records": records, "medians": summary, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--turns", type=int, default=2)
    args = parser.parse_args()
    try:
        import confluent_kafka  # noqa: F401
    except ImportError:
        sys.exit("this benchmark needs confluent-kafka: .venv/bin/pip install confluent-kafka")
    print(json.dumps(asyncio.run(compare(args.records, args.turns)), indent=2))


if __name__ == "__main__":
    main()

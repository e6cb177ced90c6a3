"""Benchmark: what one idle consumer of many partitions costs, by its fetch wait.

Prints one JSON object. Usage:
    python benchmarks/idle_consumer_cost.py [--partitions 95] [--waits 25,50,100,200,500]
        [--seconds 10] [--each 1]

An express lane reads partition 0 of every agency's topic (95 of them in the directory)
and, most of the time, finds nothing. For each fetch wait, a consumer assigned to
partition 0 of ``--partitions`` empty topics on a fresh embedded broker polls for
``--seconds``; the CPU the consumer's process and the broker spend meanwhile is read
(``process_time`` and ``/proc``), as a share of one core. With ``--each N`` the topics
have N partitions and the consumer reads them all (a bulk lane reads 1 to N-1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from aiokafka import TopicPartition

from docbus import Settings, create_missing_topics, make_consumer, start_consumer
from docbus.process import cpu_seconds
from shell import EmbeddedBroker


async def idle_cost(
    wait_ms: int, partitions: int, seconds: float, each: int = 1
) -> dict[str, float]:
    """Client and broker CPU, in cores, of one consumer polling the empty partitions of
    ``partitions`` topics of ``each`` partitions."""
    async with EmbeddedBroker() as broker:
        settings = Settings(
            log_level="ERROR", fetch_max_wait_ms=wait_ms, partitions=each
        ).for_embedded(broker.bootstrap_servers)
        topics = [f"idle-{n}" for n in range(partitions)]
        await create_missing_topics(settings, topics)
        consumer = make_consumer(settings, group_id=None)
        await start_consumer(consumer, "the idle consumer")
        try:
            lanes = [TopicPartition(topic, n) for topic in topics for n in range(each)]
            consumer.assign(lanes)
            await consumer.seek_to_end(*lanes)
            await consumer.getmany(timeout_ms=500)  # positions resolved, fetching begun
            client_before, broker_before = time.process_time(), cpu_seconds(broker.pid)
            started = time.monotonic()
            while time.monotonic() - started < seconds:
                await consumer.getmany(timeout_ms=1000)
            elapsed = time.monotonic() - started
            client = time.process_time() - client_before
            broker_cpu = cpu_seconds(broker.pid) - broker_before
        finally:
            await consumer.stop()
    return {
        "fetch_max_wait_ms": wait_ms,
        "client_cores": round(client / elapsed, 3),
        "broker_cores": round(broker_cpu / elapsed, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--partitions", type=int, default=95)
    parser.add_argument("--waits", default="25,50,100,200,500", help="fetch waits, in ms")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--each", type=int, default=1, help="partitions of each topic")
    args = parser.parse_args()
    rows = [
        asyncio.run(idle_cost(int(wait), args.partitions, args.seconds, args.each))
        for wait in args.waits.split(",")
    ]
    print(
        json.dumps(
            {
                "benchmark": "idle_consumer_cost",
                "partitions": args.partitions,
                "each": args.each,
                "waits": rows,
            }
        )
    )


if __name__ == "__main__":
    main()

"""How far behind its assigned partitions a consumer is, for the lag gauge."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError

from docbus import Settings, kafka_errors, make_consumer

__all__ = ["group_lag", "partition_lag"]


async def partition_lag(
    consumer: AIOKafkaConsumer, routes: Callable[[TopicPartition], bool] = lambda _tp: True
) -> dict[tuple[str, int], int]:
    """Records not yet consumed in each assigned partition that ``routes``: end minus position.

    The end is the larger of the high watermark the last fetch carried (exact, but stale
    while the consumer does not fetch, which is when lag matters most) and a fresh
    ListOffsets answer (exact on Kafka; on the embedded Tansu broker the last batch's base
    offset plus one, so low by the size of the last batch).
    """
    assigned = [tp for tp in consumer.assignment() if routes(tp)]
    if not assigned:
        return {}
    ends: dict[object, int] = {}
    with contextlib.suppress(KafkaError):
        ends = dict(await consumer.end_offsets(assigned))
    lags: dict[tuple[str, int], int] = {}
    for tp in assigned:
        end = max(ends.get(tp) or 0, consumer.highwater(tp) or 0)
        with contextlib.suppress(IllegalStateError, KafkaError):  # revoked meanwhile
            position = await consumer.position(tp)
            lags[(tp.topic, tp.partition)] = max(0, end - position)
    return lags


async def group_lag(settings: Settings, group_id: str, topic_pattern: str) -> dict[str, int]:
    """Records group ``group_id`` has not committed yet in each topic matching
    ``topic_pattern``, read from outside the group (its committed offsets against the
    partitions' ends; partitions it never committed are left out): what operators watch."""
    consumer = make_consumer(settings, group_id=group_id)  # never subscribes: joins nothing
    with kafka_errors(f"reading the lag of {group_id}"):
        await consumer.start()
        try:
            wanted = re.compile(topic_pattern)
            partitions = [
                TopicPartition(topic, p)
                for topic in sorted(await consumer.topics())
                if wanted.match(topic)
                for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            ends = await consumer.end_offsets(partitions) if partitions else {}
            lags: dict[str, int] = {}
            for tp in partitions:
                committed = await consumer.committed(tp)
                if committed is not None:
                    lags[tp.topic] = lags.get(tp.topic, 0) + max(0, (ends.get(tp) or 0) - committed)
        finally:
            await consumer.stop()
    return lags

"""How far behind its assigned partitions a consumer is, for the lag gauge."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError

__all__ = ["partition_lag"]


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

"""Tests for docbus._kafka: clients from settings and errors translated at the boundary."""

from __future__ import annotations

import zlib

import pytest
from aiokafka.errors import RequestTimedOutError

from docbus import BrokerError, Settings
from docbus._kafka import (
    _raise_topic_errors,
    create_missing_topics,
    kafka_errors,
    make_producer,
)
from schemas import EXPRESS_PARTITION, bulk_partition


async def test_create_missing_topics_is_idempotent(settings: Settings) -> None:
    """Creating topics twice creates them once and reports only the new ones."""
    names = [f"{settings.topic_prefix}.a", f"{settings.topic_prefix}.b"]
    assert await create_missing_topics(settings, names) == sorted(names)
    assert await create_missing_topics(settings, [*names, f"{settings.topic_prefix}.c"]) == [
        f"{settings.topic_prefix}.c"
    ]


def test_refused_topics_raise_a_broker_error() -> None:
    """A topic error other than 'already exists' becomes a BrokerError naming the topic."""
    _raise_topic_errors([("a", 0, None), ("b", 36, "exists")])
    with pytest.raises(BrokerError, match="c"):
        _raise_topic_errors([("c", 37, "Number of partitions is invalid")])


def test_kafka_errors_are_translated_with_retriable() -> None:
    """An aiokafka error inside kafka_errors becomes a BrokerError that keeps retriable."""
    with pytest.raises(BrokerError, match="sending") as info, kafka_errors("sending"):
        raise RequestTimedOutError()
    assert info.value.retriable
    assert isinstance(info.value.__cause__, RequestTimedOutError)


async def test_docbus_producers_place_a_key_by_its_crc32(settings: Settings) -> None:
    """A keyed record goes to partition 1 + CRC-32(key) mod (count - 1): 0 is the express lane."""
    topic = f"{settings.topic_prefix}.placement"
    await create_missing_topics(settings, [topic])
    keys = [f"000.00.00.G22,2024/11/25,{n}/VPCP".encode() for n in range(40)]
    producer = make_producer(settings)
    await producer.start()
    try:
        placed = [(await (await producer.send(topic, b"v", key=key))).partition for key in keys]
    finally:
        await producer.stop()
    assert placed == [bulk_partition(key, settings.partitions) for key in keys]
    assert placed == [1 + zlib.crc32(key) % (settings.partitions - 1) for key in keys]
    assert set(placed) == set(range(1, settings.partitions))  # every bulk partition, never 0


async def test_unkeyed_records_stay_out_of_the_express_lane(settings: Settings) -> None:
    """A record without a key goes to a bulk partition; one sent to partition 0 lands there."""
    topic = f"{settings.topic_prefix}.unkeyed"
    await create_missing_topics(settings, [topic])
    producer = make_producer(settings)
    await producer.start()
    try:
        placed = {(await (await producer.send(topic, b"v"))).partition for _ in range(30)}
        express = await (await producer.send(topic, b"v", partition=EXPRESS_PARTITION))
    finally:
        await producer.stop()
    assert EXPRESS_PARTITION not in placed and placed
    assert express.partition == EXPRESS_PARTITION


def test_bulk_partition_without_a_lane() -> None:
    """A one-partition topic has no express lane: everything is in partition 0."""
    assert bulk_partition(b"any", 1) == 0
    assert {bulk_partition(str(n).encode(), 2) for n in range(20)} == {1}

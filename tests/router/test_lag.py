"""Tests for router._lag: lag from the log end, also while the consumer is not fetching."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition

from docbus import Settings, make_consumer, make_producer
from router._lag import group_lag, partition_lag
from tests.helpers import G22, ensure_topics


async def test_lag_counts_unconsumed_records_before_and_after_fetching(settings: Settings) -> None:
    layout = await ensure_topics(settings, [G22])
    topic = layout.outbox(G22)
    producer = make_producer(settings)
    await producer.start()
    try:
        for n in range(10):  # one batch each: the embedded broker's end offset is then exact
            await (await producer.send(topic, b"x", key=str(n).encode(), partition=0))
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    await consumer.start()
    try:
        assert await partition_lag(consumer) == {}  # nothing assigned
        consumer.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
        consumer.seek(TopicPartition(topic, 0), 0)
        consumer.seek(TopicPartition(topic, 1), 0)
        # Nothing fetched yet: only the fresh end offsets can tell.
        assert await partition_lag(consumer) == {(topic, 0): 10, (topic, 1): 0}
        consumed = 0
        async with asyncio.timeout(30):
            while consumed < 10:
                batch = await consumer.getmany(timeout_ms=200)
                consumed += sum(len(records) for records in batch.values())
        assert (await partition_lag(consumer))[(topic, 0)] == 0
    finally:
        await consumer.stop()


async def test_a_groups_lag_from_outside_it(settings: Settings) -> None:
    """group_lag reads another group's committed offsets against the ends, per topic;
    partitions the group never committed and topics outside the pattern are left out."""
    layout = await ensure_topics(settings, [G22])
    topic = layout.outbox(G22)
    producer = make_producer(settings)
    await producer.start()
    try:
        for n in range(7):
            await (await producer.send(topic, b"x", key=str(n).encode(), partition=0))
        await (await producer.send(layout.inbox(G22), b"y", partition=0))
    finally:
        await producer.stop()
    group = settings.group_id("lag-probe")
    consumer = make_consumer(settings, group_id=group)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.commit({TopicPartition(topic, 0): 2})
    finally:
        await consumer.stop()
    assert await group_lag(settings, group, layout.outbox_pattern) == {topic: 5}
    assert await group_lag(settings, settings.group_id("nobody"), layout.outbox_pattern) == {}

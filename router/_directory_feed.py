"""The directory on a compacted topic: published by an operator, followed by every router."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from docbus import (
    ConfigurationError,
    Settings,
    connection_options,
    create_missing_topics,
    kafka_errors,
    make_producer,
    start_consumer,
    start_producer,
)
from docbus.directory import Directory
from schemas import TopicLayout

__all__ = [
    "COMPACTED",
    "HEADER_DIRECTORY_VERSION",
    "DirectoryCallback",
    "DirectoryFollower",
    "publish_directory",
]

log = structlog.get_logger("docbus.directory")

#: Topic configuration of the directory topic: only the latest directory is kept.
COMPACTED = {"cleanup.policy": "compact"}
HEADER_DIRECTORY_VERSION = "docbus-directory-version"
_KEY = b"directory"

#: Called with each valid directory read from the topic, in order.
DirectoryCallback = Callable[[Directory], Awaitable[None]]


async def publish_directory(settings: Settings, directory: Directory) -> int:
    """Write ``directory`` to the directory topic (created compacted if missing); its offset."""
    topic = TopicLayout(settings.topic_prefix).directory
    await create_missing_topics(settings, [topic], configs={topic: COMPACTED})
    producer = make_producer(settings, compression_type="gzip", max_request_size=8 * 1024 * 1024)
    await start_producer(producer, settings, "the directory publisher")
    try:
        value = json.dumps(directory.to_json(), ensure_ascii=False).encode()
        with kafka_errors(f"publishing directory {directory.version}"):
            metadata = await (
                await producer.send(
                    topic,
                    value,
                    key=_KEY,
                    partition=0,
                    headers=[(HEADER_DIRECTORY_VERSION, directory.version.encode())],
                )
            )
    finally:
        await producer.stop()
    return int(metadata.offset)


class DirectoryFollower:
    """Reads the directory topic from its start and hands each valid directory to ``on_update``.

    A record that is not a consistent directory is logged and skipped: the routers keep
    the directory they have.
    """

    def __init__(self, *, settings: Settings, on_update: DirectoryCallback) -> None:
        self._settings = settings
        self._on_update = on_update
        self._topic = TopicLayout(settings.topic_prefix).directory

    async def run(self) -> None:
        """Follow the topic until cancelled."""
        consumer = AIOKafkaConsumer(
            **connection_options(self._settings),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=16 * 1024 * 1024,
            fetch_max_bytes=16 * 1024 * 1024,
        )
        await start_consumer(consumer, "following the directory topic")
        try:
            consumer.assign([TopicPartition(self._topic, 0)])
            while True:
                with kafka_errors("following the directory topic"):
                    batch = await consumer.getmany(timeout_ms=1000)
                for records in batch.values():
                    for record in records:
                        await self._apply(record.value or b"", record.offset)
        finally:
            await consumer.stop()

    async def _apply(self, value: bytes, offset: int) -> None:
        try:
            directory = Directory.from_json(json.loads(value))
        except (ValueError, ConfigurationError) as exc:
            log.error("directory_rejected", offset=offset, error=str(exc)[:500])
            return
        await self._on_update(directory)

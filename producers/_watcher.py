"""Watching an agency's inbox for the status notices about the documents it sent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from docbus import (
    CodecError,
    Keystore,
    Settings,
    SignatureError,
    TrustedKeys,
    ValidationError,
    connection_options,
    kafka_errors,
    start_consumer,
)
from schemas import Codec, StatusNotice, TopicLayout

__all__ = ["NoticeWatcher", "WatchedNotice"]

log = structlog.get_logger("docbus.sender")


@dataclass(frozen=True, slots=True)
class WatchedNotice:
    """A status notice with the record headers it came with."""

    notice: StatusNotice
    headers: dict[str, str]


class NoticeWatcher:
    """Reads an inbox from the moment it starts and hands each notice to every subscriber.

    No consumer group: it sees every partition, and owns the task that reads them.
    """

    def __init__(self, *, settings: Settings, agency: str, codec: Codec) -> None:
        self._settings = settings
        self._topic = TopicLayout(settings.topic_prefix).inbox(agency)
        self._codec = codec
        self._keys = TrustedKeys(Keystore(settings.keys_root))
        self._subscribers: set[asyncio.Queue[WatchedNotice]] = set()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def started(self) -> bool:
        """Whether the watcher reads its inbox."""
        return self._task is not None

    async def start(self) -> None:
        """Position at the end of the inbox, then read in a background task."""
        consumer = AIOKafkaConsumer(
            **connection_options(self._settings),
            enable_auto_commit=False,
        )
        await start_consumer(consumer, f"watching {self._topic}")
        try:
            with kafka_errors(f"watching {self._topic}"):
                partitions = consumer.partitions_for_topic(self._topic) or set()
                assigned = [TopicPartition(self._topic, p) for p in sorted(partitions)]
                consumer.assign(assigned)
                await consumer.seek_to_end(*assigned)
                for tp in assigned:  # resolve the end now, before the caller sends anything
                    await consumer.position(tp)
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer
        self._task = asyncio.create_task(self._read(consumer), name=f"watch-{self._topic}")

    async def stop(self) -> None:
        """Stop reading; safe to call twice."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()

    @contextlib.asynccontextmanager
    async def subscription(self) -> AsyncIterator[asyncio.Queue[WatchedNotice]]:
        """A queue that receives every notice from now until the block ends."""
        queue: asyncio.Queue[WatchedNotice] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            with kafka_errors(f"watching {self._topic}"):
                batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    try:
                        message = self._codec.decode(record.value or b"")
                        if not isinstance(message, StatusNotice):
                            continue
                        self._keys.verify(
                            record.value, record.headers, message, timestamp_ms=record.timestamp
                        )
                    except (CodecError, ValidationError, SignatureError) as exc:
                        log.warning(
                            "inbox_notice_rejected",
                            topic=self._topic,
                            reason=exc.kind,
                            error=str(exc),
                            offset=record.offset,
                        )
                        continue
                    headers = {k: v.decode(errors="replace") for k, v in record.headers}
                    for step in message.steps():  # a record may carry several
                        watched = WatchedNotice(step, headers)
                        for queue in self._subscribers:
                            queue.put_nowait(watched)

"""Signing together what is sent within a few milliseconds: one signature for the lot.

Concurrent sends (``send_many``, a simulated agency's burst, a receiver answering many
deliveries) reach an agency's writer close together. A :class:`SigningWindow` opens at
the first record and closes ``linger_ms`` later or at :data:`schemas.MAX_SIGNED_BATCH`
records: what it gathered is signed under one hash-tree root (a lone record is signed
alone) and handed to the producer in the order it came. A burst of n costs one
signature, not n; a send waits up to ``linger_ms`` more than it did.

The records go through the producer's accumulator (``send``), not as closed batches of
their own: aiokafka lets one batch per partition wait for the one before it to drain,
and many small closed batches from several writers to one outbox partition timed out
there (``KafkaTimeoutError`` in a replay at scale 0.001).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from docbus._kafka import kafka_errors
from schemas import MAX_SIGNED_BATCH, RecordSigner

__all__ = ["SigningWindow"]


@dataclass(frozen=True, slots=True)
class _Submitted:
    key: bytes
    value: bytes
    partition: int | None
    metadata: asyncio.Future[RecordMetadata]


class SigningWindow:
    """Sends records to ``topic``, those of one window signed under one root."""

    def __init__(
        self, producer: AIOKafkaProducer, signer: RecordSigner, topic: str, linger_ms: int
    ) -> None:
        self._producer = producer
        self._signer = signer
        self._topic = topic
        self._linger_s = linger_ms / 1000
        self._waiting: list[_Submitted] = []
        self._closing: asyncio.TimerHandle | None = None
        self._producing: set[asyncio.Future[None]] = set()

    async def send(self, key: bytes, value: bytes, partition: int | None) -> RecordMetadata:
        """Sign and send one record; its metadata once the broker holds it."""
        metadata = self._submit(key, value, partition)
        with kafka_errors(f"sending {key.decode(errors='replace')} to {self._topic}"):
            return await metadata

    async def send_many(
        self, records: Sequence[tuple[bytes, bytes, int | None]]
    ) -> list[RecordMetadata]:
        """Sign and send ``(key, value, partition)`` records together, at once (their
        window closes with them); their metadata once the broker holds them all."""
        submitted = [self._submit(key, value, partition) for key, value, partition in records]
        self._close()
        outcomes = await asyncio.gather(*submitted, return_exceptions=True)
        with kafka_errors(f"sending {len(records)} records to {self._topic}"):
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
        return [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]

    def _submit(
        self, key: bytes, value: bytes, partition: int | None
    ) -> asyncio.Future[RecordMetadata]:
        loop = asyncio.get_running_loop()
        mine = _Submitted(key, value, partition, loop.create_future())
        self._waiting.append(mine)
        if len(self._waiting) >= MAX_SIGNED_BATCH:
            self._close()
        elif self._closing is None:
            self._closing = loop.call_later(self._linger_s, self._close)
        return mine.metadata

    async def drain(self) -> None:
        """Close the open window and wait until what was handed over is acknowledged."""
        self._close()
        while self._producing:
            await asyncio.gather(*self._producing, return_exceptions=True)

    def _close(self) -> None:
        if self._closing is not None:
            self._closing.cancel()
            self._closing = None
        if not self._waiting:
            return
        window, self._waiting = self._waiting, []
        producing = asyncio.ensure_future(self._produce(window))
        self._producing.add(producing)  # held until done: the loop keeps only weak references
        producing.add_done_callback(self._producing.discard)

    async def _produce(self, window: list[_Submitted]) -> None:
        """Sign and hand over ``window``; each record's future gets its metadata or the
        error (raised where it was sent)."""
        acks: list[asyncio.Future[RecordMetadata]] = []
        try:
            signed = self._signer.batch_headers([s.value for s in window])
            for submitted, headers in zip(window, signed, strict=True):
                acks.append(
                    await self._producer.send(
                        self._topic,
                        submitted.value,
                        key=submitted.key,
                        partition=submitted.partition,
                        headers=headers,
                    )
                )
        except Exception as exc:
            for submitted in window[len(acks) :]:
                if not submitted.metadata.done():
                    submitted.metadata.set_exception(exc)
        except BaseException:
            for submitted in window[len(acks) :]:
                submitted.metadata.cancel()
            raise
        finally:
            for submitted, ack in zip(window, acks, strict=False):
                ack.add_done_callback(functools.partial(_pass_on, metadata=submitted.metadata))
        await asyncio.gather(*acks, return_exceptions=True)  # drain() waits for the acks


def _pass_on(ack: asyncio.Future[RecordMetadata], metadata: asyncio.Future[RecordMetadata]) -> None:
    """Give the producer's ack of a record to whoever sent it."""
    if metadata.done():  # its sender was cancelled
        if not ack.cancelled():
            ack.exception()  # retrieved: no "never retrieved" warning
    elif ack.cancelled():
        metadata.cancel()
    elif (error := ack.exception()) is not None:
        metadata.set_exception(error)
    else:
        metadata.set_result(ack.result())

"""Signing together what is sent in one turn of the event loop: one signature for the lot.

Concurrent sends (``send_many``, a simulated agency's burst, a receiver answering many
deliveries at once) reach the writer in the same turn of the event loop. When the turn
ends, every record gathered in it is signed under one hash-tree root
(:meth:`schemas.RecordSigner.batch_headers`; a lone record is signed alone, as before) and
handed to the producer in the order it came. Nothing waits longer than a turn, so a lone
send costs what it did; a burst of n costs one signature, not n.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from docbus._kafka import kafka_errors
from schemas import RecordSigner

__all__ = ["SigningTurns"]


@dataclass(frozen=True, slots=True)
class _Submitted:
    key: bytes
    value: bytes
    partition: int | None
    metadata: asyncio.Future[RecordMetadata]


class SigningTurns:
    """Sends records to ``topic``, those submitted in one turn signed under one root."""

    def __init__(self, producer: AIOKafkaProducer, signer: RecordSigner, topic: str) -> None:
        self._producer = producer
        self._signer = signer
        self._topic = topic
        self._waiting: list[_Submitted] = []
        self._producing: set[asyncio.Future[None]] = set()

    async def send(self, key: bytes, value: bytes, partition: int | None) -> RecordMetadata:
        """Sign and send one record; its metadata once the broker holds it."""
        mine = _Submitted(key, value, partition, asyncio.get_running_loop().create_future())
        self._waiting.append(mine)
        if len(self._waiting) == 1:  # the first of this turn: the turn's end sends them all
            asyncio.get_running_loop().call_soon(self._end_turn)
        with kafka_errors(f"sending {key.decode(errors='replace')} to {self._topic}"):
            return await mine.metadata

    def _end_turn(self) -> None:
        turn, self._waiting = self._waiting, []
        producing = asyncio.ensure_future(self._produce(turn))
        self._producing.add(producing)  # held until done: the loop keeps only weak references
        producing.add_done_callback(self._producing.discard)

    async def _produce(self, turn: list[_Submitted]) -> None:
        """Hand ``turn`` to the producer; each record's future gets its ack or the error."""
        acks: list[asyncio.Future[RecordMetadata]] = []
        try:
            signed = self._signer.batch_headers([s.value for s in turn])
            for submitted, headers in zip(turn, signed, strict=True):
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
            for submitted in turn[len(acks) :]:
                if not submitted.metadata.done():
                    submitted.metadata.set_exception(exc)
        except BaseException:
            for submitted in turn[len(acks) :]:
                submitted.metadata.cancel()
            raise
        finally:
            for submitted, ack in zip(turn, acks, strict=False):
                ack.add_done_callback(functools.partial(_pass_on, metadata=submitted.metadata))


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

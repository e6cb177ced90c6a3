"""Test helpers that talk to the real broker: topics, raw records, sample documents."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import subprocess
import sys
from collections.abc import AsyncIterator, Coroutine, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from docbus import Keystore, Settings, Signers, create_missing_topics, make_producer
from producers import official_letter
from schemas import (
    EXPRESS_PARTITION,
    HEADER_RECIPIENT,
    Codec,
    Document,
    StatusNotice,
    TopicLayout,
    is_express,
    today_vn,
    top_level_of,
)

G22 = "000.00.00.G22"  # Government Office
G12 = "000.00.00.G12"  # Finance
H29 = "000.00.00.H29"  # Ho Chi Minh City
H41 = "000.00.00.H41"  # Nghe An


async def ensure_topics(settings: Settings, agencies: Iterable[str]) -> TopicLayout:
    """Create the outboxes, inboxes and dead-letter topic of ``agencies``."""
    layout = TopicLayout(settings.topic_prefix)
    await create_missing_topics(settings, layout.agency_topics(agencies))
    return layout


def letter(
    sender: str = G22, recipients: Iterable[str] = (H29,), number: int = 1, **kw: object
) -> Document:
    """A valid official letter."""
    return official_letter(
        sender=sender,
        recipients=tuple(recipients),
        subject="V/v triển khai Quyết định 932/QĐ-TTg",
        number=str(number),
        notation="VPCP-KSTT",
        **kw,  # type: ignore[arg-type]
    )


async def produce_raw(
    settings: Settings,
    topic: str,
    values: Iterable[bytes | None],
    key: bytes | None = None,
    *,
    signed: bool = True,
    sign_as: str | None = None,
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    """Produce ``values`` to ``topic`` as they are, bypassing every SDK check.

    Each value is signed with the key of ``sign_as`` (default: the owner of the outbox
    ``topic``, as a sender that writes broken records would sign them) unless ``signed``
    is False; ``headers`` go before the signature.
    """
    owner = sign_as or TopicLayout(settings.topic_prefix).outbox_owner(topic)
    signer = Keystore(settings.keys_root).signer(owner) if signed and owner else None
    producer = make_producer(settings)
    await producer.start()
    try:
        acks = [
            await producer.send(
                topic,
                v,
                key=key,
                headers=[*(headers or []), *(signer.headers(v) if signer else [])],
            )
            for v in values
        ]
        await asyncio.gather(*acks)
    finally:
        await producer.stop()


async def read_topic(
    settings: Settings, topic: str, count: int, timeout_s: float = 30.0
) -> list[ConsumerRecord]:
    """The first ``count`` records of ``topic`` (no group), waiting up to ``timeout_s``."""
    return await read_all(settings, topic, count, quiet_s=0, timeout_s=timeout_s)


async def read_all(
    settings: Settings, topic: str, at_least: int, quiet_s: float = 1.0, timeout_s: float = 30.0
) -> list[ConsumerRecord]:
    """The records of ``topic`` (no group): at least ``at_least`` (waiting up to
    ``timeout_s``), then every one that comes until none has for ``quiet_s``."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=settings.bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        async with asyncio.timeout(timeout_s):
            while len(records) < at_least:
                for part in (await consumer.getmany(timeout_ms=200)).values():
                    records.extend(part)
        while quiet_s > 0 and (batch := await consumer.getmany(timeout_ms=int(quiet_s * 1000))):
            for part in batch.values():
                records.extend(part)
    finally:
        await consumer.stop()
    return records


def steps_in(records: Iterable[ConsumerRecord]) -> list[StatusNotice]:
    """Every status step the notice records carry, record by record, oldest first."""
    codec = Codec()
    return [step for record in records for step in codec.decode(record.value).steps()]


async def run_docbus(
    *args: str, env: dict[str, str], timeout_s: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the docbus command with ``env``, off the event loop; its output as text."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "shell.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment that points a docbus command at ``settings``' broker, prefix and state."""
    import os

    return {
        **os.environ,
        "DOCBUS_BOOTSTRAP_SERVERS": settings.bootstrap_servers or "",
        "DOCBUS_TOPIC_PREFIX": settings.topic_prefix,
        "DOCBUS_ENABLE_IDEMPOTENCE": "false",
        "DOCBUS_SESSION_TIMEOUT_MS": "1500",
        "DOCBUS_HOME": str(settings.home),
        "DOCBUS_KEYS_DIR": str(settings.keys_root),
    }


def today() -> dt.date:
    return today_vn()


class NoticeCollector:
    """A NoticeHandler that lets a test await a number of notices."""

    def __init__(self) -> None:
        self.notices: list = []
        self._changed = asyncio.Condition()

    async def __call__(self, notice) -> None:  # type: ignore[no-untyped-def]
        async with self._changed:
            self.notices.append(notice)
            self._changed.notify_all()

    async def wait_for(self, count: int, timeout_s: float = 30.0) -> list:
        """Wait until ``count`` notices have arrived; return them."""
        async with asyncio.timeout(timeout_s), self._changed:
            await self._changed.wait_for(lambda: len(self.notices) >= count)
        return self.notices


async def take(receiver, count: int, timeout_s: float = 30.0) -> list:  # type: ignore[no-untyped-def]
    """The next ``count`` documents from ``receiver``, within ``timeout_s``."""
    received = []
    async with asyncio.timeout(timeout_s):
        while len(received) < count:
            received.append(await anext(receiver))
    return received


async def drain(receiver) -> None:  # type: ignore[no-untyped-def]
    """Iterate ``receiver`` until cancelled, so its inbox's notices reach their handler."""
    async for item in receiver:
        item.ack()


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    """Every sample ``url`` serves, by (name, labels)."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        return parse_samples(response.read().decode())


def registry_samples(registry: Any) -> Samples:
    """Every sample of a prometheus-client registry, as :func:`scrape` gives them."""
    from prometheus_client import generate_latest

    return parse_samples(generate_latest(registry).decode())


def parse_samples(text: str) -> Samples:
    """The exposition ``text`` by (name, labels), parsed by prometheus-client's parser."""
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    """The value of one series in a :func:`scrape` result, or None when absent."""
    return samples.get((name, frozenset(labels.items())))


async def eventually(check, timeout_s: float = 20.0, every_s: float = 0.1):  # type: ignore[no-untyped-def]
    """Call ``check`` until it returns a truthy value (returned), failing after ``timeout_s``."""
    async with asyncio.timeout(timeout_s):
        while not (result := await asyncio.to_thread(check)):
            await asyncio.sleep(every_s)
    return result


@contextlib.asynccontextmanager
async def in_background(work: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run ``work`` as a task for the block's duration; cancel it on the way out."""
    task = asyncio.create_task(work)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def accept_all(receiver) -> None:  # type: ignore[no-untyped-def]
    """Answer every document ``receiver`` gets with 03 (accepted), until cancelled."""
    from schemas import StatusCode

    async for received in receiver:
        await received.notify(StatusCode.ACCEPTED)


async def deliver(settings: Settings, documents, recipient: str = H29) -> None:  # type: ignore[no-untyped-def]
    """Put deliveries straight into the recipient's inbox, as the router would."""
    layout = await ensure_topics(settings, [G22, recipient])
    codec = Codec()
    signers = Signers(Keystore(settings.keys_root))
    producer = make_producer(settings)
    await producer.start()
    try:
        acks = []
        for doc in documents:
            value = codec.encode(doc)
            signature = signers(top_level_of(doc.sender)).headers(value)
            ack = await producer.send(
                layout.inbox(recipient),
                value,
                key=doc.document_id.encode(),
                headers=[(HEADER_RECIPIENT, recipient.encode()), *signature],
                partition=EXPRESS_PARTITION if is_express(doc.priority) else None,
            )
            acks.append(ack)
        await asyncio.gather(*acks)
    finally:
        await producer.stop()

"""Rebuilding the tracking store from the topics: after a restart, or on a new machine.

Every inbox holds what the router let through: each delivery (with its recipient
header) and each accepted status notice. Documents are recorded first, then notices
in time order, through the same checks as live, so the states come out the same.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from docbus import (
    CodecError,
    RoutingRejected,
    Settings,
    ValidationError,
    connection_options,
    kafka_errors,
    start_consumer,
)
from router.tracking._tracker import Tracker, record_digest
from schemas import BUS_AGENCY, HEADER_RECIPIENT, Codec, DocumentEnvelope, StatusNotice, TopicLayout

__all__ = ["RebuildReport", "rebuild_tracking"]


@dataclass(frozen=True)
class RebuildReport:
    """What a rebuild read and applied."""

    documents: int
    deliveries: int
    notices_applied: int
    notices_skipped: int
    records_read: int


async def rebuild_tracking(
    settings: Settings, tracker: Tracker, agencies: Iterable[str]
) -> RebuildReport:
    """Clear ``tracker``'s store and refill it from the inboxes of ``agencies``."""
    layout = TopicLayout(settings.topic_prefix)
    codec = Codec()
    deliveries: dict[str, tuple[DocumentEnvelope, list[tuple[str, str]], bytes]] = {}
    notices: list[StatusNotice] = []
    records = await _read_all(settings, [layout.inbox(code) for code in agencies])
    for record in records:
        try:
            message = codec.decode_envelope(record.value or b"")
        except (CodecError, ValidationError):
            continue
        if isinstance(message, StatusNotice):
            if message.from_agency != BUS_AGENCY:
                notices.extend(message.steps())
            continue
        recipient = dict(record.headers).get(HEADER_RECIPIENT)
        agency = record.topic[len(layout.inbox("")) :]
        if recipient is not None:
            digest = record_digest(record.value or b"")  # the outbox record's bytes, forwarded
            entry = deliveries.setdefault(message.document_id, (message, [], digest))
            entry[1].append((recipient.decode(), agency))
    tracker.store.clear()
    for document, pairs, digest in deliveries.values():
        tracker.on_document(document, list(dict.fromkeys(pairs)), digest=digest)
    applied = skipped = 0
    for notice in sorted(notices, key=lambda n: n.timestamp):
        try:
            if tracker.apply_notice(notice):
                applied += 1
        except RoutingRejected:
            skipped += 1
    tracker.flush()
    return RebuildReport(
        documents=len(deliveries),
        deliveries=sum(len(set(p)) for _, p, _ in deliveries.values()),
        notices_applied=applied,
        notices_skipped=skipped,
        records_read=len(records),
    )


async def _read_all(settings: Settings, topics: list[str]) -> list[ConsumerRecord]:
    """Every record of ``topics``, read to the end as it is now."""
    consumer = AIOKafkaConsumer(
        **connection_options(settings),
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    records: list[ConsumerRecord] = []
    await start_consumer(consumer, "reading the inboxes")
    try:
        with kafka_errors("reading the inboxes"):
            partitions = [
                TopicPartition(topic, p)
                for topic in topics
                for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            pending = {tp for tp, end in ends.items() if end > 0}
            by_partition: dict[TopicPartition, list[ConsumerRecord]] = defaultdict(list)
            while pending:
                batch = await consumer.getmany(*pending, timeout_ms=1000)
                for tp, part in batch.items():
                    by_partition[tp].extend(part)
                for tp in list(pending):
                    # Tansu reports the last batch's base offset + 1 as the end; reading the
                    # partition up to it fetches that whole batch, so nothing is missed.
                    if await consumer.position(tp) >= ends[tp]:
                        pending.discard(tp)
            for part in by_partition.values():
                records.extend(part)
    finally:
        await consumer.stop()
    return records

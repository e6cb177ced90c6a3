"""``docbus bench router``: the router against a bare consume-and-produce pipe, same records.

N documents from the workload mix are preloaded into the outboxes once. Then, in turns
(alternating which goes first), the router drains them under a fresh consumer group, and
a bare aiokafka pipe drains the same records under another: fetch, produce each value
unchanged to one topic, await the acks, commit; no decoding, no checks, no fan-out.
Each is timed from the moment its consumers hold their partitions (the consumer-group
join is start-up, not throughput) to its last record. The ratio says what the router's work
costs against the least any Kafka pipe must do on this broker.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from docbus import (
    Keystore,
    Settings,
    create_missing_topics,
    kafka_errors,
    make_consumer,
    make_producer,
    produce_in_batches,
    start_consumer,
    start_producer,
)
from docbus.directory import Directory
from docbus.process import tune_service_heap
from producers.simulation import DocumentMix, bad_records
from router import Router, ensure_bus_topics
from schemas import BUS_AGENCY, Codec, TopicLayout

__all__ = ["bench_router"]

_BATCH = 5000


async def bench_router(
    settings: Settings,
    *,
    documents: int = 50_000,
    repeat: int = 3,
    seed: int = 11,
    track: bool = True,
    bad_share: float = 0.0,
) -> dict[str, Any]:
    """Router and raw pipe over the same ``documents`` preloaded records; medians and runs.

    With ``bad_share`` > 0, that many bad records per document (the kinds of
    :mod:`producers.simulation._bad_records`) are spread among the documents: the router must
    dead-letter them and tell their senders while it routes the rest.
    """
    if not 0.0 <= bad_share <= 1.0:
        raise ValueError(f"bad_share must be between 0 and 1, got {bad_share}")
    directory = Directory.load()
    codec = Codec()
    layout = TopicLayout(settings.topic_prefix)
    await ensure_bus_topics(settings, directory)
    Keystore(settings.keys_root).ensure([BUS_AGENCY, *directory.codes()])
    pipe_topic = f"{settings.topic_prefix}.bench-pipe"
    await create_missing_topics(settings, [pipe_topic])
    mix = list(DocumentMix(directory, seed=seed).documents(documents))
    bad = int(documents * bad_share)
    owners = sorted({d.sender for d in mix})
    await produce_in_batches(
        settings,
        _spread(
            [(layout.outbox(d.sender), d.document_id.encode(), codec.encode(d)) for d in mix],
            list(bad_records(settings, directory, owners, codec, bad)),
        ),
    )
    records = documents + bad
    tune_service_heap()  # as a router process does once started (``docbus router``)
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="docbus-bench-") as state:
        run_settings = settings.replace(home=Path(state), keys_dir=settings.keys_root)
        for attempt in range(repeat):
            run: dict[str, float] = {}
            arms: list[tuple[str, Callable[[], Awaitable[float]]]] = [
                (
                    "router",
                    functools.partial(
                        _drain_router,
                        run_settings,
                        directory,
                        codec,
                        records,
                        attempt=attempt,
                        track=track,
                        counts=run,
                    ),
                ),
                (
                    "raw_pipe",
                    functools.partial(
                        _drain_pipe,
                        run_settings,
                        layout,
                        records,
                        topic=pipe_topic,
                        attempt=attempt,
                    ),
                ),
            ]
            for name, drain in arms if attempt % 2 == 0 else arms[::-1]:
                seconds = await drain()
                run[f"{name}_docs_per_s"] = round(documents / seconds, 1)  # good ones only
            run["ratio"] = round(run["router_docs_per_s"] / run["raw_pipe_docs_per_s"], 3)
            runs.append(run)
    return {
        "benchmark": "router_vs_raw_pipe",
        "documents": documents,
        "bad_records": bad,
        "tracking": track,
        "router_docs_per_s": statistics.median(r["router_docs_per_s"] for r in runs),
        "raw_pipe_docs_per_s": statistics.median(r["raw_pipe_docs_per_s"] for r in runs),
        "ratio": statistics.median(r["ratio"] for r in runs),
        "runs": runs,
    }


def _spread(good: list[Any], bad: list[Any]) -> list[Any]:
    """``bad`` spread evenly among ``good``: one after every len(good) // len(bad) good ones."""
    if not bad:
        return good
    every = max(len(good) // len(bad), 1)
    pending = iter(bad)
    out: list[Any] = []
    for i, record in enumerate(good, 1):
        out.append(record)
        if i % every == 0:
            out.extend(itertools.islice(pending, 1))
    out.extend(pending)
    return out


async def _drain_router(
    settings: Settings,
    directory: Directory,
    codec: Codec,
    documents: int,
    *,
    attempt: int,
    track: bool,
    counts: dict[str, float],
) -> float:
    """Seconds the router takes, once started (its groups joined), to route every
    preloaded record; the records it dead-lettered go in ``counts``."""
    router = Router(
        settings=settings.replace(home=settings.home / f"router-{attempt}"),
        directory=directory,
        codec=codec,
        group_id=f"{settings.topic_prefix}-bench-router-{attempt}",
        follow_directory=False,
        track=track,
    )

    def routed() -> int:
        stats = router.stats
        return stats.documents_routed + stats.dead_lettered

    async with router:
        seconds = await _time_drain(routed, documents)
    counts["router_dead_lettered"] = router.stats.dead_lettered
    return seconds


async def _drain_pipe(
    settings: Settings, layout: TopicLayout, documents: int, *, topic: str, attempt: int
) -> float:
    """Seconds a bare consume-and-produce loop takes over the same records."""
    consumer = make_consumer(settings, group_id=f"{settings.topic_prefix}-bench-pipe-{attempt}")
    producer = make_producer(settings)
    await start_producer(producer, settings, "the raw pipe")
    consumer.subscribe(pattern=layout.outbox_pattern)
    await start_consumer(consumer, "starting the raw pipe")
    piped = 0

    async def pipe() -> None:
        nonlocal piped
        while True:
            with kafka_errors("piping records"):
                batch = await consumer.getmany(timeout_ms=100, max_records=_BATCH)
                acks = [
                    await producer.send(topic, record.value, key=record.key)
                    for records in batch.values()
                    for record in records
                ]
                await asyncio.gather(*acks)
                if batch:
                    await consumer.commit(
                        {tp: records[-1].offset + 1 for tp, records in batch.items()}
                    )
            piped += len(acks)

    task = asyncio.create_task(pipe())
    try:
        return await _time_drain(lambda: piped, documents)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await consumer.stop()
        await producer.stop()


async def _time_drain(done: Callable[[], int], total: int) -> float:
    """Seconds from now, the arm started and its partitions assigned, until ``total`` are done.

    Timing from the end of the first batch instead, scaled to ``total``, gave nonsense
    when one batch held every record (1.5 million documents/s for the pipe at 5,000).
    """
    started = time.perf_counter()
    while done() < total:  # noqa: ASYNC110 - polled, so the timed arm's loop is not woken
        await asyncio.sleep(0.005)  # a tick of the loop the router runs in: seldom
    return time.perf_counter() - started

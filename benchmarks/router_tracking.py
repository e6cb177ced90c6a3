"""Benchmark: the router's throughput with and without delivery tracking.

Preloads N documents into the outboxes, then two status notices (01, 03) per delivery,
and times one router routing both: once without tracking, once with the SQLite tracking
store (written by its writer process). Two cores carry the broker, the router, the
preloading producer and the writer, so single runs vary; ``--repeat`` runs the pair
several times, alternating which goes first, each run on a fresh embedded broker, and
reports the median ratio. Usage:

    python benchmarks/router_tracking.py [--documents N] [--repeat R] [--seed S] [--arm A]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import tempfile
import time
import zlib
from pathlib import Path

from docbus import EmbeddedBroker, Settings
from docbus._heap import tune_service_heap
from docbus._kafka import make_producer
from producers._simulation import DocumentMix
from router import Router
from router._topics import ensure_bus_topics
from router.directory import Directory
from schemas import Codec, Document, StatusNotice, TopicLayout


def notices_for(documents: list[Document], directory: Directory) -> list[tuple[str, StatusNotice]]:
    """(outbox owner, notice) for 01 then 03 from every recipient of every document."""
    out = []
    for doc in documents:
        for recipient in doc.recipients:
            for minute, code in ((1, "01"), (2, "03")):
                notice = StatusNotice(
                    document_id=doc.document_id,
                    document_sender=doc.sender,
                    from_agency=recipient,
                    to_agency=doc.sender,
                    status_code=code,
                    timestamp=doc.sent_at + dt.timedelta(minutes=minute),
                )
                out.append(("000.00.00." + recipient[-3:], notice))
    return out


async def preload(settings: Settings, records: list[tuple[str, bytes, bytes]]) -> None:
    """Produce ``records`` in whole batches per partition (fast: little overlap with routing)."""
    producer = make_producer(settings)
    await producer.start()
    try:
        by_partition: dict[tuple[str, int], list[tuple[bytes, bytes]]] = {}
        for topic, key, value in records:
            partition = zlib.crc32(key) % settings.partitions  # one document's notices in order
            by_partition.setdefault((topic, partition), []).append((key, value))
        sends = []
        for (topic, partition), items in by_partition.items():
            batch = producer.create_batch()
            for key, value in items:
                if batch.append(key=key, value=value, timestamp=None) is None:
                    sends.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
                    batch.append(key=key, value=value, timestamp=None)
            sends.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def route_both_phases(
    settings: Settings,
    directory: Directory,
    *,
    track: bool,
    documents: list[tuple[str, bytes, bytes]],
    notices: list[tuple[str, bytes, bytes]],
) -> tuple[float, float]:
    """Seconds one router spends on the documents, then on their notices (preloaded after)."""
    router = Router(settings=settings, directory=directory, track=track, follow_directory=False)

    def routed() -> int:
        return (
            router.stats.documents_routed + router.stats.notices_routed + router.stats.dead_lettered
        )

    async with router:
        tune_service_heap()  # as `docbus router` does once started
        await preload(settings, documents)
        while routed() == 0:  # the group join is start-up, not routing
            await asyncio.sleep(0.001)
        started, first = time.perf_counter(), routed()
        while routed() < len(documents):
            await asyncio.sleep(0.005)
        document_s = (
            (time.perf_counter() - started) * len(documents) / max(len(documents) - first, 1)
        )
        await preload(settings, notices)
        # The router starts on the notices while they are preloaded (same event loop):
        # time the rest and scale it, as for the documents, rather than count those as free.
        started, first = time.perf_counter(), routed() - len(documents)
        while routed() < len(documents) + len(notices):
            await asyncio.sleep(0.005)
        notice_s = (time.perf_counter() - started) * len(notices) / max(len(notices) - first, 1)
    return document_s, notice_s


async def main(documents: int, seed: int, repeat: int = 1, arm: str = "both") -> dict[str, object]:
    directory = Directory.load()
    codec = Codec()
    state = Path(tempfile.mkdtemp(prefix="docbus-bench-"))
    docs = [
        d
        for d in DocumentMix(directory, seed=seed).documents(documents)
        if not any(r.startswith("group:") for r in d.recipients)
    ]
    notices = notices_for(docs, directory)
    results: dict[str, object] = {
        "benchmark": "router_tracking",
        "documents": len(docs),
        "notices": len(notices),
    }
    runs: list[dict[str, float]] = []
    for attempt in range(repeat):
        run_result: dict[str, float] = {}
        order = tuple(
            (name, track)
            for name, track in (("untracked", False), ("tracked", True))
            if arm in ("both", name)
        )
        for prefix, track in order if attempt % 2 == 0 else order[::-1]:
            # A broker of its own for each run: Tansu keeps every record in memory, and a
            # broker carrying the earlier runs' topics slows the later ones down.
            async with EmbeddedBroker() as broker:
                layout = TopicLayout(f"bench{attempt}-{prefix}")
                run = Settings(
                    topic_prefix=layout.prefix, state_dir=state / layout.prefix
                ).for_embedded(broker.bootstrap_servers)
                await ensure_bus_topics(run, directory)
                document_s, notice_s = await route_both_phases(
                    run,
                    directory,
                    track=track,
                    documents=[
                        (layout.outbox(d.sender), d.document_id.encode(), codec.encode(d))
                        for d in docs
                    ],
                    notices=[
                        (layout.outbox(o), n.document_id.encode(), codec.encode(n))
                        for o, n in notices
                    ],
                )
            run_result[f"{prefix}_documents_per_s"] = round(len(docs) / document_s)
            run_result[f"{prefix}_notices_per_s"] = round(len(notices) / notice_s)
            run_result[f"{prefix}_records_per_s"] = round(
                (len(docs) + len(notices)) / (document_s + notice_s)
            )
        if arm != "both":  # one arm alone, to profile it
            runs.append({**run_result, "throughput_ratio": 0.0})
            continue
        run_result["throughput_ratio"] = round(
            run_result["tracked_records_per_s"] / run_result["untracked_records_per_s"], 3
        )
        runs.append(run_result)
    ratios = sorted(r["throughput_ratio"] for r in runs)
    median = runs[[r["throughput_ratio"] for r in runs].index(ratios[len(ratios) // 2])]
    results.update(median)
    results["throughput_ratio_runs"] = ratios
    return results


class CollectorClock:
    """Seconds this process spends in the garbage collector (a ``gc.callbacks`` hook)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.collections += 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--arm",
        choices=["both", "tracked", "untracked"],
        default="both",
        help="Run one arm alone (to profile it); no ratio then.",
    )
    args = parser.parse_args()
    clock = CollectorClock()
    gc.callbacks.append(clock)
    result = asyncio.run(main(args.documents, args.seed, args.repeat, args.arm))
    result["gc_seconds"] = round(clock.seconds, 2)  # the whole process: preloading included
    result["gc_collections"] = clock.collections
    print(json.dumps(result))

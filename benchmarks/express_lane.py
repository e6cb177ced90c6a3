"""Benchmark: express latency while the router is saturated by a bulk backlog.

N documents of the workload mix, all made normal priority, wait in the outboxes; a router
process starts on them and routes flat out until they are gone. Meanwhile this process,
idle otherwise, sends express documents (priority 3 and 4, from the Government Office to
an open agency at random) at R a second through the Sender SDK, and a watcher process
reads every inbox's express lane. Latency: from the sender's producer timestamp to the
delivery being readable in the recipient's inbox. Express documents are sent only while
the backlog lasts (the router's ``docbus_documents_routed_total``, scraped every 0.2 s,
says when it is gone). Usage:

    python benchmarks/express_lane.py [--documents N] [--rate R] [--repeat K]
        [--express-process] [--ballast-records B]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from docbus import Keystore, Settings, produce_in_batches, scraped_total
from docbus.directory import Directory
from docbus.process import status_bytes
from producers import Sender, official_letter
from producers.simulation import DocumentMix
from router import ensure_bus_topics
from schemas import BUS_AGENCY, AgencyCode, Codec, TopicLayout, today_vn
from shell import EmbeddedBroker
from shell._express_watch import ExpressWatch
from shell._replay_timeline import percentiles_ms
from shell._router_process import RouterProcess

HUB = "000.00.00.G22"
SCRAPE_S = 0.2
_BALLAST_ROUND = 500_000
#: What the router has done with a record: routed it, or dead-lettered it.
ROUTED = ("docbus_documents_routed_total", "docbus_dead_letters_total")


async def drained_after(url: str, documents: int) -> float:
    """When the router has routed ``documents`` (scraped every 0.2 s, off this loop)."""
    while await asyncio.to_thread(scraped_total, url, ROUTED) < documents:
        await asyncio.sleep(SCRAPE_S)
    return time.monotonic()


@contextlib.asynccontextmanager
async def routers(settings: Settings, split: bool) -> AsyncIterator[RouterProcess]:
    """One router process with both lanes, or (``split``) the bulk lane in one and the
    express lane in another; the one that routes the backlog is yielded."""
    if not split:
        async with RouterProcess(settings) as router:
            yield router
        return
    async with (
        RouterProcess(settings, lanes=["bulk"]) as bulk,
        RouterProcess(settings, lanes=["express"]),
    ):
        yield bulk


async def add_ballast(settings: Settings, inboxes: list[str], records: int) -> None:
    """Fill the inboxes' bulk partitions (which nobody reads here) with ``records`` random
    records of 500 bytes: a broker holding what a long replay leaves in it (the embedded
    broker keeps every record in memory), in the very topics the express lane uses."""
    rng = random.Random(records)  # random bytes: batches may be compressed
    for start in range(0, records, _BALLAST_ROUND):
        count = min(_BALLAST_ROUND, records - start)
        await produce_in_batches(
            settings,
            (
                (inboxes[n % len(inboxes)], str(start + n).encode(), rng.randbytes(500))
                for n in range(count)
            ),
        )


async def one_run(
    documents: int, rate: float, seed: int, split: bool, ballast: int = 0
) -> dict[str, object]:
    directory = Directory.load()
    codec = Codec()
    backlog = [
        dataclasses.replace(d, priority=min(d.priority, 2))
        for d in DocumentMix(directory, seed=seed).documents(documents)
    ]
    codes = [a.code for a in directory.open_at(today_vn())]
    rng = random.Random(seed)
    async with EmbeddedBroker() as broker:
        with tempfile.TemporaryDirectory(prefix="docbus-express-") as state:
            settings = Settings(home=Path(state), metrics_port=0, log_level="ERROR").for_embedded(
                broker.bootstrap_servers
            )
            layout = TopicLayout(settings.topic_prefix)
            Keystore(settings.keys_root).ensure([BUS_AGENCY, *directory.codes()])
            await ensure_bus_topics(settings, directory)
            await add_ballast(settings, [layout.inbox(c) for c in codes], ballast)
            broker_rss = status_bytes(broker.pid, "VmRSS")
            await produce_in_batches(
                settings,
                (
                    (
                        layout.outbox(AgencyCode.parse(d.sender).top_level),
                        d.document_id.encode(),
                        codec.encode(d),
                    )
                    for d in backlog
                ),
            )
            sent = 0
            async with (
                ExpressWatch(settings, [layout.inbox(c) for c in codes]) as watch,
                routers(settings, split) as router,
                Sender(agency=HUB, settings=settings) as sender,
            ):
                assert router.metrics_url is not None
                started = time.monotonic()
                # the bulk router may have begun while the express one was starting
                already = await asyncio.to_thread(scraped_total, router.metrics_url, ROUTED)
                drained = asyncio.create_task(drained_after(router.metrics_url, documents))
                pending: set[asyncio.Task[object]] = set()
                while not drained.done():
                    doc = official_letter(
                        sender=HUB,
                        recipients=[rng.choice([c for c in codes if c != HUB])],
                        subject="Hỏa tốc: báo cáo tình hình",
                        number=str(sent + 1),
                        notation="VPCP-KT",
                        priority=3 + sent % 2,
                    )
                    task = asyncio.create_task(sender.send(doc))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                    sent += 1
                    await asyncio.sleep(1 / rate)
                drained_at = await drained
                await asyncio.gather(*pending)
                await asyncio.sleep(2.0)  # the last express deliveries reach the watcher
    latencies = watch.latencies_ms
    return {
        "backlog_documents": documents,
        "express_process": split,
        "ballast_records": ballast,
        "broker_rss_bytes_before": broker_rss,
        "router_docs_per_s": round((documents - already) / (drained_at - started), 1),
        "express_sent": sent,
        "express_delivered": len(latencies),
        "latency_ms": {
            **percentiles_ms([ms / 1000 for ms in latencies]),
            "max": max(latencies),
        },
    }


async def main(
    documents: int, rate: float, repeat: int, seed: int, split: bool, ballast: int
) -> dict[str, object]:
    runs = [await one_run(documents, rate, seed + n, split, ballast) for n in range(repeat)]
    return {
        "benchmark": "express_lane",
        "documents": documents,
        "rate_per_s": rate,
        "p99_ms_median": statistics.median(r["latency_ms"]["p99"] for r in runs),  # type: ignore[index]
        "runs": runs,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=60_000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--express-process",
        action="store_true",
        help="run the router's express lane in a process of its own",
    )
    parser.add_argument(
        "--ballast-records",
        type=int,
        default=0,
        help="first fill the inboxes' bulk partitions with this many 500-byte records",
    )
    args = parser.parse_args()
    print(
        json.dumps(
            asyncio.run(
                main(
                    args.documents,
                    args.rate,
                    args.repeat,
                    args.seed,
                    args.express_process,
                    args.ballast_records,
                )
            )
        )
    )

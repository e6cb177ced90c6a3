"""Benchmark: one router process against two in one consumer group, on the same load.

Each turn gets topics of its own on one embedded broker: K router processes (K = 1,
then 2; alternating which goes first) start in one group and settle (their group join
takes 1.5 s on this broker), then N documents from the workload mix are preloaded into
the outboxes. Each router streams its routed count every 20 ms (it yields to its event
loop every 250 records, so the counts move in small steps); the rate is taken between
10% and 90% of N, interpolated, so start-up and the last stragglers do not count.
Usage:

    python benchmarks/router_scale_out.py [--documents N] [--repeat R] [--tracking]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import statistics
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

from docbus import Settings, produce_in_batches
from docbus.directory import Directory
from docbus.process import tune_service_heap
from producers.simulation import DocumentMix
from router import Router, ensure_bus_topics
from schemas import Codec, TopicLayout
from shell import EmbeddedBroker

SAMPLE_S = 0.020
SETTLE_S = 4.0  # two group joins of 1.5 s each on the embedded broker, and a margin


def run_router(conn: Connection, settings: Settings, track: bool) -> None:
    """A child: one router in the turn's group, its routed count streamed to the parent."""
    asyncio.run(_router(conn, settings, track))


async def _router(conn: Connection, settings: Settings, track: bool) -> None:
    router = Router(
        settings=settings, directory=Directory.load(), track=track, follow_directory=False
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_reader(conn.fileno(), lambda: (conn.recv(), stop.set()))
    async with router:
        tune_service_heap()
        conn.send(("started", time.monotonic(), 0))
        while not stop.is_set():
            stats = router.stats
            conn.send(("count", time.monotonic(), stats.documents_routed + stats.dead_lettered))
            await asyncio.sleep(SAMPLE_S)
    loop.remove_reader(conn.fileno())


def summed(samples: list[list[tuple[float, int]]]) -> list[tuple[float, int]]:
    """The routers' counts added up at every moment one of them was sampled."""
    moments = sorted(at for own in samples for at, _ in own)
    total = []
    for moment in moments:
        counts = [max((c for at, c in own if at <= moment), default=0) for own in samples]
        total.append((moment, sum(counts)))
    return total


def crossing(series: list[tuple[float, int]], level: float) -> float:
    """When the summed count first reaches ``level``, interpolated between two samples."""
    for (t0, c0), (t1, c1) in itertools.pairwise(series):
        if c0 < level <= c1:
            return t0 + (t1 - t0) * (level - c0) / (c1 - c0)
    raise ValueError(f"the count never reached {level}")


async def one_turn(
    routers: int, records: list[tuple[str, bytes, bytes]], prefix: str, state: Path, track: bool
) -> float:
    """Documents per second routed by ``routers`` processes in one group, 10% to 90%."""
    context = multiprocessing.get_context("spawn")
    async with EmbeddedBroker() as broker:
        settings = Settings(topic_prefix=prefix, home=state).for_embedded(broker.bootstrap_servers)
        directory = Directory.load()
        await ensure_bus_topics(settings, directory)
        pipes, processes = [], []
        for i in range(routers):
            parent, child = context.Pipe()
            own = settings.replace(home=state / f"{prefix}-router-{i}")
            process = context.Process(target=run_router, args=(child, own, track))
            process.start()
            pipes.append(parent)
            processes.append(process)
        for conn in pipes:
            await asyncio.to_thread(conn.recv)  # started
        await asyncio.sleep(SETTLE_S)
        layout = TopicLayout(prefix)
        await produce_in_batches(
            settings, [(layout.outbox(owner), key, value) for owner, key, value in records]
        )
        samples: list[list[tuple[float, int]]] = [[] for _ in pipes]
        while sum(own[-1][1] if own else 0 for own in samples) < len(records):
            for own, conn in zip(samples, pipes, strict=True):
                while conn.poll():
                    kind, at, count = conn.recv()
                    if kind == "count":
                        own.append((at, count))
            await asyncio.sleep(SAMPLE_S / 2)
        for conn in pipes:
            conn.send("stop")
        for process in processes:
            await asyncio.to_thread(process.join, 30)
    series = summed(samples)
    low, high = 0.1 * len(records), 0.9 * len(records)
    return (high - low) / (crossing(series, high) - crossing(series, low))


async def main(documents: int, repeat: int, seed: int, track: bool) -> dict[str, object]:
    codec = Codec()
    directory = Directory.load()
    records = [
        (d.sender, d.document_id.encode(), codec.encode(d))
        for d in DocumentMix(directory, seed=seed).documents(documents)
    ]
    state = Path(tempfile.mkdtemp(prefix="docbus-scale-"))
    runs = []
    for attempt in range(repeat):
        run: dict[str, float] = {}
        order = (1, 2) if attempt % 2 == 0 else (2, 1)
        for routers in order:
            rate = await one_turn(routers, records, f"scale{attempt}-{routers}", state, track)
            run[f"routers_{routers}_docs_per_s"] = round(rate, 1)
        run["speedup"] = round(run["routers_2_docs_per_s"] / run["routers_1_docs_per_s"], 3)
        runs.append(run)
    return {
        "benchmark": "router_scale_out",
        "documents": documents,
        "tracking": track,
        "routers_1_docs_per_s": statistics.median(r["routers_1_docs_per_s"] for r in runs),
        "routers_2_docs_per_s": statistics.median(r["routers_2_docs_per_s"] for r in runs),
        "speedup": statistics.median(r["speedup"] for r in runs),
        "runs": runs,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=40_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--tracking", action="store_true", help="Each router tracks (its own SQLite store)."
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.documents, args.repeat, args.seed, args.tracking))))

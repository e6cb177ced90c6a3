"""Benchmark: the router's throughput with and without delivery tracking, side by side.

This machine's speed drifts by up to a third within seconds (the same pure-Python loop
takes 0.17 to 0.33 s from one second to the next) and its two cores differ, so two arms
timed one after the other, or side by side on different cores, compare two different
machines. Here both arms run **at the same time on one core**: one router process per
arm, each on its own topics of one embedded broker, both pinned to core 0 (the broker,
each tracking writer and this process to core 1). Each routes the same 20,000 documents
and then their 01 and 03 notices, after a warm-up of 2,000 more. Each phase is preloaded
while both routers are paused; both resume together and are compared over the window up
to the first one's finish (the other's count interpolated between its batch ends).

Each arm samples its routed count and CPU time (its router process, and its tracking
writer) every 10 ms. The ratio is tracked records/s over untracked records/s, the two
phases combined by their record counts. ``--arms untracked,untracked`` runs the method
against itself (its own bias and spread); ``--arms tracked`` runs one arm alone (to
profile it with ``py-spy record --subprocesses``). Usage:

    python benchmarks/router_tracking.py [--documents N] [--repeat R] [--arms A,B] [--seed S]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from docbus import Settings, produce_in_batches
from docbus.directory import Directory
from docbus.process import cpu_seconds, tune_service_heap
from producers.simulation import DocumentMix
from router import Router, ensure_bus_topics
from schemas import Codec, Document, StatusNotice, TopicLayout
from shell import EmbeddedBroker

SAMPLE_S = 0.010
#: Both routers share one core, so they see the same core at the same moments; the
#: broker, the tracking writer and this process get the other.
ROUTER_CORE, OTHER_CORE = 0, 1
Record = tuple[str, bytes, bytes]  # topic, key, value
Sample = tuple[float, int, float, float]  # monotonic time, routed, router CPU s, writer CPU s


def notices_for(documents: list[Document]) -> list[tuple[str, StatusNotice]]:
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


def child_pids() -> list[int]:
    """This process's live children (the tracking writer, if any)."""
    tasks = Path(f"/proc/{os.getpid()}/task").iterdir()
    return [int(pid) for task in tasks for pid in (task / "children").read_text().split()]


def children_cpu_seconds() -> float:
    """CPU seconds of this process's live children."""
    total = 0.0
    for pid in child_pids():
        with contextlib.suppress(FileNotFoundError):  # it exited between the two reads
            total += cpu_seconds(pid)
    return total


def run_arm(conn: Connection, settings: Settings, track: bool, targets: list[int]) -> None:
    """A child process: one router, paused and resumed by the parent, sampled all along."""
    os.sched_setaffinity(0, {ROUTER_CORE})
    asyncio.run(_arm(conn, settings, track, targets))


async def _arm(conn: Connection, settings: Settings, track: bool, targets: list[int]) -> None:
    router = Router(
        settings=settings, directory=Directory.load(), track=track, follow_directory=False
    )
    samples: list[Sample] = []
    commands: asyncio.Queue[str] = asyncio.Queue()

    async def sample() -> None:
        pending = list(targets)
        while True:
            stats = router.stats
            count = stats.documents_routed + stats.notices_routed + stats.dead_lettered
            samples.append(
                (time.monotonic(), count, cpu_seconds(os.getpid()), children_cpu_seconds())
            )
            if pending and count >= pending[0]:
                conn.send(pending.pop(0))
            await asyncio.sleep(SAMPLE_S)

    loop = asyncio.get_running_loop()
    loop.add_reader(conn.fileno(), lambda: commands.put_nowait(conn.recv()))
    async with router:
        tune_service_heap()  # as `docbus router` does once started
        for pid in child_pids():  # the tracking writer: with the broker, not the routers
            os.sched_setaffinity(pid, {OTHER_CORE})
        sampler = asyncio.create_task(sample())
        conn.send("started")
        while (command := await commands.get()) != "stop":
            if command == "pause":  # while the parent preloads a phase
                router.pause_routing()
            else:
                router.resume_routing()
            conn.send(command)
        sampler.cancel()
    loop.remove_reader(conn.fileno())
    conn.send(samples)


@dataclass(frozen=True)
class Arm:
    """One side of the comparison: its name, whether it tracks, its topics."""

    name: str
    track: bool
    layout: TopicLayout


def finished_at(samples: list[Sample], count: int) -> Sample:
    """The first sample at or past ``count`` routed records."""
    return next(s for s in samples if s[1] >= count)


def routed_at(samples: list[Sample], moment: float) -> float:
    """Records routed by ``moment``, interpolated between the two batch ends around it.

    The router routes a fetched batch (up to 5,000 records) without yielding, so its
    count moves in steps; the first sample after a step is that batch's end.
    """
    ends = [s for previous, s in itertools.pairwise(samples) if s[1] != previous[1]]
    before = [s for s in ends if s[0] <= moment]
    after = [s for s in ends if s[0] > moment]
    low = before[-1] if before else samples[0]
    if not after:
        return float(low[1])
    high = after[0]
    return low[1] + (high[1] - low[1]) * (moment - low[0]) / (high[0] - low[0])


def phase_result(
    samples: dict[str, list[Sample]], resumed: float, start_count: int, end_count: int
) -> dict[str, object]:
    """Each arm's records/s from the common start to the first finish; CPU a record."""
    finish = min(finished_at(arm, end_count)[0] for arm in samples.values())
    out: dict[str, object] = {"window_s": round(finish - resumed, 3)}
    records = end_count - start_count
    for name, arm in samples.items():
        first, last = finished_at(arm, start_count), finished_at(arm, end_count)
        out[name] = {
            "per_s": (routed_at(arm, finish) - start_count) / (finish - resumed),
            "router_cpu_us": 1e6 * (last[2] - first[2]) / records,
            "writer_cpu_us": 1e6 * (last[3] - first[3]) / records,
        }
    return out


@dataclass(frozen=True)
class Phase:
    """Records preloaded into every arm's outboxes at once; timed unless a warm-up."""

    name: str
    records: list[tuple[str, bytes, bytes]]  # outbox owner, key, value
    timed: bool = True


def phases_for(warmup: list[Document], documents: list[Document]) -> list[Phase]:
    """A warm-up (its documents, then their notices), then the documents, then their notices.

    The warm-up pays each router's first-use costs (metadata for 89 inbox topics, caches)
    before any timing: without it the arm that started routing later paid them inside
    the window, and two identical arms differed by a third in the documents phase.
    """
    codec = Codec()

    def encoded_documents(docs: list[Document]) -> list[tuple[str, bytes, bytes]]:
        return [(d.sender, d.document_id.encode(), codec.encode(d)) for d in docs]

    def encoded_notices(docs: list[Document]) -> list[tuple[str, bytes, bytes]]:
        return [(o, n.document_id.encode(), codec.encode(n)) for o, n in notices_for(docs)]

    return [
        Phase("warmup_documents", encoded_documents(warmup), timed=False),
        Phase("warmup_notices", encoded_notices(warmup), timed=False),
        Phase("documents", encoded_documents(documents)),
        Phase("notices", encoded_notices(documents)),
    ]


async def one_run(arms: list[Arm], directory: Directory, phases: list[Phase], state: Path) -> dict:
    """Both arms side by side on one fresh broker; each timed phase over the common window."""
    targets = list(itertools.accumulate(len(p.records) for p in phases))
    context = multiprocessing.get_context("spawn")
    os.sched_setaffinity(0, {OTHER_CORE})
    async with EmbeddedBroker() as broker:
        os.sched_setaffinity(broker.pid, {OTHER_CORE})
        settings = {}
        for arm in arms:
            settings[arm.name] = Settings(
                topic_prefix=arm.layout.prefix, home=state / arm.layout.prefix
            ).for_embedded(broker.bootstrap_servers)
            await ensure_bus_topics(settings[arm.name], directory)
        pipes, processes = {}, []
        for arm in arms:
            parent, child = context.Pipe()
            process = context.Process(
                target=run_arm, args=(child, settings[arm.name], arm.track, targets)
            )
            process.start()
            pipes[arm.name] = parent
            processes.append(process)
        for conn in pipes.values():
            assert await asyncio.to_thread(conn.recv) == "started"
        resumed = {}
        for phase in phases:
            await asyncio.gather(*(command(conn, "pause") for conn in pipes.values()))
            await asyncio.gather(
                *(
                    produce_in_batches(
                        settings[arm.name],
                        [(arm.layout.outbox(o), key, value) for o, key, value in phase.records],
                    )
                    for arm in arms
                )
            )
            resumed[phase.name] = time.monotonic()
            await asyncio.gather(*(command(conn, "resume") for conn in pipes.values()))
            for conn in pipes.values():
                await asyncio.to_thread(conn.recv)  # the phase's target reached
        samples = {}
        for name, conn in pipes.items():
            conn.send("stop")
            samples[name] = await asyncio.to_thread(conn.recv)
        for process in processes:
            process.join(30)
    return {
        phase.name: phase_result(samples, resumed[phase.name], start, end)
        for phase, start, end in zip(phases, [0, *targets], targets, strict=False)
        if phase.timed
    }


async def command(conn: Connection, what: str) -> None:
    """Send an arm ``what`` (pause, resume) and wait until it has done it."""
    conn.send(what)
    assert await asyncio.to_thread(conn.recv) == what


def combine(run: dict[str, dict], arm: str, counts: dict[str, int]) -> dict[str, float]:
    """An arm's records/s over both phases (weighted by their record counts), CPU a record."""
    seconds = sum(counts[p] / run[p][arm]["per_s"] for p in counts)
    out = {"records_per_s": round(sum(counts.values()) / seconds)}
    for phase in counts:
        r = run[phase][arm]
        out[f"{phase}_per_s"] = round(r["per_s"])
        out[f"{phase}_router_cpu_us"] = round(r["router_cpu_us"], 1)
        out[f"{phase}_writer_cpu_us"] = round(r["writer_cpu_us"], 1)
    return out


async def main(documents: int, seed: int, repeat: int, kinds: list[str]) -> dict[str, object]:
    directory = Directory.load()
    mix = [
        d
        for d in DocumentMix(directory, seed=seed).documents(documents + documents // 10)
        if not any(r.startswith("group:") for r in d.recipients)
    ]
    warmup, docs = mix[: documents // 10], mix[documents // 10 :]
    phases = phases_for(warmup, docs)
    counts = {p.name: len(p.records) for p in phases if p.timed}
    names = [f"{kind}{i}" if kinds.count(kind) > 1 else kind for i, kind in enumerate(kinds)]
    state = Path(tempfile.mkdtemp(prefix="docbus-bench-"))
    runs = []
    for attempt in range(repeat):
        # Alternate which arm's topics are preloaded first and listed first on the broker.
        order = list(zip(names, kinds, strict=True))
        arms = [
            Arm(name, kind == "tracked", TopicLayout(f"bench{attempt}-{name}"))
            for name, kind in (order if attempt % 2 == 0 else order[::-1])
        ]
        raw = await one_run(arms, directory, phases, state)
        run: dict[str, object] = {name: combine(raw, name, counts) for name in names}
        run["windows_s"] = {p: raw[p]["window_s"] for p in counts}
        if len(names) == 2:
            a, b = (run[n]["records_per_s"] for n in names)
            run["ratio"] = round(a / b, 3)
        runs.append(run)
    result: dict[str, object] = {
        "benchmark": "router_tracking",
        "method": "arms side by side",
        "arms": names,
        **counts,
    }
    if len(names) == 2:
        ratios = [r["ratio"] for r in runs]
        result["ratio_median"] = statistics.median(ratios)
        result["ratio_runs"] = sorted(ratios)
    result["runs"] = runs
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--arms",
        default="tracked,untracked",
        help="Comma-separated arms run side by side: tracked, untracked (ratio = first/second).",
    )
    args = parser.parse_args()
    kinds = args.arms.split(",")
    if not 1 <= len(kinds) <= 2 or any(k not in ("tracked", "untracked") for k in kinds):
        parser.error("--arms takes one or two of: tracked, untracked")
    print(json.dumps(asyncio.run(main(args.documents, args.seed, args.repeat, kinds))))

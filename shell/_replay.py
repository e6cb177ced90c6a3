"""``docbus replay``: a year of the workload model pushed through the whole bus, measured.

Senders, a router (a process for each lane) and every agency's receiver run for real
on the given broker. The senders model and send each span's documents in a process of
their own (:mod:`shell._replay_senders`; express documents from a further one), so this
process only receives and answers. The documents and the receivers' answers come from
:class:`producers.YearWorkload`. Each document is dated when it is sent, so today's
directory routes it. At ``--speed max`` documents go as fast as the bus takes them
(at most 50,000 deliveries ahead of the receivers) and each recipient's answers follow
its delivery at once, in order; at ``--speed N`` the model's times and delays are
divided by N.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from consumers import ReceivedDocument, Receiver, Reply
from consumers.simulation import DeliveryLedger
from docbus import Settings, all_finished
from docbus.directory import Directory
from docbus.process import CpuMeter, tune_service_heap
from producers.simulation import Answer, ReceiverBehaviour, YearWorkload
from router import ensure_bus_topics
from schemas import Codec, StatusCode, TopicLayout, today_vn
from shell._broker import EmbeddedBroker
from shell._child import stop_fork_server
from shell._express_watch import ExpressWatch
from shell._own_run import delete_prefixed_topics
from shell._priority import BULK_NICE, thread_at_lower_priority
from shell._replay_model import Expected, answers_for
from shell._replay_senders import Clock, ReplaySenders, SendingPlan, SentSpan
from shell._replay_timeline import Timeline
from shell._router_process import RouterProcess
from shell._simulated_bus import SimulatedBus, bus_home, simulated_bus, wait_complete

__all__ = [
    "SPAN_DOCUMENTS",
    "ReplayProgress",
    "ReplaySummary",
    "day_spans",
    "run_replay",
    "spans_of_documents",
]

#: The most documents one span of a replay holds when the replay picks its spans: the
#: broker keeps a span's records until the span is done (0.8 GiB for 300,000). Spans of
#: a million would save the year 30 set-ups of 7 s, but the broker then spends twice the
#: CPU a document and the express p99 passes 300 ms (BENCHMARKS.md, "Replay").
SPAN_DOCUMENTS = 300_000

#: Called with (documents sent, documents in all, deliveries received) as the run goes.
ReplayProgress = Callable[[int, int, int], None]

_MEMORY_EVERY_S = 5.0  # how often the router's memory is sampled
_TICK_S = 0.2  # how often progress is told and refusals looked at while sending


@dataclass(frozen=True)
class ReplaySummary:
    """What a replay sent, what arrived, and how fast."""

    year: int
    scale: float
    seed: int
    speed: str
    documents: int
    deliveries: int
    status_notices: int
    deliveries_received: int
    status_notices_returned: int
    lost: int
    duplicates_delivered: int
    dead_letters: int
    elapsed_s: float
    docs_per_s: float
    #: CPU seconds of the run: ``this_process`` (the simulated agencies), ``children``
    #: (routers, helpers), ``broker`` (the embedded one; None on a broker elsewhere), total.
    cpu_s: dict[str, float | None]
    #: Every process's CPU per document, in ms (None when the broker is not ours to read).
    cpu_ms_per_doc: float | None
    #: The ``children`` of ``cpu_s`` by process, summed over the spans: each router lane
    #: (with the tracking writer it started), the express watcher, the express senders.
    cpu_s_by_helper: dict[str, float]
    latency_ms: dict[str, Any]
    #: Express deliveries from the sender's outbox to the recipient's inbox, read by a
    #: process of its own (the bus's part of the express latency): count, percentiles, and
    #: percentiles of the part before the router produced them (``until_routed``).
    express_inbox_latency_ms: dict[str, Any]
    per_agency: dict[str, int]
    broker_peak_rss_bytes: int | None
    #: The router process's resident memory, sampled every few seconds: first, peak, last.
    router_rss_bytes: dict[str, int]
    completed: bool
    #: How many spans of days the year was replayed in (each on topics of its own).
    segments: int = 1
    #: Each second of the run: documents sent, deliveries, their p50 and p99 latency.
    timeline: list[dict[str, Any]] = field(default_factory=list, repr=False)
    #: The router's memory samples: second of the run, documents sent by then, bytes.
    router_memory: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The summary as one JSON object (without the per-second timeline and samples)."""
        out = asdict(self)
        del out["timeline"], out["router_memory"]
        return out


class _ModelClerk:
    """A receiving agency answering each delivery as the model says (delays over the speed)."""

    def __init__(
        self,
        receiver: Receiver,
        ledger: DeliveryLedger,
        timeline: Timeline,
        behaviour: ReceiverBehaviour,
        seed: int,
        speed: float | None,
    ) -> None:
        self._speed = speed
        self._receiver = receiver
        self._ledger = ledger
        self._timeline = timeline
        self._behaviour = behaviour
        self._seed = seed

    async def run(self) -> None:
        async with asyncio.TaskGroup() as answering:
            async for batch in self._receiver.batches():
                plans = []
                for received in batch:
                    self._ledger.delivered(received.document.document_id, received.recipient)
                    self._timeline.delivered(received.document)
                    answers = answers_for(
                        self._behaviour, self._seed, received.document, received.recipient
                    )
                    plans.append((received, answers))
                if self._speed is None:  # every answer of the batch at once, signed together
                    answering.create_task(self._receiver.notify_many(_replies(plans)))
                else:
                    for received, answers in plans:
                        answering.create_task(self._answer(received, answers, self._speed))

    async def _answer(
        self, received: ReceivedDocument, answers: list[Answer], speed: float
    ) -> None:
        """Each answer in order, after the model's delay divided by ``speed``."""
        previous = 0.0
        for answer in answers:
            await asyncio.sleep((answer.delay_s - previous) / speed)
            previous = answer.delay_s
            if answer.code != StatusCode.ARRIVED:  # the receiver SDK sent it on delivery
                await received.notify(answer.code, answer.description)


def _replies(plans: list[tuple[ReceivedDocument, list[Answer]]]) -> list[Reply]:
    """Every answer of ``plans`` but arrival (the receiver SDK sent it on delivery), each
    delivery's in order."""
    return [
        Reply(received, answer.code, answer.description)
        for received, answers in plans
        for answer in answers
        if answer.code != StatusCode.ARRIVED
    ]


async def run_replay(
    settings: Settings,
    *,
    year: int = 2024,
    scale: float = 0.001,
    seed: int = 2024,
    broker: EmbeddedBroker | None = None,
    speed: float | None = None,
    timeout_s: float = 600.0,
    progress: ReplayProgress | None = None,
    freeze_heap: bool = False,
    segments: int | None = 1,
    only_span: int | None = None,
    span_documents: int = SPAN_DOCUMENTS,
) -> ReplaySummary:
    """Replay ``year`` at ``scale`` through the whole bus; summarise.

    ``speed`` None sends as fast as the bus takes it; a number N compresses the model's
    time N times (a document modelled an hour after the first is sent 3600/N seconds
    after it; each answer follows its delivery after the model's delay over N), so the
    calendar keeps its shape. ``broker``, when embedded, is asked for its peak memory.
    ``segments`` N > 1 replays the year in N consecutive spans of days, each on topics of
    its own (``<prefix>-p<i>``) deleted when the span is complete, so the broker holds
    one span's records at a time; the elapsed time includes each span's start-up.
    ``segments`` None cuts the year by :func:`spans_of_documents`: consecutive spans of at
    most ``span_documents`` (:data:`SPAN_DOCUMENTS`) documents (one span at small scales; a whole year at full
    scale in 43).
    ``only_span`` K replays the K-th of those spans alone (1-based): the largest span's
    broker peak is the whole year's, measured in a fraction of the time.
    """
    if speed is not None and speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    directory = Directory.load()
    today = today_vn()
    model = YearWorkload(year, directory=directory, scale=scale, seed=seed, agencies_at=today)
    if segments is not None and segments < 1:
        raise ValueError(f"segments must be at least 1, got {segments}")
    cut = (
        spans_of_documents(model.days, span_documents)
        if segments is None
        else day_spans(list(model.days), segments)
    )
    segments = len(cut)
    if only_span is not None and not 1 <= only_span <= segments:
        raise ValueError(f"only_span must be between 1 and {segments}, got {only_span}")
    run = _Run(
        model=model,
        year=year,
        agencies_at=today,
        directory=directory,
        codes=[a.code for a in directory.open_at(today)],
        behaviour=ReceiverBehaviour(),
        seed=seed,
        speed=speed,
        timeout_s=timeout_s,
        progress=progress,
        freeze_heap=freeze_heap,
    )
    spans = list(enumerate(cut, 1))
    if only_span is not None:
        spans = [spans[only_span - 1]]
    run.planned = sum(model.days[day] for _, days in spans for day in days)
    # The helpers' fork server is this run's alone and ends with it: what its helpers
    # used is then among this process's reaped children, and counted.
    stop_fork_server()
    meter = CpuMeter.start({"broker": broker.pid if broker is not None else None})
    deleting: asyncio.Task[None] | None = None  # the last span's topics, while the next starts
    try:
        for index, days in spans:
            part = settings.replace(topic_prefix=f"{settings.topic_prefix}-p{index}")
            await run.replay(part if segments > 1 else settings, days)
            if deleting is not None:
                await deleting
            if segments > 1:  # and again what a client still closing made the broker create
                deleting = asyncio.create_task(delete_prefixed_topics(part, rounds=3))
    finally:
        if deleting is not None:
            await deleting
        stop_fork_server()
    elapsed = time.monotonic() - run.timeline.started
    cpu = meter.spent(names=("broker",))
    expected = run.expected
    return ReplaySummary(
        year=year,
        scale=scale,
        seed=seed,
        speed="max" if speed is None else f"{speed:g}",
        documents=expected.documents,
        deliveries=expected.deliveries,
        status_notices=expected.notices,
        deliveries_received=run.received,
        status_notices_returned=run.notices,
        lost=max(expected.deliveries - run.received, 0),
        duplicates_delivered=run.duplicates,
        dead_letters=run.dead_letters,
        elapsed_s=round(elapsed, 3),
        docs_per_s=round(expected.documents / elapsed, 1) if elapsed > 0 else 0.0,
        cpu_s=cpu,
        cpu_ms_per_doc=(
            round((cpu["total"] or 0.0) * 1000 / expected.documents, 3)
            if expected.documents and broker is not None
            else None
        ),
        latency_ms=run.timeline.latency_ms(),
        express_inbox_latency_ms=run.timeline.express_latency_ms(),
        per_agency=dict(expected.per_agency.most_common()),
        broker_peak_rss_bytes=broker.peak_rss_bytes() if broker is not None else None,
        cpu_s_by_helper={name: round(cpu, 2) for name, cpu in run.helper_cpu_s.items()},
        router_rss_bytes=_memory_summary(run.router_memory),
        completed=run.completed,
        segments=segments,
        timeline=run.timeline.per_second(),
        router_memory=run.router_memory,
    )


def _memory_summary(samples: list[dict[str, Any]]) -> dict[str, int]:
    sizes = [s["router_rss_bytes"] for s in samples if s["router_rss_bytes"]]
    if not sizes:
        return {"samples": 0}
    return {"samples": len(sizes), "first": sizes[0], "peak": max(sizes), "last": sizes[-1]}


def spans_of_documents(
    days: Mapping[dt.date, int], most: int = SPAN_DOCUMENTS
) -> list[list[dt.date]]:
    """``days`` (date: documents) cut into consecutive spans of at most ``most`` documents,
    each as full as the days allow (a day over ``most`` is a span alone)."""
    spans: list[list[dt.date]] = [[]]
    held = 0
    for day in sorted(days):
        if spans[-1] and held + days[day] > most:
            spans.append([])
            held = 0
        spans[-1].append(day)
        held += days[day]
    return spans


def day_spans(days: list[dt.date], count: int) -> list[list[dt.date]]:
    """``days`` cut into ``count`` consecutive spans of (nearly) equal length."""
    count = min(count, len(days))
    cuts = [round(i * len(days) / count) for i in range(count + 1)]
    return [days[a:b] for a, b in itertools.pairwise(cuts)]


@dataclass
class _Run:
    """One replay, span after span: what it sent, what came back, over all spans."""

    model: YearWorkload
    year: int
    agencies_at: dt.date
    directory: Directory
    codes: list[str]
    behaviour: ReceiverBehaviour
    seed: int
    speed: float | None
    timeout_s: float
    progress: ReplayProgress | None
    freeze_heap: bool
    timeline: Timeline = field(default_factory=Timeline)
    expected: Expected = field(default_factory=Expected)
    received: int = 0
    notices: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    helper_cpu_s: collections.Counter[str] = field(default_factory=collections.Counter)
    router_memory: list[dict[str, Any]] = field(default_factory=list)
    completed: bool = True
    #: Documents the spans to replay hold (the progress bar's total).
    planned: int = 0
    _begun: bool = False
    #: At a set speed, the model time the run's start stands for (from the first span).
    _model_origin: dt.datetime | None = None

    async def replay(self, settings: Settings, days: list[dt.date]) -> None:
        """Send ``days``' documents through a bus of their own and wait for every answer."""
        ledger = DeliveryLedger()
        layout = TopicLayout(settings.topic_prefix)
        plan = SendingPlan(
            year=self.year,
            scale=self.model.scale,
            seed=self.seed,
            agencies_at=self.agencies_at,
            days=tuple(days),
            speed=self.speed,
            behaviour=self.behaviour,
            freeze_heap=self.freeze_heap,
        )
        await ensure_bus_topics(settings, self.directory)  # before the watch subscribes
        with bus_home(settings, self.directory) as settings:
            # The bus, the watch and the senders start together (each spawns processes and
            # joins groups: seconds a span); they stop in the reverse order of the stacks.
            async with (
                contextlib.AsyncExitStack() as bus_stack,
                contextlib.AsyncExitStack() as watch_stack,
                contextlib.AsyncExitStack() as senders_stack,
            ):
                bus, watch, senders = await all_finished(
                    bus_stack.enter_async_context(
                        simulated_bus(
                            settings,
                            directory=self.directory,
                            codec=Codec(),
                            codes=self.codes,
                            ledger=ledger,
                            clerk=lambda r, i: _ModelClerk(
                                r, ledger, self.timeline, self.behaviour, self.seed, self.speed
                            ),
                            with_senders=False,
                            prepared=True,
                        )
                    ),
                    watch_stack.enter_async_context(
                        ExpressWatch(settings, [layout.inbox(code) for code in self.codes])
                    ),
                    senders_stack.enter_async_context(ReplaySenders(settings, self.codes, plan)),
                )
                span, completed = await self._run_span(bus, senders, ledger)
        assert bus.router.totals is not None
        self._model_origin = span.model_origin
        self.expected.merge(span.expected)
        self.timeline.sent_per_second.update(span.per_second)
        self.received += len(ledger.received)
        self.notices += len(ledger.notices)
        self.duplicates += ledger.duplicates
        self.dead_letters += bus.router.totals.dead_lettered
        for helper in (bus.router, watch, senders):
            self.helper_cpu_s.update(getattr(helper, "cpu_s", {}))
        self.timeline.express_arrived(watch.arrivals)
        self.completed = self.completed and completed

    async def _run_span(
        self, bus: SimulatedBus, senders: ReplaySenders, ledger: DeliveryLedger
    ) -> tuple[SentSpan, bool]:
        """Send the span and wait for every answer: what was sent, and whether all came."""
        if self.freeze_heap:
            tune_service_heap()
        if not self._begun:  # the clock starts with the first span's first document
            self.timeline.started = time.monotonic()
            self._begun = True
        sampling = asyncio.create_task(self._sample_router(bus.router, senders))
        try:
            # The simulated agencies stand for machines of their own: here they give
            # way to the broker and the express lane, as the bulk lane does.
            with thread_at_lower_priority(BULK_NICE):
                senders.go(Clock(self.timeline.started_wall, self._model_origin))
                while not senders.done:
                    senders.received(len(ledger.received))
                    self._tick(ledger, senders.sent)
                    bus.refusals.check()
                    await asyncio.sleep(_TICK_S)
                span = await senders.finish()
                expected = span.expected
                ledger.expect(
                    deliveries=expected.deliveries, notices=expected.notices, rejections=0
                )
                completed = await wait_complete(
                    ledger,
                    self.timeout_s,
                    None if self.progress is None else lambda: self._tick(ledger),
                    bus.refusals,
                )
        finally:
            sampling.cancel()
        return span, completed

    async def _sample_router(self, router: RouterProcess, senders: ReplaySenders) -> None:
        """Every few seconds, the router's resident memory against the documents sent."""
        while True:
            self.router_memory.append(
                {
                    "second": round(time.monotonic() - self.timeline.started, 1),
                    "documents_sent": self.expected.documents + senders.sent,
                    "router_rss_bytes": router.rss_bytes(),
                }
            )
            await asyncio.sleep(_MEMORY_EVERY_S)

    def _tick(self, ledger: DeliveryLedger, sending: int = 0) -> None:
        """Tell the progress: documents sent (``sending`` of them in this span so far)."""
        if self.progress is not None:
            sent = self.expected.documents + sending
            self.progress(sent, self.planned, self.received + len(ledger.received))

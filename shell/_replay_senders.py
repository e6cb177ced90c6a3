"""The replay's senders, in a process of their own: the span's documents modelled and sent.

A real agency sends from its own machine. In one process with every agency's receiver
and clerk, the replay's event loop was the run's bottleneck: at full scale it used 0.90
of a core, modelling, signing and sending as well as receiving and answering, while the
whole run used 1.62 of 2. Here a process models the span's documents from the workload
(the same seed gives the same documents anywhere), sends them through each agency's
sender SDK (express ones through :class:`~shell._express_senders.ExpressSenders`, a
process of its own) and counts what they should produce; the replay's own process only
receives and answers.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import datetime as dt
import multiprocessing
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from docbus import Settings, make_producer, start_producer
from docbus.directory import Directory
from docbus.process import tune_service_heap
from producers import Sender
from producers.simulation import ReceiverBehaviour, YearWorkload
from schemas import Codec, Document, is_express
from shell._child import ChildFailed, HelperProcess, Ready, run_child
from shell._express_senders import ExpressSenders
from shell._priority import BULK_NICE, thread_at_lower_priority
from shell._replay_model import Expected

__all__ = ["ReplaySenders", "SendingPlan", "SentSpan"]

_CHUNK = 1000  # documents sent together, awaited before the next
#: The child yields to its event loop every this many documents it models: building a
#: chunk at once held its loop for 100-400 ms, and the sends' acknowledgements waited.
_YIELD_EVERY = 100
_PACING_S = 0.02  # at a set speed, documents due within this are sent together
#: How many deliveries the senders may be ahead of what the receivers were handed. A
#: replay sent unbounded ran minutes ahead of its answers at full scale: the router's
#: tracking cache (200,000 deliveries) had forgotten most deliveries by the time their
#: notices came, and read each back from its store. A real agency's answers come hours
#: later; that is the store's work, not what a throughput run measures.
MAX_DELIVERIES_AHEAD = 50_000
_AHEAD_WAIT_S = 0.05


@dataclass(frozen=True)
class SendingPlan:
    """The documents of one span: the workload's (year, scale, seed, agencies of the day)
    on ``days``, sent as fast as acknowledged (``speed`` None) or at ``speed`` times the
    model's pace."""

    year: int
    scale: float
    seed: int
    agencies_at: dt.date
    days: tuple[dt.date, ...]
    speed: float | None = None
    behaviour: ReceiverBehaviour = field(default_factory=ReceiverBehaviour)
    freeze_heap: bool = False
    max_ahead: int = MAX_DELIVERIES_AHEAD


@dataclass(frozen=True)
class Clock:
    """When the run started (wall-clock seconds) and, at a set speed, the model time that
    stands for that moment (the first span's first document; None until known)."""

    started_wall: float
    model_origin: dt.datetime | None = None


@dataclass(frozen=True)
class SentSpan:
    """What a span's senders sent: the counts it should produce, the documents sent in
    each second since the run's start, the model origin its pacing used, and the CPU
    seconds of the express senders' process (part of this process's own)."""

    expected: Expected
    per_second: collections.Counter[int]
    model_origin: dt.datetime | None
    express_cpu_s: dict[str, float]


@dataclass(frozen=True)
class _Shared:
    """What the two processes share: documents sent, deliveries received, sending done."""

    sent: Any
    received: Any
    done: Any


class ReplaySenders:
    """``async with ReplaySenders(settings, codes, plan) as senders:`` then :meth:`go`;
    while it sends, :attr:`sent` and :attr:`done`, and :meth:`received` to let it on
    (it keeps at most ``plan.max_ahead`` deliveries ahead); :meth:`finish` for what it sent.

    Leaving the block before :meth:`finish` stops the sending where it is.
    """

    name = "docbus-replay-senders"

    def __init__(self, settings: Settings, codes: list[str], plan: SendingPlan) -> None:
        context = multiprocessing.get_context("spawn")
        self._shared = _Shared(
            context.Value("q", 0, lock=False), context.Value("q", 0, lock=False), context.Event()
        )
        self._child = HelperProcess(_serve, (settings, codes, plan, self._shared), name=self.name)
        self._running = False
        #: CPU seconds of this process (without the express senders'), and of the
        #: express senders', by name, once finished.
        self.cpu_s: dict[str, float] = {}

    async def __aenter__(self) -> ReplaySenders:
        await self._child.start()
        self._running = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._running:
            self._running = False
            with contextlib.suppress(ChildFailed):  # the block's own error says more
                await self._child.stop()

    def go(self, clock: Clock) -> None:
        """Start sending, on ``clock``."""
        self._child.tell(clock)

    @property
    def pid(self) -> int | None:
        """The process's id, once started."""
        return self._child.pid

    @property
    def sent(self) -> int:
        """Documents handed to their senders so far."""
        return int(self._shared.sent.value)

    def received(self, deliveries: int) -> None:
        """The receivers were handed ``deliveries`` of this span's so far."""
        self._shared.received.value = deliveries

    @property
    def done(self) -> bool:
        """Every document of the plan is sent and acknowledged, or sending failed (the
        process said so, or ended without a word)."""
        return self._shared.done.is_set() or not self._child.alive

    async def finish(self) -> SentSpan:
        """Once :attr:`done`: stop the process; what it sent. Raises
        :class:`~shell._child.ChildFailed` with the reason if sending failed."""
        self._running = False
        sent = await self._child.stop()
        assert isinstance(sent, SentSpan)
        own = (self._child.cpu_s or 0.0) - sum(sent.express_cpu_s.values())
        self.cpu_s = {self.name: own, **sent.express_cpu_s}
        return sent


def _serve(
    conn: Connection,
    parent_pid: int,
    settings: Settings,
    codes: list[str],
    plan: SendingPlan,
    shared: _Shared,
) -> None:
    """The child's entry point."""
    child = _SendingChild(settings, codes, plan, shared)
    run_child(conn, parent_pid, child.run, on_message=child.take)


class _SendingChild:
    """Every agency's sender on one producer, sending the plan's documents once told to go."""

    def __init__(
        self, settings: Settings, codes: list[str], plan: SendingPlan, shared: _Shared
    ) -> None:
        self._settings, self._codes, self._plan = settings, codes, plan
        self._shared = shared
        self._clock: asyncio.Future[Clock] | None = None
        self._expected = Expected()
        self._per_second: collections.Counter[int] = collections.Counter()
        self._model_origin: dt.datetime | None = None
        self._deliveries_sent = 0

    def take(self, message: object) -> None:
        """The parent's word to go, with the run's clock."""
        assert isinstance(message, Clock) and self._clock is not None
        if not self._clock.done():
            self._clock.set_result(message)

    async def run(self, ready: Ready, stop: asyncio.Event) -> SentSpan:
        self._clock = asyncio.get_running_loop().create_future()
        producer = make_producer(self._settings)
        await start_producer(producer, self._settings, "the replay's senders")
        codec, directory = Codec(), Directory.load()
        senders: dict[str, Sender] = {}
        try:
            async with ExpressSenders(self._settings, self._codes) as express:
                for code in self._codes:
                    senders[code] = Sender(
                        agency=code,
                        settings=self._settings,
                        producer=producer,
                        codec=codec,
                        directory=directory,
                    )
                    await senders[code].start()
                if self._plan.freeze_heap:
                    tune_service_heap()
                ready(None)
                await _until(self._clock, stop)
                if self._clock.done():
                    # The senders stand for machines of their own: here they give way to
                    # the broker and the express lane, as the bulk lane does.
                    with thread_at_lower_priority(BULK_NICE):
                        await _until(
                            asyncio.ensure_future(
                                self._send_plan(self._clock.result(), senders, express, directory)
                            ),
                            stop,
                        )
                self._shared.done.set()
                await stop.wait()
        finally:
            self._shared.done.set()  # a failure too: the parent then stops the process and hears why
            for sender in senders.values():
                await sender.stop()
            await producer.stop()
        return SentSpan(self._expected, self._per_second, self._model_origin, express.cpu_s)

    async def _send_plan(
        self,
        clock: Clock,
        senders: dict[str, Sender],
        express: ExpressSenders,
        directory: Directory,
    ) -> None:
        """Model the plan's documents and send them in chunks, at its speed or as fast as
        they are acknowledged."""
        plan = self._plan
        model = YearWorkload(
            plan.year,
            directory=directory,
            scale=plan.scale,
            seed=plan.seed,
            agencies_at=plan.agencies_at,
        )
        chunk: list[Document] = []
        for modelled in (d for day in plan.days for d in model.documents_of(day)):
            if plan.speed is not None:  # wait for the document's moment, sending what is due
                origin = self._model_origin = (
                    clock.model_origin or self._model_origin or modelled.sent_at
                )
                due = clock.started_wall + (modelled.sent_at - origin).total_seconds() / plan.speed
                if due - time.time() > _PACING_S:
                    await self._send(chunk, clock, senders, express)
                    chunk = []
                    await asyncio.sleep(due - time.time())
            self._expected.add(modelled, plan.behaviour, plan.seed)
            chunk.append(modelled)
            if len(chunk) == _CHUNK:
                await self._send(chunk, clock, senders, express)
                chunk = []
            if self._expected.documents % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
        await self._send(chunk, clock, senders, express)

    async def _send(
        self,
        chunk: list[Document],
        clock: Clock,
        senders: dict[str, Sender],
        express: ExpressSenders,
    ) -> None:
        """Send ``chunk``, each document dated now; return once the broker holds the ones
        sent here (the express process answers for its own when it ends)."""
        if not chunk:
            return
        received = self._shared.received  # moved on by the parent, every few tenths
        while self._deliveries_sent - received.value > self._plan.max_ahead:  # noqa: ASYNC110
            await asyncio.sleep(_AHEAD_WAIT_S)
        self._deliveries_sent += sum(len(d.recipients) for d in chunk)
        now = dt.datetime.now(dt.UTC)
        documents = [dataclasses.replace(d, sent_at=now) for d in chunk]
        self._per_second[int(now.timestamp() - clock.started_wall)] += len(documents)
        self._shared.sent.value += len(documents)
        express.send([d for d in documents if is_express(d.priority)])
        await asyncio.gather(
            *(senders[d.sender].send(d) for d in documents if not is_express(d.priority))
        )


async def _until(work: asyncio.Future[Any], stop: asyncio.Event) -> None:
    """Wait for ``work`` or ``stop``, whichever first; cancel ``work`` if stopped."""
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([work, stopping], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not work.done():
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await work
    elif not work.cancelled() and work.exception() is not None:
        raise work.exception()  # type: ignore[misc]

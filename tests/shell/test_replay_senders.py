"""Tests for shell._replay_senders: a span's documents modelled and sent by a helper process."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import os
import signal
import time

import pytest

from docbus import Settings
from docbus.directory import Directory
from producers.simulation import ReceiverBehaviour, YearWorkload
from schemas import EXPRESS_PARTITION, Codec, Document, is_express, today_vn
from shell._child import ChildFailed
from shell._replay_model import Expected
from shell._replay_senders import Clock, ReplaySenders, SendingPlan
from tests.helpers import ensure_topics, eventually, read_all

_SCALE, _SEED = 0.0002, 3


def _busiest_day(model: YearWorkload) -> tuple[dt.date, list[Document]]:
    day = max(model.days, key=lambda d: model.days[d])
    return day, list(model.documents_of(day))


async def test_the_plans_documents_reach_their_outboxes_counted_as_the_model_says(
    settings: Settings,
) -> None:
    """One modelled day sent by the process: every document is in its sender's outbox
    (express ones in the express lane), dated by the sending; the counts it reports are
    the model's, to the notice, and every document is counted in a second of the run."""
    today = today_vn()
    model = YearWorkload(
        2024, directory=Directory.load(), scale=_SCALE, seed=_SEED, agencies_at=today
    )
    day, documents = _busiest_day(model)
    codes = sorted({d.sender for d in documents})
    layout = await ensure_topics(settings, codes)
    plan = SendingPlan(year=2024, scale=_SCALE, seed=_SEED, agencies_at=today, days=(day,))
    started = time.time()
    async with ReplaySenders(settings, codes, plan) as senders:
        senders.go(Clock(started))
        await eventually(lambda: senders.done, timeout_s=60)
        span = await senders.finish()
    expected = Expected()
    for document in documents:
        expected.add(document, ReceiverBehaviour(), _SEED)
    assert span.expected == expected and expected.documents == len(documents) > 10
    assert senders.sent == sum(span.per_second.values()) == len(documents)
    assert min(span.per_second) >= 0
    records = [
        record
        for code in codes
        for record in await read_all(
            settings, layout.outbox(code), collections.Counter(d.sender for d in documents)[code]
        )
    ]
    codec = Codec()
    sent = {codec.decode(r.value).document_id: r for r in records}
    assert set(sent) == {d.document_id for d in documents}
    for document in documents:
        record = sent[document.document_id]
        assert (record.partition == EXPRESS_PARTITION) == is_express(document.priority)
        assert codec.decode(record.value).sent_at.timestamp() >= started
    assert set(senders.cpu_s) == {"docbus-replay-senders", "docbus-express-senders"}


async def test_a_send_that_fails_is_raised_with_its_reason(settings: Settings) -> None:
    """A plan whose documents come from an agency the process has no sender for: it
    stops, says it is done, and ``finish`` raises ChildFailed naming the failure."""
    today = today_vn()
    model = YearWorkload(
        2024, directory=Directory.load(), scale=_SCALE, seed=_SEED, agencies_at=today
    )
    day, documents = _busiest_day(model)
    codes = sorted({d.sender for d in documents})[1:]  # the first sender is missing
    await ensure_topics(settings, codes)
    plan = SendingPlan(year=2024, scale=_SCALE, seed=_SEED, agencies_at=today, days=(day,))
    with pytest.raises(ChildFailed, match="KeyError"):
        async with ReplaySenders(settings, codes, plan) as senders:
            senders.go(Clock(time.time()))
            await eventually(lambda: senders.done, timeout_s=60)
            await senders.finish()


async def test_a_process_that_dies_ends_the_wait_and_is_raised(settings: Settings) -> None:
    """The process killed while it waits for its word to go: ``done`` says so at once and
    ``finish`` raises ChildFailed (a replay must not wait for a dead sender forever)."""
    today = today_vn()
    model = YearWorkload(
        2024, directory=Directory.load(), scale=_SCALE, seed=_SEED, agencies_at=today
    )
    day, documents = _busiest_day(model)
    codes = sorted({d.sender for d in documents})
    await ensure_topics(settings, codes)
    plan = SendingPlan(year=2024, scale=_SCALE, seed=_SEED, agencies_at=today, days=(day,))
    async with ReplaySenders(settings, codes, plan) as senders:
        assert not senders.done
        assert senders.pid is not None
        os.kill(senders.pid, signal.SIGKILL)
        await eventually(lambda: senders.done, timeout_s=10)
        with pytest.raises(ChildFailed, match="ended without a word"):
            await senders.finish()


async def test_the_senders_wait_while_too_many_deliveries_are_ahead_of_the_receivers(
    settings: Settings,
) -> None:
    """A day of over a thousand documents (more than one chunk) with ``max_ahead`` 0 and
    nothing received: the first chunk goes and the process waits; told the receivers
    caught up, it sends the rest."""
    scale, today = 0.04, today_vn()
    model = YearWorkload(
        2024, directory=Directory.load(), scale=scale, seed=_SEED, agencies_at=today
    )
    day, documents = _busiest_day(model)
    assert len(documents) > 1000
    codes = sorted({d.sender for d in documents})
    await ensure_topics(settings, codes)
    plan = SendingPlan(
        year=2024, scale=scale, seed=_SEED, agencies_at=today, days=(day,), max_ahead=0
    )
    async with ReplaySenders(settings, codes, plan) as senders:
        senders.go(Clock(time.time()))
        await eventually(lambda: senders.sent == 1000, timeout_s=60)
        await asyncio.sleep(1.0)
        assert senders.sent == 1000 and not senders.done
        senders.received(sum(len(d.recipients) for d in documents))
        await eventually(lambda: senders.done, timeout_s=60)
        span = await senders.finish()
    assert senders.sent == span.expected.documents == len(documents)

"""Tests for consumers._receiver: each document reaches the application once."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from aiokafka import TopicPartition

from consumers import ReceivedDocument, Receiver, Reply, SqliteDedupeStore
from docbus import ClientMetrics, ClientStateError, Settings, make_consumer
from producers import Sender
from schemas import (
    Codec,
    ImpossibleTransition,
    StatusCode,
    StatusNotice,
)
from tests.helpers import (
    G22,
    H29,
    NoticeCollector,
    cli_env,
    deliver,
    ensure_topics,
    eventually,
    letter,
    read_all,
    read_topic,
    registry_samples,
    sample,
    scrape,
    steps_in,
    take,
)


async def test_a_redelivered_document_reaches_the_application_once(settings: Settings) -> None:
    """The same delivery twice in the inbox (a router retry) is handed over once."""
    first, second = letter(number=1), letter(number=2)
    await deliver(settings, [first, first, second, first])
    async with Receiver(agency=H29, settings=settings) as receiver:
        got = await take(receiver, 2)
        assert sorted(r.document.document_id for r in got) == [
            first.document_id,
            second.document_id,
        ]
        with pytest.raises(TimeoutError):
            await take(receiver, 1, timeout_s=2)


async def test_express_deliveries_go_ahead_of_those_waiting(settings: Settings) -> None:
    """Express documents that arrive while bulk ones wait to be handed over come next."""
    await deliver(settings, [letter(number=n) for n in range(300)])
    express = [letter(number=1000 + n, priority=3) for n in range(5)]
    async with Receiver(agency=H29, settings=settings) as receiver:
        first = await anext(receiver)  # the 300 bulk documents are fetched and waiting
        assert first.document.priority == 0
        await deliver(settings, express)
        await asyncio.sleep(0.5)  # the consumer's fetcher reads the express lane meanwhile
        following = await take(receiver, len(express))
        rest = await take(receiver, 299)
    assert [r.document.document_id for r in following] == [d.document_id for d in express]
    assert {r.document.priority for r in rest} == {0}


async def test_a_copy_arriving_while_the_first_waits_is_not_handed_over_again(
    settings: Settings,
) -> None:
    """A router that takes over re-routes what the dead one had not committed, so a second
    copy of an express document can reach the inbox while the first still waits in the
    receiver (behind another express one): the application gets it once. It once got
    both, and sent a second 01 that the router dead-lettered."""
    await deliver(settings, [letter(number=n) for n in range(300)])
    ahead, twice = (letter(number=1000 + n, priority=3) for n in range(2))
    async with Receiver(agency=H29, settings=settings) as receiver:
        await anext(receiver)  # the 300 bulk documents are fetched and waiting
        await deliver(settings, [ahead, twice])
        await asyncio.sleep(0.5)
        (first,) = await take(receiver, 1)  # both express ones were put ahead; one is out
        await deliver(settings, [twice])
        await asyncio.sleep(0.5)
        rest = await take(receiver, 300)
        with pytest.raises(TimeoutError):
            await take(receiver, 1, timeout_s=1)
    handed = [r.document.document_id for r in [first, *rest]]
    assert first.document.document_id == ahead.document_id
    assert handed.count(twice.document_id) == 1 and len(set(handed)) == len(handed)


async def test_a_document_with_broken_content_is_refused_and_its_sender_told_once(
    settings: Settings,
) -> None:
    """The router reads only the envelope, so a signed document with an empty subject can
    reach an inbox: the receiver does not hand it over, tells G22 01 then 02 with the
    rule broken (one record), and after a restart that reads the inbox again says nothing more."""
    layout = await ensure_topics(settings, [G22, H29])
    broken = dataclasses.replace(letter(number=1), subject=" ")
    fine = letter(number=2)
    await deliver(settings, [broken, fine])
    refused: list[tuple[str, str]] = []
    codec = Codec()
    async with Receiver(
        agency=H29, settings=settings, on_refused=lambda kind, why: refused.append((kind, why))
    ) as receiver:
        (received,) = await take(receiver, 1)
        assert received.document == fine
        await received.ack()
        records = [codec.decode(r.value) for r in await read_topic(settings, layout.outbox(H29), 2)]
    (told,) = [n for n in records if n.document_id == broken.document_id]
    about_broken = told.steps()
    assert [n.status_code for n in about_broken] == ["01", "02"]
    assert about_broken[1].description.startswith(f"refused by {H29} (invalid_document): ")
    assert "subject is empty" in about_broken[1].description
    assert refused == [("invalid_document", "subject is empty")]
    async with Receiver(agency=H29, settings=settings, group_id="again") as again:
        with pytest.raises(TimeoutError):
            await take(again, 1, timeout_s=2)
    with pytest.raises(TimeoutError):  # no third record
        await read_topic(settings, layout.outbox(H29), 3, timeout_s=2)


async def _take_unanswered(receiver: Receiver, count: int) -> list:  # type: ignore[type-arg]
    """``count`` documents taken without handling any (answered later)."""
    taking, taken = receiver.batches(count, answer_later=True), []
    while len(taken) < count:
        taken += await anext(taking)
    return taken


def _steps_by_document(records) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    by_document: dict[str, list[str]] = {}
    for step in steps_in(records):
        by_document.setdefault(step.document_id, []).append(step.status_code)
    return by_document


async def test_arrival_goes_with_the_first_answer_or_alone_when_acked_or_stopped(
    settings: Settings,
) -> None:
    """01 is held for the application's answer and leaves in one record with it; acking
    a delivery sends its 01 before the ack returns; stopping sends the 01s still held."""
    layout = await ensure_topics(settings, [G22, H29])
    answered, acked, waiting, left = (letter(number=n) for n in (1, 2, 3, 4))
    await deliver(settings, [answered, acked, waiting, left])
    outbox = layout.outbox(H29)
    async with Receiver(
        agency=H29, settings=dataclasses.replace(settings, arrival_hold_ms=60_000)
    ) as receiver:
        by_id = {r.document.document_id: r for r in await _take_unanswered(receiver, 4)}
        await by_id[answered.document_id].notify(StatusCode.ACCEPTED)
        await by_id[acked.document_id].ack()
        early = await read_all(settings, outbox, 2, quiet_s=1)
        assert _steps_by_document(early) == {
            answered.document_id: ["01", "03"],
            acked.document_id: ["01"],
        }
    records = await read_all(settings, outbox, 4, quiet_s=1)
    assert len(records) == 4
    assert _steps_by_document(records) == {
        answered.document_id: ["01", "03"],
        acked.document_id: ["01"],
        waiting.document_id: ["01"],
        left.document_id: ["01"],
    }


async def test_a_held_arrival_goes_alone_once_due(settings: Settings) -> None:
    """With no answer within ``arrival_hold_ms``, the 01 goes by itself."""
    layout = await ensure_topics(settings, [G22, H29])
    await deliver(settings, [letter()])
    async with Receiver(
        agency=H29, settings=dataclasses.replace(settings, arrival_hold_ms=300)
    ) as receiver:
        (received,) = await _take_unanswered(receiver, 1)
        (record,) = await read_topic(settings, layout.outbox(H29), 1, timeout_s=10)
        assert [s.status_code for s in steps_in([record])] == ["01"]
        assert not received.handled


async def test_with_no_hold_arrival_is_notified_before_the_application_sees_it(
    settings: Settings,
) -> None:
    """``arrival_hold_ms=0``: status 01 is in the outbox as soon as the document is yielded."""
    layout = await ensure_topics(settings, [G22, H29])
    await deliver(settings, [letter()])
    codec = Codec()
    async with Receiver(agency=H29, settings=dataclasses.replace(settings, arrival_hold_ms=0)) as r:
        (received,) = await take(r, 1)
        (record,) = await read_topic(settings, layout.outbox(H29), 1)
        arrival = codec.decode(record.value)
        assert isinstance(arrival, StatusNotice)
        assert (arrival.status_code, arrival.from_agency, arrival.to_agency) == ("01", H29, G22)
        await received.notify(StatusCode.ACCEPTED)
        records = await read_topic(settings, layout.outbox(H29), 2)
        assert codec.decode(records[1].value).status_code == "03"


async def test_handled_documents_are_not_handed_over_after_restart(settings: Settings) -> None:
    """A document handled in one session is skipped in the next; an unhandled one is not."""
    docs = [letter(number=n) for n in (1, 2, 3)]
    await deliver(settings, docs)
    async with Receiver(agency=H29, settings=settings, max_batch_records=1) as receiver:
        (one,) = await take(receiver, 1)
        one.ack()
    async with Receiver(agency=H29, settings=settings) as receiver:
        rest = await take(receiver, 2)
    ids = [one.document.document_id] + [r.document.document_id for r in rest]
    assert sorted(ids) == sorted(d.document_id for d in docs)


async def test_crash_after_handling_before_commit(settings: Settings, tmp_path: Path) -> None:
    """A receiver killed after handling but before committing does not hand the document over again."""
    docs = [letter(number=n) for n in (1, 2)]
    await deliver(settings, docs)
    script = tmp_path / "crash.py"
    script.write_text(
        "import asyncio, os, signal, sys\n"
        "from pathlib import Path\n"
        "from consumers import Receiver\n"
        "from docbus import Settings\n"
        "from schemas import StatusCode\n"
        "async def main():\n"
        f"    s = Settings(bootstrap_servers={settings.bootstrap_servers!r},\n"
        f"                 topic_prefix={settings.topic_prefix!r},\n"
        f"                 home=Path({str(settings.home)!r}), enable_idempotence=False,\n"
        f"                 keys_dir=Path({str(settings.keys_root)!r}), session_timeout_ms=1500)\n"
        f"    async with Receiver(agency={H29!r}, settings=s, max_batch_records=1) as r:\n"
        "        doc = await anext(r)\n"
        "        await doc.notify(StatusCode.ACCEPTED)\n"
        "        print('HANDLED', doc.document.document_id, flush=True)\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "asyncio.run(main())\n"
    )
    crashed = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    (handled_id,) = [
        line.removeprefix("HANDLED ")
        for line in crashed.stdout.splitlines()
        if line.startswith("HANDLED ")
    ]  # structlog, unconfigured in the script, prints its own lines on stdout too
    (other,) = [d for d in docs if d.document_id != handled_id]
    async with Receiver(agency=H29, settings=settings) as receiver:
        (after,) = await take(receiver, 1)
        assert after.document == other
        with pytest.raises(TimeoutError):
            await take(receiver, 1, timeout_s=2)


async def test_notices_in_the_inbox_go_to_the_handler(settings: Settings) -> None:
    """Status notices about the agency's own documents reach on_notice, not the iterator."""
    layout = await ensure_topics(settings, [G22, H29])
    from tests.helpers import produce_raw

    notice = StatusNotice(
        document_id=letter().document_id,
        document_sender=G22,
        from_agency=H29,
        to_agency=G22,
        status_code="03",
        timestamp=letter().sent_at,
    )
    await produce_raw(settings, layout.inbox(G22), [Codec().encode(notice)], sign_as=H29)
    await deliver(settings, [letter(H29, (G22,))], recipient=G22)
    collector = NoticeCollector()
    async with Receiver(agency=G22, settings=settings, on_notice=collector) as receiver:
        (doc,) = await take(receiver, 1)
        assert doc.document.sender == H29
        assert await collector.wait_for(1) == [notice]


async def test_lifecycle_is_guarded(settings: Settings) -> None:
    """A receiver cannot be iterated before start, started twice, or used after stop."""
    receiver = Receiver(agency=H29, settings=settings)
    with pytest.raises(ClientStateError):
        await anext(receiver)
    await ensure_topics(settings, [H29])
    async with receiver:
        with pytest.raises(ClientStateError):
            await receiver.start()
    await receiver.stop()
    with pytest.raises(ClientStateError):
        await anext(receiver)


async def test_impossible_notices_are_refused_before_sending(settings: Settings) -> None:
    """The SDK refuses 04 before 03 is possible... backwards, after 02, or 15 without a recall."""
    from schemas import ImpossibleTransition

    layout = await ensure_topics(settings, [G22, H29])
    first, second = letter(number=1), letter(number=2)
    await deliver(settings, [first, second])
    async with Receiver(agency=H29, settings=settings) as receiver:
        a, b = await take(receiver, 2)
        await a.notify(StatusCode.IN_PROGRESS)
        with pytest.raises(ImpossibleTransition, match="never goes back"):
            await a.notify(StatusCode.ACCEPTED)
        with pytest.raises(ImpossibleTransition, match="no pending recall"):
            await a.notify(StatusCode.RECALL_AGREED)
        await b.notify(StatusCode.REJECTED)
        with pytest.raises(ImpossibleTransition, match="rejected"):
            await b.notify(StatusCode.ACCEPTED)
    # a's 01 left when b was asked for, then 05; b's 01 went with its 02: nothing else
    records = await read_all(settings, layout.outbox(H29), 3, quiet_s=2)
    assert sorted(step.status_code for step in steps_in(records)) == ["01", "01", "02", "05"]


async def test_client_metrics_count_what_one_application_sent_and_received(
    settings: Settings,
) -> None:
    """One ClientMetrics shared by an agency's Sender and Receiver counts both directions."""
    metrics = ClientMetrics()
    first, second = letter(number=1), letter(number=2)
    await deliver(settings, [first, first, second])
    async with (
        Receiver(agency=H29, settings=settings, metrics=metrics) as receiver,
        Sender(agency=H29, settings=settings, metrics=metrics) as sender,
    ):
        for received in await take(receiver, 2):
            await received.notify(StatusCode.ACCEPTED)
        await sender.send(letter(H29, (G22,), number=3))
    samples = registry_samples(metrics.registry)
    assert sample(samples, "docbus_client_documents_received_total", agency=H29, priority="0") == 2
    assert sample(samples, "docbus_client_duplicates_skipped_total", agency=H29) == 1
    assert sample(samples, "docbus_client_notices_sent_total", agency=H29, status_code="01") == 2
    assert sample(samples, "docbus_client_notices_sent_total", agency=H29, status_code="03") == 2
    assert sample(samples, "docbus_client_documents_sent_total", agency=H29, priority="0") == 1
    assert sample(samples, "docbus_client_receive_latency_seconds_count", priority="0") == 2


async def test_docbus_receive_serves_its_metrics(settings: Settings) -> None:
    """`docbus receive --metrics-port` lets Prometheus scrape the receiving agency's counts,
    and the process's own series (CPU, memory), as a router's."""
    await deliver(settings, [letter(number=1), letter(number=2)])
    cli = subprocess.Popen(
        [sys.executable, "-m", "shell.cli", "receive", "--agency", H29, "--timeout", "30"],
        env={**cli_env(settings), "DOCBUS_METRICS_PORT": "0", "DOCBUS_LOG_LEVEL": "INFO"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert cli.stderr is not None
        event: dict = {}  # type: ignore[type-arg]
        while event.get("event") != "metrics_serving":
            line = await asyncio.wait_for(asyncio.to_thread(cli.stderr.readline), 30)
            assert line, "docbus receive exited early"
            event = json.loads(line)
        url = event["url"]

        def received_both() -> bool:
            received = sample(
                scrape(url), "docbus_client_documents_received_total", agency=H29, priority="0"
            )
            return received == 2

        assert await eventually(received_both, timeout_s=30)
        samples = scrape(url)
        memory = sample(samples, "process_resident_memory_bytes")
        cpu = sample(samples, "process_cpu_seconds_total")
        assert memory is not None and memory > 10 * 2**20
        assert cpu is not None and cpu > 0
    finally:
        cli.terminate()
        cli.wait()
        if cli.stderr:
            cli.stderr.close()


class _ThreadNotingStore(SqliteDedupeStore):
    """A dedupe store that notes the thread of every call."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.threads: set[int] = set()

    def handled(self, keys):  # type: ignore[no-untyped-def]
        self.threads.add(threading.get_ident())
        return super().handled(keys)

    def states(self, keys):  # type: ignore[no-untyped-def]
        self.threads.add(threading.get_ident())
        return super().states(keys)

    def remember(self, states, handled):  # type: ignore[no-untyped-def]
        self.threads.add(threading.get_ident())
        super().remember(states, handled)


async def test_the_dedupe_store_is_never_called_on_the_event_loop(
    settings: Settings, tmp_path: Path
) -> None:
    """Receiving, answering and acknowledging touch the dedupe store from one thread that
    is not the event loop's; asking for the next document, or awaiting ack, is durable."""
    store = _ThreadNotingStore(tmp_path / "dedupe.sqlite")
    await deliver(settings, [letter(number=1), letter(number=2)])
    async with Receiver(agency=H29, settings=settings, dedupe=store) as receiver:
        first, second = await take(receiver, 2)
        assert store.handled([first.key]) == {first.key}  # asking for the next marked it
        await first.notify(StatusCode.ACCEPTED)
        await second.ack()
        assert store.handled([first.key, second.key]) == {first.key, second.key}
    store.threads.discard(threading.get_ident())  # the test's own check just above
    assert len(store.threads) == 1
    store.close()


class _TransactionNotingStore(SqliteDedupeStore):
    """A dedupe store that notes, per transaction, the marks and states written in it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.transactions: list[list[str]] = []
        self.calls: list[str] = []

    def states(self, keys):  # type: ignore[no-untyped-def]
        self.calls.append("states")
        return super().states(keys)

    @contextlib.contextmanager
    def transaction(self):  # type: ignore[no-untyped-def]
        self.transactions.append([])
        with super().transaction():
            yield

    def remember(self, states, handled):  # type: ignore[no-untyped-def]
        self.calls.append("remember")
        handled = list(handled)
        self.transactions[-1] += [f"state {key[0]} {state.status}" for key, state in states.items()]
        self.transactions[-1] += [f"mark {key[0]}" for key in handled]
        super().remember(states, handled)


async def _batches_of(receiver: Receiver, count: int, max_documents: int = 500) -> list[list]:
    """Batches from ``receiver`` until ``count`` documents in all."""
    got: list[list] = []
    batches = receiver.batches(max_documents)
    async with asyncio.timeout(30):
        while sum(map(len, got)) < count:
            got.append(await anext(batches))
    return got


async def test_a_batch_is_answered_at_once_signed_together_and_written_in_one_transaction(
    settings: Settings, tmp_path: Path
) -> None:
    """notify_many: six answers leave under one signature, and their states and marks are
    read in one store call and written in one more, in one transaction; an impossible
    answer among them sends nothing at all."""
    layout = await ensure_topics(settings, [G22, H29])
    docs = [letter(number=n) for n in range(1, 7)]
    await deliver(settings, docs)
    store = _TransactionNotingStore(tmp_path / "dedupe.sqlite")
    async with Receiver(agency=H29, settings=settings, dedupe=store) as receiver:
        received = [r for batch in await _batches_of(receiver, 6) for r in batch]
        (bad,) = [r for r in received if r.document == docs[0]]
        with pytest.raises(ImpossibleTransition, match="no pending recall"):
            await receiver.notify_many(
                [Reply(r, StatusCode.ACCEPTED) for r in received if r is not bad]
                + [Reply(bad, StatusCode.RECALL_AGREED)]
            )
        store.transactions.clear()
        store.calls.clear()
        receipts = await receiver.notify_many(
            [Reply(r, StatusCode.ACCEPTED, "Đã vào sổ") for r in received]
        )
        assert store.calls == ["states", "remember"]  # a round trip each for the six
        assert all(r.handled for r in received)
        assert [r.document_id for r in receipts] == [r.document.document_id for r in received]
    (written,) = [t for t in store.transactions if t]
    assert sorted(written) == sorted(
        [f"state {d.document_id} 03" for d in docs] + [f"mark {d.document_id}" for d in docs]
    )
    assert store.handled([(d.document_id, H29) for d in docs]) == {
        (d.document_id, H29) for d in docs
    }
    answers = await read_topic(settings, layout.outbox(H29), 6)  # a record a delivery
    with pytest.raises(TimeoutError):  # the refused call sent nothing, its 01s went along
        await read_topic(settings, layout.outbox(H29), 7, timeout_s=2)
    assert [s.status_code for s in steps_in(answers)] == ["01", "03"] * 6
    signatures = {dict(r.headers)["docbus-signature"] for r in answers}
    assert len(signatures) == 1 and all("docbus-proof" in dict(r.headers) for r in answers)
    store.close()


async def test_asking_for_the_next_batch_marks_the_previous_handled_in_one_transaction(
    settings: Settings, tmp_path: Path
) -> None:
    """A batch left unanswered is handled once the next is asked for: its marks written
    together, durably, before the next batch is handed over; after a restart the
    receiver hands over only what was never handed."""
    docs = [letter(number=n) for n in range(1, 6)]
    await deliver(settings, docs)
    store = _TransactionNotingStore(tmp_path / "dedupe.sqlite")
    async with Receiver(agency=H29, settings=settings, dedupe=store) as receiver:
        batches = receiver.batches(max_documents=3)
        first = await anext(batches)
        assert 1 <= len(first) <= 3
        store.transactions.clear()
        second = await anext(batches)
        marks = [t for t in store.transactions if any(w.startswith("mark") for w in t)]
        assert marks[0] == [f"mark {r.document.document_id}" for r in first]
        assert store.handled([r.key for r in first]) == {r.key for r in first}
        assert not {r.key for r in first} & {r.key for r in second}
    handed = {r.document.document_id for r in first}
    async with Receiver(agency=H29, settings=settings, dedupe=store) as again:
        rest = [r for batch in await _batches_of(again, len(docs) - len(handed)) for r in batch]
    assert handed.isdisjoint(r.document.document_id for r in rest)
    assert handed | {r.document.document_id for r in rest} == {d.document_id for d in docs}
    store.close()


async def test_answered_deliveries_are_committed_however_they_were_handled(
    settings: Settings,
) -> None:
    """The inbox is committed past every delivery answered with notify_many (awaited,
    as an application does before its next batch), with notify, or acked: nothing
    is read again after a restart, not even to be skipped."""
    docs = [letter(number=n) for n in range(1, 7)]
    await deliver(settings, docs)
    async with Receiver(agency=H29, settings=settings) as receiver:
        received = [r for batch in await _batches_of(receiver, 6) for r in batch]
        await receiver.notify_many([Reply(r, StatusCode.ACCEPTED) for r in received[:4]])
        await received[4].notify(StatusCode.ACCEPTED)
        await received[5].ack()
    ends = {(r.topic, r.partition): r.offset + 1 for r in received}
    group = make_consumer(settings, group_id=settings.group_id(f"receiver.{H29}"))
    await group.start()
    try:
        committed = {
            (topic, partition): await group.committed(TopicPartition(topic, partition))
            for topic, partition in ends
        }
    finally:
        await group.stop()
    assert committed == ends  # was 0 for the answered ones: read again at every start


class _FullDisk(SqliteDedupeStore):
    """A dedupe store that cannot write a handled mark (a full disk)."""

    def remember(self, states, handled):  # type: ignore[no-untyped-def]
        if handled := list(handled):
            raise sqlite3.OperationalError("database or disk is full")
        super().remember(states, handled)


async def test_an_answer_whose_mark_fails_is_not_committed_past(
    settings: Settings, tmp_path: Path
) -> None:
    """A mark the store cannot write fails the answer, and the commit after it: the
    inbox is not committed past the delivery, so it is handed over again, not lost."""
    (doc,) = docs = [letter(number=1)]
    await deliver(settings, docs)
    broken = _FullDisk(tmp_path / "broken.sqlite")
    receiver = Receiver(agency=H29, settings=settings, dedupe=broken)
    await receiver.start()
    (received,) = await take(receiver, 1)
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        await receiver.notify_many([Reply(received, StatusCode.ACCEPTED)])
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        await receiver.stop()  # its commit waits for the mark, and the mark failed
    broken.close()
    async with Receiver(agency=H29, settings=settings) as again:
        (redelivered,) = await take(again, 1)
        assert redelivered.document.document_id == doc.document_id


async def test_answered_in_any_order_the_rest_keep_coming(settings: Settings) -> None:
    """With answer_later, a delivery left unanswered does not hold the next ones back;
    after a restart only it is handed over again, those answered after it are not."""
    first, second, third = (letter(number=n) for n in (1, 2, 3))
    await deliver(settings, [first, second])
    async with Receiver(agency=H29, settings=settings) as receiver:
        batches = receiver.batches(max_documents=10, answer_later=True)
        held: list[ReceivedDocument] = []
        while len(held) < 2:
            held += await asyncio.wait_for(anext(batches), 10)
        by_id = {r.document.document_id: r for r in held}
        await by_id[second.document_id].notify(StatusCode.ACCEPTED)  # the first waits
        await deliver(settings, [third])
        (later,) = await asyncio.wait_for(anext(batches), 10)  # not held back by the first
        assert later.document.document_id == third.document_id
        await later.notify(StatusCode.ACCEPTED)
        assert not by_id[first.document_id].handled
    async with Receiver(agency=H29, settings=settings) as again:
        (redelivered,) = await take(again, 1)
        assert redelivered.document.document_id == first.document_id
        with pytest.raises(TimeoutError):
            await take(again, 1, timeout_s=2)
        await redelivered.notify(StatusCode.ACCEPTED)
    async with Receiver(agency=H29, settings=settings) as last:
        with pytest.raises(TimeoutError):
            await take(last, 1, timeout_s=2)

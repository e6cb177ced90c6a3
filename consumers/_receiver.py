"""The receiver SDK: ``async for doc in receiver: ...; await doc.notify(StatusCode.ACCEPTED)``.

Each document reaches the application once even when the bus redelivers it: a delivery
is remembered as handled (durably) when the application notifies a status for it, acks
it, or asks for the next document; a redelivered handled document is skipped, and so is
a copy that arrives while the first still waits to be handed over or handled. The
arrival notice (01) is held up to ``arrival_hold_ms`` for the application's first answer
and goes back in one record with it; with no answer by then, or when the document is
acked or the receiver stops, it goes alone (with a hold of 0, before the application
sees the document). A held 01 is sent before its delivery is marked handled, so a
restart never loses one: a delivery not handled is read again and its 01 sent again.
Express documents (the inbox's partition 0) go before bulk ones: first within a fetched
batch, and ahead of the documents already waiting when they arrive meanwhile.

The router reads no more of a document than its routing envelope; the receiver decodes
and checks the whole before the application sees it. A document whose signature holds
but whose content does not decode or breaks a rule is refused: its sender gets 01 then
02 with the reason, and it is remembered as handled.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from consumers._arrivals import HeldArrivals
from consumers._dedupe import DedupeKey, DedupeStore, SqliteDedupeStore
from consumers._inboxes import InboxSource, OwnInbox, SharedInboxes
from docbus import (
    ClientMetrics,
    CodecError,
    GroupCommit,
    KeptThread,
    Keystore,
    Lifecycle,
    OutboxWriter,
    SendReceipt,
    Service,
    Settings,
    SignatureError,
    TrustedKeys,
    ValidationError,
    make_producer,
    start_producer,
)
from schemas import (
    EXPRESS_PARTITION,
    HEADER_RECIPIENT,
    Codec,
    DeliveryState,
    Document,
    DocumentEnvelope,
    ImpossibleTransition,
    RecordSigner,
    StaffInfo,
    StatusCode,
    StatusNotice,
    TopicLayout,
    check_document,
    header_value,
    top_level_of,
)

__all__ = ["NoticeHandler", "ReceivedDocument", "Receiver", "RefusalHandler", "Reply"]

log = structlog.get_logger("docbus.receiver")

#: While documents wait to be handed over, the express lane is looked at this often.
_EXPRESS_CHECK_S = 0.005
#: The receiver yields to the event loop every this many records it reads or hands over,
#: so that a 1,000-record batch does not hold a shared loop for 50-180 ms at once.
_YIELD_EVERY = 100


class NoticeHandler(Protocol):
    """Called with each status notice that reaches the agency's inbox (about its own documents)."""

    async def __call__(self, notice: StatusNotice, /) -> None: ...


#: Called with (reason class, reason) for each record the receiver refuses: undecodable,
#: invalid, unsigned or signed by a key it does not trust. The record is not handed over.
RefusalHandler = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class _Refused:
    """A delivery whose signature holds but whose content is refused: its sender is told."""

    envelope: DocumentEnvelope
    recipient: str
    reason: str
    detail: str

    @property
    def key(self) -> DedupeKey:
        return (self.envelope.document_id, self.recipient)


@dataclass(eq=False)
class ReceivedDocument:
    """A document delivered to one recipient unit, with the means to answer it."""

    document: Document
    recipient: str
    topic: str
    partition: int
    offset: int
    _receiver: Receiver = field(repr=False)
    handled: bool = False

    @property
    def key(self) -> DedupeKey:
        """``(document_id, recipient)``."""
        return (self.document.document_id, self.recipient)

    async def notify(
        self, code: StatusCode | str, description: str = "", *, staff: StaffInfo | None = None
    ) -> SendReceipt:
        """Send status ``code`` back to the sender; marks the document handled (durably,
        before this returns)."""
        receipt = await self._receiver.notify(self, code, description, staff=staff)
        await self.ack()
        return receipt

    def ack(self) -> asyncio.Future[None]:
        """Mark the document handled without sending a status (idempotent).

        It is handled at once; the mark is written off the event loop, durable when the
        returned future is done (``await received.ack()``), and in any case before the
        receiver hands over the next document or commits.
        """
        return self._receiver.mark_handled(self)


@dataclass(frozen=True, slots=True)
class Reply:
    """A status to send back for one delivery (:meth:`Receiver.notify_many`)."""

    received: ReceivedDocument
    code: StatusCode | str
    description: str = ""
    staff: StaffInfo | None = None


class Receiver(Service):
    """Receives one agency's documents from its inbox, each once.

    By default it reads the inbox with a consumer of its own in the agency's receiver
    group. A process hosting many agencies' receivers gives each the same ``inboxes``
    (:class:`~consumers.SharedInboxes`: two consumers for all of them) and the same
    ``trusted_keys`` (a batch signature whose records reach many inboxes is checked once).
    """

    def __init__(
        self,
        *,
        agency: str,
        settings: Settings,
        dedupe: DedupeStore | None = None,
        on_notice: NoticeHandler | None = None,
        on_refused: RefusalHandler | None = None,
        producer: AIOKafkaProducer | None = None,
        codec: Codec | None = None,
        group_id: str | None = None,
        auto_arrival: bool = True,
        max_batch_records: int = 1000,
        poll_timeout_ms: int = 200,
        metrics: ClientMetrics | None = None,
        signer: RecordSigner | None = None,
        trusted_keys: TrustedKeys | None = None,
        inboxes: SharedInboxes | None = None,
    ) -> None:
        self.agency = agency
        self.top_level = top_level_of(agency)
        self._settings = settings
        self._keys = trusted_keys or TrustedKeys(Keystore(settings.keys_root))
        self._codec = codec if codec is not None else Codec()
        # The key first: a missing one then leaves no client behind to close.
        signer = signer or Keystore(settings.keys_root).signer(self.top_level)
        self._owns_producer = producer is None
        self._producer = producer if producer is not None else make_producer(settings)
        self._writer = OutboxWriter(
            agency=self.top_level,
            settings=settings,
            producer=self._producer,
            codec=self._codec,
            metrics=metrics,
            signer=signer,
        )
        self.metrics = self._writer.metrics
        self._dedupe_given = dedupe
        self._dedupe: DedupeStore | None = None
        self._on_notice = on_notice
        self._on_refused = on_refused
        self._group_id = group_id or settings.group_id(f"receiver.{self.top_level}")
        self._topic = TopicLayout(settings.topic_prefix).inbox(self.top_level)
        self._express_checked = 0.0
        self._handed = 0
        self._auto_arrival = auto_arrival
        self._max_batch = max_batch_records
        self._poll_timeout_ms = poll_timeout_ms
        self._inboxes = inboxes
        self._source: InboxSource | None = None
        self._buffer: collections.deque[ReceivedDocument] = collections.deque()
        #: deliveries taken and not yet marked handled in the store (waiting in the buffer,
        #: with the application, or their mark on its way)
        self._in_hand: set[DedupeKey] = set()
        #: what was last handed over: handled once the next is asked for
        self._previous: list[ReceivedDocument] = []
        self._uncommitted: dict[TopicPartition, int] = {}
        #: offsets of the deliveries taken and not yet handled, by partition: the inbox is
        #: committed no further than the oldest, so they may be answered in any order
        self._open: dict[TopicPartition, set[int]] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._fetching: asyncio.Task[None] | None = None
        self._lifecycle = Lifecycle(f"Receiver({agency})")
        self._trace_records = settings.traces_records
        #: The dedupe store is opened, read, written and closed in this thread only.
        self._store_thread = KeptThread(f"docbus-dedupe-{self.top_level}")
        #: Reads and writes of the dedupe store, grouped: one hop and one transaction each.
        self._store: GroupCommit | None = None
        #: Marks handed to the store thread and not yet written.
        self._marking: set[asyncio.Future[None]] = set()
        self._arrivals = HeldArrivals(
            self._writer.write_notices, settings.arrival_hold_ms / 1000, who=agency
        )

    async def start(self) -> None:
        """Open the dedupe store, connect and join the agency's receiver group."""
        self._lifecycle.opening()
        try:
            self._source = (
                self._inboxes.attach(self._topic)  # ValueError: not one of the shared
                if self._inboxes is not None
                else OwnInbox(self._settings, self._topic, self._group_id, who=self.agency)
            )
            dedupe = self._dedupe_given
            if dedupe is None:
                dedupe = await self._store_thread.run(
                    SqliteDedupeStore, self._settings.home / f"receiver-{self.top_level}.sqlite"
                )
            self._dedupe = dedupe
            self._store = GroupCommit(self._store_thread, dedupe.transaction)
            if self._owns_producer:
                await start_producer(self._producer, self._settings, repr(self))
            await self._source.start()
        except BaseException:
            await self._close()
            raise

    async def stop(self) -> None:
        """Commit what the application has handled and disconnect; safe to call twice."""
        if not self._lifecycle.closing():
            return
        try:
            await self._commit()  # up to the oldest delivery not handled: nothing is lost
        finally:
            await self._close()

    async def _close(self) -> None:
        self._lifecycle.closing()
        fetching, self._fetching = self._fetching, None
        if fetching is not None:
            fetching.cancel()
            await asyncio.wait([fetching])
        source, self._source = self._source, None
        if source is not None:
            await source.stop()
        await self._arrivals.close()
        await self._writer.drain()
        if self._owns_producer:
            await self._producer.stop()
        with contextlib.suppress(Exception):  # a failed mark is the application's to see
            await self._marks_written()
        if self._store is not None:
            await self._store.drain()
            self._store = None
        if self._dedupe is not None and self._dedupe_given is None:
            await self._store_thread.run(self._dedupe.close)
        self._dedupe = None
        await self._store_thread.close()

    async def _marks_written(self) -> None:
        """Wait until every mark handed to the store thread is written (or failed: raised)."""
        if self._marking:  # wait, not gather: a cancelled waiter must not cancel the writes
            done, _ = await asyncio.wait(set(self._marking))
            for written in done:
                if not written.cancelled() and (failure := written.exception()) is not None:
                    raise failure

    def __aiter__(self) -> Receiver:
        return self

    async def __anext__(self) -> ReceivedDocument:
        """The next document not yet handled; the previous one is now handled."""
        return (await self._hand_over(1))[0]

    async def batches(
        self, max_documents: int = 500, *, answer_later: bool = False
    ) -> AsyncGenerator[list[ReceivedDocument], None]:
        """The documents not yet handled, as many at once as have arrived (up to
        ``max_documents``), express first. Asking for the next batch marks each document
        of the previous one handled, in one transaction, durably before it is handed over;
        answer a batch at once with :meth:`notify_many`.

        With ``answer_later``, a document stays unhandled until it is answered or acked,
        in any order, while the next batches come: the inbox is committed only up to the
        oldest one unhandled, so a restart hands those over again (and skips the rest).
        Bound what you hold: the receiver keeps every unhandled document it handed over."""
        while True:
            yield await self._hand_over(max_documents, handle_previous=not answer_later)

    async def _hand_over(
        self, limit: int, *, handle_previous: bool = True
    ) -> list[ReceivedDocument]:
        """Up to ``limit`` documents not yet handled (at least one), once those handed
        over before are marked handled (unless not ``handle_previous``)."""
        self._lifecycle.require_open()
        if self._previous:  # durable before the next are handed over; one transaction
            # One turn of the loop first: an answer the application started in a task just
            # before asking takes its delivery's held 01 along (notify_many takes it at once).
            await asyncio.sleep(0)
            await self._handle(self._previous)
        self._handed += 1
        if self._buffer:
            if self._handed % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
            await self._take_express()
        while not self._buffer:
            await self._commit()
            if self._fetching is None:
                self._fetching = asyncio.create_task(self._fetch(), name=f"fetch-{self.agency}")
            fetching = self._fetching
            try:  # a cancelled caller leaves the fetch running for the next call: nothing is lost
                await asyncio.shield(fetching)
            finally:
                if fetching.done():
                    self._fetching = None
        buffer = self._buffer
        taken = [buffer.popleft() for _ in range(min(limit, len(buffer)))]
        self._previous = taken if handle_previous else []
        return taken

    async def notify(
        self,
        received: ReceivedDocument,
        code: StatusCode | str,
        description: str = "",
        *,
        staff: StaffInfo | None = None,
    ) -> SendReceipt:
        """Send status ``code`` for ``received`` back to its sender.

        Raises :class:`~schemas.ImpossibleTransition` (nothing sent) for a status the
        delivery's lifecycle does not allow now, such as 06 before 01 or anything after 02.
        """
        return (await self.notify_many([Reply(received, code, description, staff)]))[0]

    async def notify_many(self, replies: Sequence[Reply]) -> list[SendReceipt]:
        """Send each reply's status back to its document's sender, all signed together;
        the deliveries are marked handled, in one transaction, before this returns.

        Raises :class:`~schemas.ImpossibleTransition` (nothing sent) when the lifecycle of
        any reply's delivery does not allow its status now; replies for one delivery are
        taken in order (01 then 03 is allowed).
        """
        self._lifecycle.require_open()
        if not replies:
            return []
        store, dedupe = self._opened_store()
        keys = list(dict.fromkeys(reply.received.key for reply in replies))
        # The held 01s are taken before any await: an answer given in a task while the
        # application asks for its next batch still takes its 01 along (see _hand_over).
        async with self._arrivals.answering(keys) as arrivals:
            # Read from the store each time: another receiver of the agency (another
            # process) may have noted a recall for these deliveries since.
            states = await store.call(dedupe.states, keys)
            for reply in replies:
                key = reply.received.key
                states[key] = states[key].after(str(reply.code), from_sender=False)
            notices, answers = _answers(replies, arrivals)
            sent = await self._writer.write_notices(notices)
        receipts = [sent[i] for i in answers]
        # The answer and the mark go to the store together.
        await self._write(states, self._newly_handled(reply.received for reply in replies))
        if self._trace_records:
            for reply in replies:
                log.debug(
                    "notice_sent",
                    document_id=reply.received.document.document_id,
                    sender=reply.received.recipient,
                    recipient=reply.received.document.sender,
                    status_code=str(reply.code),
                )
        return receipts

    def mark_handled(self, received: ReceivedDocument) -> asyncio.Future[None]:
        """Remember ``received`` as handled by the application; the returned future is
        done once the mark is durable (see :meth:`ReceivedDocument.ack`)."""
        if received.handled:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        if received.key in self._arrivals:  # its 01 first: never handled without it gone
            marks = self._newly_handled([received])
            written: asyncio.Future[None] = asyncio.ensure_future(self._announce_then_write(marks))
            self._track(written, marks)
        else:  # queued in order for the one store thread: a later read sees this mark
            written = self._write({}, self._newly_handled([received]))
        return asyncio.shield(written)  # the caller may drop or cancel it: the write goes on

    async def _handle(self, taken: Sequence[ReceivedDocument]) -> None:
        """Mark those of ``taken`` not answered handled, in one store call, durably; each
        one's held 01 gone first (with the answer that took it, or now)."""
        keys = [received.key for received in taken if not received.handled]
        if not keys:
            return
        await self._arrivals.send_before_marks(keys)
        # An answer that took some of the 01s has marked its deliveries meanwhile.
        if marks := self._newly_handled(taken):
            await asyncio.shield(self._write({}, marks))

    def _newly_handled(self, received: Iterable[ReceivedDocument]) -> list[DedupeKey]:
        """Those of ``received`` not handled before, now handled: their offsets no longer
        hold the inbox's commit back (their marks are written before any commit: see
        :meth:`_commit`)."""
        marks = []
        for delivery in received:
            if not delivery.handled:
                delivery.handled = True
                self._open.get(TopicPartition(delivery.topic, delivery.partition), set()).discard(
                    delivery.offset
                )
                marks.append(delivery.key)
        return marks

    def _write(
        self, states: Mapping[DedupeKey, DeliveryState], marks: list[DedupeKey]
    ) -> asyncio.Future[None]:
        """Write ``states`` and ``marks`` in one store call; the next commit waits for it."""
        store, dedupe = self._opened_store()
        written = store.call(dedupe.remember, states, marks)
        self._track(written, marks)
        return written

    async def _announce_then_write(self, marks: list[DedupeKey]) -> None:
        """Send the held 01s of ``marks``, then write them handled."""
        await self._arrivals.send_before_marks(marks)
        store, dedupe = self._opened_store()
        await store.call(dedupe.remember, {}, marks)

    def _track(self, written: asyncio.Future[None], marks: list[DedupeKey]) -> None:
        """Follow the write of ``marks``: a commit waits for it, a failure is raised at the
        next one; the deliveries leave the hand once written."""
        if not marks:
            return
        self._marking.add(written)
        written.add_done_callback(self._forget_written)
        written.add_done_callback(functools.partial(self._out_of_hand, marks))

    def _out_of_hand(self, marks: list[DedupeKey], _written: asyncio.Future[Any]) -> None:
        """Deliveries leave the hand once their marks are written, not before: a read of
        the store made before the write, for a copy fetched meanwhile, then still finds
        them in hand and skips the copy."""
        self._in_hand.difference_update(marks)

    def _opened_store(self) -> tuple[GroupCommit, DedupeStore]:
        assert self._store is not None and self._dedupe is not None, "the receiver is open"
        return self._store, self._dedupe

    def _forget_written(self, written: asyncio.Future[None]) -> None:
        """A written mark is forgotten; a failed one stays, raised at the next commit."""
        if written.cancelled() or written.exception() is None:
            self._marking.discard(written)

    async def _commit(self) -> None:
        """Commit each partition up to the oldest delivery not handled (all it read when
        every one is handled); the rest of it is committed once they are."""
        await self._marks_written()  # a committed offset never runs ahead of its marks
        if not self._uncommitted or self._source is None:
            return
        offsets = {}
        for tp, end in self._uncommitted.items():
            open_offsets = self._open.get(tp)
            offsets[tp] = min(end, min(open_offsets)) if open_offsets else end
        self._uncommitted = {tp: end for tp, end in self._uncommitted.items() if offsets[tp] < end}
        offsets = {tp: at for tp, at in offsets.items() if at > self._committed.get(tp, -1)}
        if not offsets:
            return
        try:
            await self._source.commit(offsets)
            self._committed.update(offsets)
        except Exception as exc:
            if not isinstance(exc.__cause__, CommitFailedError | IllegalStateError):
                raise
            log.warning("commit_failed_after_rebalance", agency=self.agency, error=str(exc))

    async def _fetch(self) -> None:
        assert self._source is not None
        batch = await self._source.fetch(self._poll_timeout_ms, self._max_batch)
        self._buffer.extend(await self._take(batch))

    async def _take_express(self) -> None:
        """Put express documents that arrived meanwhile ahead of those waiting (every 5 ms)."""
        now = time.monotonic()
        if (
            now - self._express_checked < _EXPRESS_CHECK_S
            or self._fetching is not None
            or self._source is None
        ):
            return
        self._express_checked = now
        batch = await self._source.fetch_express()
        if batch:
            self._buffer.extendleft(reversed(await self._take(batch)))

    async def _take(self, batch: dict[TopicPartition, list[Any]]) -> list[ReceivedDocument]:
        """The fresh documents of ``batch``, express lane first; its offsets to commit."""
        assert self._source is not None
        try:
            fresh: list[ReceivedDocument | _Refused] = []
            read = 0
            for tp in sorted(batch, key=lambda tp: tp.partition != EXPRESS_PARTITION):
                for record in batch[tp]:
                    read += 1
                    if read % _YIELD_EVERY == 0:
                        await asyncio.sleep(0)
                    item = await self._ingest(record)
                    if item is not None:
                        fresh.append(item)
            deliveries = await self._fresh_deliveries(fresh)
        except BaseException:
            self._source.unread(batch)  # read the batch again next time: nothing lost
            raise
        self._uncommitted.update({tp: records[-1].offset + 1 for tp, records in batch.items()})
        return deliveries

    async def _fresh_deliveries(
        self, fresh: list[ReceivedDocument | _Refused]
    ) -> list[ReceivedDocument]:
        """Those of ``fresh`` not handled before, once each, their arrival notices sent
        (or held for the answers); the refused ones answered 01 and 02 and remembered as
        handled."""
        if not fresh:
            return []
        store, dedupe = self._opened_store()
        keys = [item.key for item in fresh]
        # One store call a batch: what was handled, and 01 for the rest where auto arrival
        # is on. Noting 01 before its notice is sent is safe: an unhandled delivery gets its
        # 01 sent whenever it is read again, whatever the state says.
        seen = await store.call(_sort_out, dedupe, keys, self._auto_arrival)
        new: dict[DedupeKey, ReceivedDocument] = {}
        refused: dict[DedupeKey, _Refused] = {}
        in_hand = self._in_hand
        for item in fresh:
            if item.key in seen or item.key in new or item.key in refused or item.key in in_hand:
                if self._trace_records:
                    log.debug("duplicate_skipped", document_id=item.key[0])
                self.metrics.duplicates_skipped.values[(self.top_level,)] += 1
                continue
            if isinstance(item, _Refused):
                refused[item.key] = item
                continue
            new[item.key] = item
            self.metrics.received(self.top_level, item.document.priority, item.document.sent_at)
        arrivals = [
            _notice(item.document, item.recipient, StatusCode.ARRIVED, "", None)
            for item in (new.values() if self._auto_arrival else ())
        ]
        hold = bool(arrivals) and self._arrivals.hold_s > 0
        notices = [] if hold else arrivals
        for item in refused.values():
            why = f"refused by {item.recipient} ({item.reason}): {item.detail}"
            notices += [
                _notice(item.envelope, item.recipient, StatusCode.ARRIVED, "", None),
                _notice(item.envelope, item.recipient, StatusCode.REJECTED, why, None),
            ]
        await self._writer.write_notices(notices)  # one batch per partition of the outbox
        if refused:
            await store.call(_rejected, dedupe, list(refused))
        in_hand.update(new)  # only now: a failure above reads the batch again
        if hold:
            self._arrivals.hold(dict(zip(new, arrivals, strict=True)))
        for item in new.values():
            self._open.setdefault(TopicPartition(item.topic, item.partition), set()).add(
                item.offset
            )
        return list(new.values())

    async def _ingest(self, record: Any) -> ReceivedDocument | _Refused | None:
        value = record.value or b""
        try:
            message = self._codec.decode(value)
            self._keys.verify(value, record.headers, message, timestamp_ms=record.timestamp)
            if isinstance(message, Document):
                check_document(message)  # the router read only the envelope
        except (CodecError, ValidationError, SignatureError) as exc:
            refused = self._refused(record, exc)
            log.error(
                "inbox_record_rejected",
                agency=self.agency,
                reason=exc.kind,
                error=str(exc),
                partition=record.partition,
                offset=record.offset,
                sender_told=refused is not None,
            )
            self.metrics.records_rejected.values[(self.top_level, exc.kind)] += 1
            if self._on_refused is not None:
                self._on_refused(exc.kind, str(exc))
            return refused
        if isinstance(message, StatusNotice):
            for step in message.steps():
                self.metrics.notices_received.values[(self.top_level, str(step.status_code))] += 1
                await self._note_recall(step)
                if self._on_notice is not None:
                    await self._on_notice(step)
            return None
        recipient = header_value(record.headers, HEADER_RECIPIENT) or self.agency
        if self._trace_records:
            log.debug(
                "document_received",
                document_id=message.document_id,
                sender=message.sender,
                recipient=recipient,
                priority=message.priority,
            )
        return ReceivedDocument(
            document=message,
            recipient=recipient,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            _receiver=self,
        )

    def _refused(
        self, record: Any, error: CodecError | ValidationError | SignatureError
    ) -> _Refused | None:
        """The refusal to tell the sender of ``record`` when its envelope decodes and its
        signature holds (the router delivered it); None for anything else (a record no
        router would pass: its signer is not known to have sent it)."""
        if isinstance(error, SignatureError):
            return None
        value = record.value or b""
        try:
            envelope = self._codec.decode_envelope(value)
            if not isinstance(envelope, DocumentEnvelope):
                return None
            self._keys.verify(value, record.headers, envelope, timestamp_ms=record.timestamp)
        except (CodecError, ValidationError, SignatureError):
            return None
        recipient = header_value(record.headers, HEADER_RECIPIENT) or self.agency
        return _Refused(envelope, recipient, error.kind, str(error))

    async def _note_recall(self, notice: StatusNotice) -> None:
        """A sender's recall (13) of a document delivered here opens the way for 15 or 16."""
        if (
            notice.status_code != StatusCode.RECALL_REQUESTED
            or notice.from_agency != notice.document_sender
        ):
            return
        store, dedupe = self._opened_store()
        key = (notice.document_id, notice.to_agency)
        current = (await store.call(dedupe.states, [key]))[key]
        try:
            state = current.after(notice.status_code, from_sender=True)
        except ImpossibleTransition as exc:
            log.warning("recall_ignored", document_id=notice.document_id, reason=str(exc))
            return
        await store.call(dedupe.remember, {key: state}, ())

    def __repr__(self) -> str:
        return f"<Receiver {self.agency} {self._lifecycle.state.value}>"


def _sort_out(dedupe: DedupeStore, keys: list[DedupeKey], arrive: bool) -> set[DedupeKey]:
    """In the store thread: those of ``keys`` handled before; with ``arrive``, 01 (arrived)
    noted for each of the others that has no state yet."""
    seen = dedupe.handled(keys)
    fresh = [key for key in dict.fromkeys(keys) if key not in seen]
    if arrive and fresh:
        arrived = DeliveryState(status=StatusCode.ARRIVED)
        current = dedupe.states(fresh)
        dedupe.remember({key: arrived for key in fresh if current[key].status is None}, ())
    return seen


def _rejected(dedupe: DedupeStore, keys: list[DedupeKey]) -> None:
    """In the store thread: deliveries the receiver refused, rejected (02) and handled."""
    dedupe.remember(dict.fromkeys(keys, DeliveryState(status=StatusCode.REJECTED)), keys)


def _notice(
    document: Document | DocumentEnvelope,
    recipient: str,
    code: StatusCode | str,
    description: str,
    staff: StaffInfo | None,
) -> StatusNotice:
    return StatusNotice.about(
        document,
        from_agency=recipient,
        to_agency=document.sender,
        status_code=code,
        description=description,
        staff=staff,
    )


def _answers(
    replies: Sequence[Reply], arrivals: dict[DedupeKey, StatusNotice]
) -> tuple[list[StatusNotice], list[int]]:
    """The notices that answer ``replies``, each delivery's held 01 (``arrivals``) before
    its first answer; and where each reply's own notice is among them."""
    notices: list[StatusNotice] = []
    answers: list[int] = []
    for reply in replies:
        received = reply.received
        if (arrival := arrivals.pop(received.key, None)) is not None:
            notices.append(arrival)
        answers.append(len(notices))
        notices.append(
            _notice(
                received.document, received.recipient, reply.code, reply.description, reply.staff
            )
        )
    return notices, answers

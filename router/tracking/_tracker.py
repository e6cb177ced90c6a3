"""The tracker: every routed document's deliveries, checked and advanced by each notice.

The router calls :meth:`Tracker.on_document` for each document it delivers and
:meth:`Tracker.apply_notice` for each status notice. Checks run against an in-memory
cache (backed by the store for older deliveries); the rows themselves (deadlines, times
as integers, history) are built and written by :meth:`write`, which the router runs in a
worker thread while it waits for the broker's acks, once a batch and before it commits
offsets. A notice already applied (a redelivery after a crash) is recognised and passed
on without a second transition.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import structlog

from docbus import CalendarRangeError, RoutingRejected
from docbus.calendar import WorkingCalendar
from router.tracking._store import (
    NO_DEADLINE,
    DeliveryRow,
    DocumentRow,
    TrackingStore,
    WriteBatch,
    micros,
)
from schemas import (
    VN_TIME,
    BusinessType,
    DeliveryState,
    DocumentEnvelope,
    ImpossibleTransition,
    NoticeStep,
    StatusNotice,
)

__all__ = [
    "EFFECTS",
    "ChangeWriter",
    "PendingChanges",
    "StoreRead",
    "StoreReadNeeded",
    "Tracker",
    "record_digest",
    "write_changes",
]

log = structlog.get_logger("docbus.tracking")

#: What a revoke, update or replace does to the document it names.
EFFECTS = {
    BusinessType.REVOKE: "revoked",
    BusinessType.UPDATE: "updated",
    BusinessType.REPLACE: "replaced",
}
Key = tuple[str, str]


def record_digest(value: bytes) -> bytes:
    """What identifies a document record's bytes (the router's and a rebuild's alike)."""
    return hashlib.blake2b(value, digest_size=16).digest()


class _Entry(NamedTuple):
    """What the tracker remembers of a delivery between batches.

    A tuple of strings and numbers, replaced on each change: CPython stops tracking such
    tuples for garbage collection, so a cache of 200,000 of them costs the collector
    nothing (a dataclass holding a set made every full collection walk the whole cache).
    Made with :func:`_entry` on the hot path (a named tuple's own constructor is a
    Python function, several times slower).
    """

    sender: str
    status: str | None = None
    recall: str | None = None
    #: (status code, POSIX timestamp) of each notice applied, to recognise a redelivery.
    applied: tuple[tuple[str, float], ...] = ()


def _entry(
    sender: str, status: str | None, recall: str | None, applied: tuple[tuple[str, float], ...]
) -> _Entry:
    return tuple.__new__(_Entry, (sender, status, recall, applied))


#: (document_id, sender, code, subject, priority, sent_at, business_type, related_document_id,
#: due_date, [(recipient unit, inbox agency), ...], digest or b"") of a routed document.
#: Times are POSIX seconds: a float pickles ten times faster than a datetime and
#: round-trips to the microsecond.
DocumentChange = tuple[
    str, str, str, str, int, float, int, str | None, dt.date | None, list[tuple[str, str]], bytes
]
#: (document_id, recipient unit, status code, timestamp, from agency, description) of a notice.
NoticeChange = tuple[str, str, str, float, str, str]
#: (status, recall, code, from the sender) -> (status, recall) after it, or why not.
Transitions = dict[
    tuple[str | None, str | None, str, bool], "tuple[str | None, str | None] | ImpossibleTransition"
]


@dataclass(slots=True)
class PendingChanges:
    """Changes since the last write, as plain values (picklable): rows are made elsewhere."""

    documents: list[DocumentChange] = field(default_factory=list)
    notices: list[NoticeChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.documents or self.notices)


#: Writes a batch of changes durably (in-process, or in a writer process).
ChangeWriter = Callable[[PendingChanges], None]


class StoreReadNeeded(Exception):
    """:meth:`Tracker.apply_notice` must see the store's rows for ``key`` to decide.

    Raised only by a tracker whose ``reads_inline`` is off (the router's): the caller
    reads them off its event loop (:meth:`Tracker.read_delivery`, in a thread), hands
    them back (:meth:`Tracker.remember`) and routes the record again.
    """

    def __init__(self, key: Key) -> None:
        super().__init__(f"the tracking store's rows for {key} are needed")
        self.key = key


@dataclass(frozen=True, slots=True)
class StoreRead:
    """What the store holds for one delivery: its row and its document's, if any."""

    key: Key
    delivery: DeliveryRow | None
    document: DocumentRow | None


class Tracker:
    """Tracks deliveries in a :class:`TrackingStore`, with a bounded cache of recent ones.

    The cache forgets first the deliveries whose last change is oldest: a notice makes its
    delivery young again. The router writes a batch's changes while it routes the next,
    so a delivery forgotten right after a notice moved it on would be read back from a
    store without that notice, and its next step refused as impossible (a full-scale
    replay, its deliveries waiting minutes for their answers, lost 03s so). A notice for a
    forgotten delivery reads it back from the store. With ``reads_inline`` (the default,
    for tools and tests) it reads the store itself; off (a router on an event loop), it
    raises :class:`StoreReadNeeded` and the caller reads the store off its loop.
    """

    def __init__(
        self,
        store: TrackingStore,
        calendar: WorkingCalendar | None = None,
        *,
        cache_size: int = 200_000,
        writer: ChangeWriter | None = None,
        reads_inline: bool = True,
    ) -> None:
        self.store = store
        self.reads_inline = reads_inline
        #: Store reads handed back by the caller, each used by the next notice of its key.
        self._reads: dict[Key, StoreRead] = {}
        self._writer = writer
        self.calendar = calendar or WorkingCalendar.load()
        self._cache: collections.OrderedDict[Key, _Entry] = collections.OrderedDict()
        self._cache_size = cache_size
        #: document id -> digest of the record that carried it, for the most recent ones
        self._documents: collections.OrderedDict[str, bytes] = collections.OrderedDict()
        self._pending = PendingChanges()
        #: Called with the number of new deliveries sent on a day the calendar does not
        #: cover (their deadline is unknown); the router counts them in a metric.
        self.on_unknown_deadline: Callable[[int], None] | None = None
        self._uncovered_days_logged: set[dt.date] = set()
        self._transitions: Transitions = {}  # the lifecycle is small: remember its answers

    def on_document(
        self, doc: DocumentEnvelope, deliveries: Sequence[tuple[str, str]], *, digest: bytes = b""
    ) -> None:
        """Record ``doc`` delivered to ``(recipient unit, inbox agency)`` pairs.

        ``digest`` (:func:`record_digest`) identifies the record's bytes: the same id
        again with other bytes is refused (``document_id_reused``), the same bytes again
        are a redelivery. The check is against the cached documents; call
        :meth:`recall_documents` first for a batch to extend it to every document the
        store has.
        """
        document_id, sender = doc.document_id, doc.sender
        documents = self._documents
        known = documents.get(document_id)
        if known and digest and known != digest:
            raise RoutingRejected(
                "document_id_reused",
                f"document id {document_id} was routed before with other content",
            )
        documents[document_id] = digest
        if len(documents) > self._cache_size:
            documents.popitem(last=False)
        cache = self._cache
        fresh = _entry(sender, None, None, ())
        new = []
        for pair in deliveries:
            key = (document_id, pair[0])
            if key not in cache:  # a redelivered document keeps the state it has
                cache[key] = fresh
                new.append(pair)
        if len(cache) > self._cache_size:
            self._evict()
        if new:
            self._check_calendar_covers(doc, len(new))
        self._pending.documents.append(
            (
                document_id,
                sender,
                doc.code,
                doc.subject,
                doc.priority,
                doc.sent_at.timestamp(),
                doc.business_type,
                doc.related_document_id,
                doc.due_date,
                new,
                digest,
            )
        )

    def recall_documents(self, document_ids: Iterable[str]) -> None:
        """Read back the digests of those of ``document_ids`` the cache has forgotten (or
        never saw: another router routed them), one store query for a whole batch, so a
        document id reused long after its first use is still refused."""
        self.remember_digests(self.read_digests(self.forgotten(document_ids)))

    def forgotten(self, document_ids: Iterable[str]) -> list[str]:
        """Those of ``document_ids`` whose digests the cache does not hold."""
        documents = self._documents
        return [i for i in dict.fromkeys(document_ids) if i not in documents]

    def read_digests(self, document_ids: list[str]) -> dict[str, bytes]:
        """The store's digests of ``document_ids`` (store I/O only: any one thread)."""
        return self.store.digests(document_ids) if document_ids else {}

    def remember_digests(self, digests: dict[str, bytes]) -> None:
        """Add digests read by :meth:`read_digests` to the cache."""
        documents = self._documents
        documents.update(digests)
        while len(documents) > self._cache_size:
            documents.popitem(last=False)

    def read_delivery(self, key: Key) -> StoreRead:
        """The store's rows for delivery ``key`` (store I/O only: any one thread)."""
        row = self.store.delivery(*key)
        return StoreRead(key, row, self.store.document(key[0]))

    def remember(self, read: StoreRead) -> None:
        """Hand back a :meth:`read_delivery` that a :class:`StoreReadNeeded` asked for."""
        self._reads[read.key] = read

    def _store_read(self, key: Key) -> StoreRead:
        """The store's rows for ``key``: handed back by the caller, or read here if allowed."""
        read = self._reads.pop(key, None)
        if read is not None:
            return read
        if not self.reads_inline:
            raise StoreReadNeeded(key)
        return self.read_delivery(key)

    def apply_steps(self, notice: StatusNotice) -> bool:
        """Check and apply each step ``notice`` carries, oldest first, all or none: True if
        any was new; RoutingRejected (nothing applied) if one is impossible."""
        if not notice.earlier:
            return self.apply_notice(notice)
        key = _delivery_key(notice)
        before, pending = self._cache.get(key), len(self._pending.notices)
        try:
            steps: tuple[NoticeStep | StatusNotice, ...] = (*notice.earlier, notice)
            return any([self._apply(notice, step) for step in steps])
        except BaseException:
            if before is None:
                self._cache.pop(key, None)
            else:
                self._cache[key] = before
            del self._pending.notices[pending:]
            raise

    def apply_notice(self, notice: StatusNotice) -> bool:
        """Check and apply ``notice``; False if it was applied before; RoutingRejected if impossible."""
        return self._apply(notice, notice)

    def _apply(self, notice: StatusNotice, step: StatusNotice | NoticeStep) -> bool:
        """:meth:`apply_notice` for one ``step`` of ``notice``'s delivery (its own status
        or one of :attr:`~StatusNotice.earlier`): no notice is built for the step."""
        document_id, from_agency = notice.document_id, notice.from_agency
        from_sender = from_agency == notice.document_sender  # a recall, from the sender
        key = _delivery_key(notice)
        recipient = key[1]
        entry = self._cache.get(key)
        from_store = entry is None
        if entry is None:
            entry = self._load(key)
        sender = entry[0]
        if from_sender != (from_agency == sender):
            raise RoutingRejected(
                "not_a_recipient",
                f"{from_agency} is neither sender nor recipient of {document_id}",
            )
        if not from_sender and notice.to_agency != sender:
            raise RoutingRejected(
                "wrong_addressee",
                f"a notice about {document_id} must go to its sender {sender}",
            )
        code, at = step.status_code, step.timestamp.timestamp()
        applied = (code, at)
        if applied in entry[3]:
            return False
        outcome = self._transitions.get((entry[1], entry[2], code, from_sender))
        if outcome is None:
            outcome = self._transition(entry, code, from_sender)
        if (
            isinstance(outcome, ImpossibleTransition)
            and not from_store
            and (fresher := self._fresher(key, entry))
        ):
            entry = fresher  # another router moved the delivery on: the store knows more
            if applied in entry[3]:
                return False
            outcome = self._transition(entry, code, from_sender)
        if isinstance(outcome, ImpossibleTransition):
            raise RoutingRejected(
                outcome.kind, f"{document_id} for {recipient}: {outcome}"
            ) from outcome
        cache = self._cache
        cache[key] = _entry(sender, outcome[0], outcome[1], (*entry[3], applied))
        cache.move_to_end(key)  # forgotten last: the store may not have this change yet
        self._pending.notices.append(
            (document_id, recipient, code, at, from_agency, step.description)
        )
        return True

    def _transition(
        self, entry: _Entry, code: str, from_sender: bool
    ) -> tuple[str | None, str | None] | ImpossibleTransition:
        """The delivery's (status, recall) after ``code``, or why it cannot apply (remembered)."""
        outcome: tuple[str | None, str | None] | ImpossibleTransition
        try:
            state = DeliveryState(entry.status, entry.recall).after(code, from_sender=from_sender)
            outcome = (state.status, state.recall)
        except ImpossibleTransition as exc:
            outcome = exc
        self._transitions[(entry.status, entry.recall, code, from_sender)] = outcome
        return outcome

    def take_changes(self) -> PendingChanges:
        """The changes since the last call, for :meth:`write` (perhaps in another thread)."""
        changes, self._pending = self._pending, PendingChanges()
        return changes

    def write(self, changes: PendingChanges) -> None:
        """Write ``changes`` durably: through the writer given, else in this process."""
        if self._writer is not None:
            self._writer(changes)
        else:
            write_changes(self.store, self.calendar, changes)

    def flush(self) -> None:
        """Write and commit the changes since the last flush."""
        self.write(self.take_changes())

    def _load(self, key: Key) -> _Entry:
        """A delivery the cache no longer holds, from the store; RoutingRejected if none."""
        document_id, recipient = key
        read = self._store_read(key)
        if read.delivery is None:
            if document_id not in self._documents and read.document is None:
                raise RoutingRejected("unknown_document", f"no document {document_id} was routed")
            raise RoutingRejected(
                "not_a_recipient", f"{recipient} is not a recipient of {document_id}"
            )
        return self._cached_from(read)

    def _fresher(self, key: Key, entry: _Entry) -> _Entry | None:
        """The store's delivery if it has more history than the cache's ``entry`` (several
        routers: another one applied notices this router's cache has not seen)."""
        read = self._store_read(key)
        if read.delivery is None or len(read.delivery.history) <= len(entry[3]):
            return None
        return self._cached_from(read)

    def _cached_from(self, read: StoreRead) -> _Entry:
        key, row, doc = read.key, read.delivery, read.document
        assert row is not None and doc is not None
        applied = tuple((h.code, dt.datetime.fromisoformat(h.at).timestamp()) for h in row.history)
        entry = _entry(doc.sender, row.status, row.recall, applied)
        self._cache[key] = entry
        if len(self._cache) > self._cache_size:
            self._evict()
        return entry

    def _evict(self) -> None:
        """Forget the oldest deliveries beyond the cache's size (the store still has them)."""
        cache = self._cache
        while len(cache) > self._cache_size:
            cache.popitem(last=False)

    def _check_calendar_covers(self, doc: DocumentEnvelope, deliveries: int) -> None:
        """Count and log (once a day) deliveries whose deadline the calendar cannot set."""
        day = doc.sent_at.astimezone(VN_TIME).date()
        calendar = self.calendar
        if calendar.first_day <= day <= calendar.last_day:
            return
        if self.on_unknown_deadline is not None:
            self.on_unknown_deadline(deliveries)
        if day not in self._uncovered_days_logged:
            self._uncovered_days_logged.add(day)
            log.error(
                "deadline_unknown",
                document_id=doc.document_id,
                reason=str(CalendarRangeError(day, calendar.first_day, calendar.last_day)),
            )

    def overdue(
        self, now: dt.datetime | None = None, agency: str | None = None
    ) -> list[DeliveryRow]:
        """Deliveries past their acceptance deadline (written ones: flush first)."""
        return self.store.overdue(now or dt.datetime.now(dt.UTC), agency)


def write_changes(store: TrackingStore, calendar: WorkingCalendar, changes: PendingChanges) -> None:
    """Turn ``changes`` into rows (deadlines included) and commit them in one transaction."""
    batch = WriteBatch()
    for (
        document_id,
        sender,
        code,
        subject,
        priority,
        sent_at,
        business_type,
        related,
        due_date,
        deliveries,
        digest,
    ) in changes.documents:
        sent_moment = dt.datetime.fromtimestamp(sent_at, dt.UTC)
        sent = round(sent_at * 1_000_000)
        batch.documents.append(
            (
                document_id,
                sender,
                code,
                subject,
                priority,
                sent,
                business_type,
                related,
                digest or None,
            )
        )
        if deliveries:
            try:
                deadline = micros(
                    calendar.acceptance_deadline(
                        sent_at=sent_moment, priority=priority, due_date=due_date
                    )
                )
            except CalendarRangeError:  # counted and logged by the tracker in the router
                deadline = NO_DEADLINE
            batch.deliveries.extend(
                (document_id, recipient, agency, deadline, sent) for recipient, agency in deliveries
            )
        if business_type and related:
            batch.effects.append((EFFECTS[BusinessType(business_type)], document_id, related))
    batch.history = [
        (document_id, recipient, code, round(at * 1_000_000), by, description)
        for document_id, recipient, code, at, by, description in changes.notices
    ]
    if batch:
        store.write(batch)
    store.commit()


def _delivery_key(notice: StatusNotice) -> Key:
    """The delivery ``notice`` is about: (document, recipient); a recall comes from the
    document's sender and names the recipient as its addressee."""
    from_sender = notice.from_agency == notice.document_sender
    return (notice.document_id, notice.to_agency if from_sender else notice.from_agency)

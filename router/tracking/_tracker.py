"""The tracker: every routed document's deliveries, checked and advanced by each notice.

The router calls :meth:`Tracker.on_document` for each document it delivers and
:meth:`Tracker.check_notice` / :meth:`Tracker.on_notice` for each status notice; it
calls :meth:`flush` once a batch before committing offsets. A notice it already applied
(a redelivery after a crash) is recognised and passed on without a second transition.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from docbus._exceptions import RoutingRejected
from router.tracking._calendar import WorkingCalendar
from router.tracking._store import DeliveryRow, DocumentRow, HistoryRow, TrackingStore, iso
from schemas import BusinessType, DeliveryState, Document, ImpossibleTransition, StatusNotice

__all__ = ["EFFECTS", "Tracker"]

#: What a revoke, update or replace does to the document it names.
EFFECTS = {
    BusinessType.REVOKE: "revoked",
    BusinessType.UPDATE: "updated",
    BusinessType.REPLACE: "replaced",
}
Key = tuple[str, str]


@dataclass(slots=True)
class _Entry:
    """What the tracker remembers of a delivery between batches."""

    row: DeliveryRow
    sender: str
    applied: set[tuple[str, str]] = field(default_factory=set)

    @property
    def state(self) -> DeliveryState:
        return DeliveryState(self.row.status, self.row.recall)


class Tracker:
    """Tracks deliveries in a :class:`TrackingStore`, with a bounded cache of recent ones."""

    def __init__(
        self,
        store: TrackingStore,
        calendar: WorkingCalendar | None = None,
        *,
        cache_size: int = 200_000,
    ) -> None:
        self.store = store
        self.calendar = calendar or WorkingCalendar.load()
        self._cache: collections.OrderedDict[Key, _Entry] = collections.OrderedDict()
        self._cache_size = cache_size

    def on_document(self, doc: Document, deliveries: Sequence[tuple[str, str]]) -> None:
        """Record ``doc`` delivered to ``(recipient unit, inbox agency)`` pairs, with deadlines."""
        deadline = iso(
            self.calendar.acceptance_deadline(
                sent_at=doc.sent_at, priority=doc.priority, due_date=doc.due_date
            )
        )
        sent = iso(doc.sent_at)
        rows = [
            DeliveryRow(doc.document_id, recipient, agency, None, None, deadline, sent)
            for recipient, agency in deliveries
        ]
        self.store.add_document(
            DocumentRow(
                document_id=doc.document_id,
                sender=doc.sender,
                code=doc.code,
                subject=doc.subject,
                priority=doc.priority,
                sent_at=sent,
                business_type=doc.business.business_type,
                related_document_id=doc.business.related_document_id,
            ),
            rows,
        )
        for row in rows:
            self._remember((doc.document_id, row.recipient), _Entry(row, doc.sender))
        effect = EFFECTS.get(BusinessType(doc.business.business_type))
        if effect is not None and doc.business.related_document_id:
            self.store.set_effect(doc.business.related_document_id, effect, doc.document_id)

    def check_notice(self, notice: StatusNotice) -> DeliveryState | None:
        """The state ``notice`` leads to; ``None`` for one already applied; else RoutingRejected."""
        recipient, from_sender = self._parties(notice)
        entry = self._entry(notice.document_id, recipient)
        if entry is None:
            if self.store.document(notice.document_id) is None:
                raise RoutingRejected(
                    "unknown_document", f"no document {notice.document_id} was routed"
                )
            raise RoutingRejected(
                "not_a_recipient", f"{recipient} is not a recipient of {notice.document_id}"
            )
        if from_sender != (notice.from_agency == entry.sender):
            raise RoutingRejected(
                "not_a_recipient",
                f"{notice.from_agency} is neither sender nor recipient of {notice.document_id}",
            )
        if not from_sender and notice.to_agency != entry.sender:
            raise RoutingRejected(
                "wrong_addressee",
                f"a notice about {notice.document_id} must go to its sender {entry.sender}",
            )
        if (notice.status_code, iso(notice.timestamp)) in entry.applied:
            return None
        try:
            return entry.state.after(notice.status_code, from_sender=from_sender)
        except ImpossibleTransition as exc:
            raise RoutingRejected(exc.kind, f"{notice.document_id} for {recipient}: {exc}") from exc

    def on_notice(self, notice: StatusNotice, state: DeliveryState) -> None:
        """Apply a checked notice: new state, one more history line."""
        recipient, _ = self._parties(notice)
        entry = self._entry(notice.document_id, recipient)
        assert entry is not None
        at = iso(notice.timestamp)
        entry.row.status, entry.row.recall, entry.row.updated_at = state.status, state.recall, at
        entry.applied.add((notice.status_code, at))
        self.store.record(
            entry.row, HistoryRow(notice.status_code, at, notice.from_agency, notice.description)
        )

    def flush(self) -> None:
        """Commit the batch's writes."""
        self.store.commit()

    @staticmethod
    def _parties(notice: StatusNotice) -> tuple[str, bool]:
        """(the delivery's recipient unit, whether the document's sender sent the notice)."""
        if notice.from_agency == notice.document_sender:  # a recall, from the sender
            return notice.to_agency, True
        return notice.from_agency, False

    def _entry(self, document_id: str, recipient: str) -> _Entry | None:
        key = (document_id, recipient)
        entry = self._cache.get(key)
        if entry is not None:
            self._cache.move_to_end(key)
            return entry
        row = self.store.delivery(document_id, recipient)
        if row is None:
            return None
        doc = self.store.document(document_id)
        assert doc is not None
        entry = _Entry(row, doc.sender, {(h.code, h.at) for h in row.history})
        self._remember(key, entry)
        return entry

    def _remember(self, key: Key, entry: _Entry) -> None:
        self._cache[key] = entry
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def overdue(
        self, now: dt.datetime | None = None, agency: str | None = None
    ) -> list[DeliveryRow]:
        """Deliveries past their acceptance deadline."""
        return self.store.overdue(now or dt.datetime.now(dt.UTC), agency)

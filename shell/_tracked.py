"""What the tracking store says of a document and its deliveries, as JSON-ready values:
one answer for ``docbus track --json`` and the HTTP gateway."""

from __future__ import annotations

import datetime as dt
from typing import Any

from router.tracking import DeliveryRow, Tracker
from schemas import DeliveryState

__all__ = ["delivery_json", "document_json", "is_overdue"]


def document_json(tracker: Tracker, document_id: str, now: dt.datetime) -> dict[str, Any] | None:
    """The document's state with each recipient; ``None`` if it is not tracked."""
    document = tracker.store.document(document_id)
    if document is None:
        return None
    return {
        "document_id": document_id,
        "sender": document.sender,
        "subject": document.subject,
        "priority": document.priority,
        "sent_at": document.sent_at,
        "effect": None
        if document.effect is None
        else {"kind": document.effect, "by": document.effect_by},
        "recipients": [delivery_json(d, now) for d in tracker.store.deliveries(document_id)],
    }


def delivery_json(delivery: DeliveryRow, now: dt.datetime) -> dict[str, Any]:
    """One delivery: its state, deadline, whether it is overdue, and its history."""
    state = DeliveryState(delivery.status, delivery.recall)
    return {
        "document_id": delivery.document_id,
        "code": delivery.recipient,
        "agency": delivery.agency,
        "status": delivery.status,
        "recall": delivery.recall,
        "state": state.label,
        "deadline": delivery.deadline,
        "overdue": is_overdue(delivery, now),
        "history": [
            {"code": h.code, "at": h.at, "by": h.by_agency, "description": h.description}
            for h in delivery.history
        ],
    }


def is_overdue(delivery: DeliveryRow, now: dt.datetime) -> bool:
    """Whether an unanswered (or only arrived) delivery is past its acceptance deadline."""
    waiting = delivery.status in (None, "01") and delivery.recall != "15"
    return waiting and dt.datetime.fromisoformat(delivery.deadline) < now

"""A document's routing envelope: what the router reads of it, decoded without the rest.

Document schema version 4 writes these fields first, so a reader decodes them with a
schema that stops after them and never touches the content, the attachments or the
trace. Older versions put priority and sent_at after the content: their envelope comes
from a full decode (:meth:`schemas.Codec.decode_envelope`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from schemas._errors import InvalidDocumentError
from schemas._models import BusinessType, Document, Priority, enum_member

__all__ = ["ENVELOPE_FIELDS", "DocumentEnvelope"]

#: The leading fields of document schema v4, in order.
ENVELOPE_FIELDS = (
    "document_id",
    "sender",
    "recipients",
    "priority",
    "sent_at",
    "document_type",
    "code_number",
    "code_notation",
    "promulgation_date",
    "subject",
    "due_date",
    "business",
)
_PRIORITIES = frozenset(int(p) for p in Priority)
_BUSINESS_TYPES = frozenset(int(b) for b in BusinessType)


@dataclass(frozen=True, slots=True)
class DocumentEnvelope:
    """Who sends a document to whom, how urgently, and what the tracker records of it:
    plain values, no nested models (0.8 µs to build against 10 µs for the models)."""

    document_id: str
    sender: str
    recipients: tuple[str, ...]
    priority: int
    sent_at: dt.datetime
    #: DocumentType.type (1: official letter)
    document_type: int
    code_number: str
    code_notation: str
    promulgation_date: dt.date
    subject: str
    due_date: dt.date | None
    business_type: int
    related_document_id: str | None

    @property
    def code(self) -> str:
        """``<number>/<notation>``, as :attr:`schemas.Document.code`."""
        return f"{self.code_number}/{self.code_notation}"

    @classmethod
    def from_record(cls, r: dict[str, Any]) -> DocumentEnvelope:
        """The envelope of a decoded record (its envelope fields, or all of them);
        ``InvalidDocumentError`` for a priority or business type outside its code list."""
        priority, business = r["priority"], r["business"]
        if priority not in _PRIORITIES:
            enum_member(Priority, priority, "priority", InvalidDocumentError)
        if business["business_type"] not in _BUSINESS_TYPES:
            enum_member(
                BusinessType, business["business_type"], "business_type", InvalidDocumentError
            )
        return cls(
            r["document_id"],
            r["sender"],
            tuple(r["recipients"]),
            priority,
            r["sent_at"],
            r["document_type"]["type"],
            r["code_number"],
            r["code_notation"],
            r["promulgation_date"],
            r["subject"],
            r["due_date"],
            business["business_type"],
            business["related_document_id"],
        )

    @classmethod
    def of(cls, document: Document) -> DocumentEnvelope:
        """The envelope of a whole ``document``."""
        return cls(
            document.document_id,
            document.sender,
            document.recipients,
            int(document.priority),
            document.sent_at,
            document.document_type.type,
            document.code_number,
            document.code_notation,
            document.promulgation_date,
            document.subject,
            document.due_date,
            int(document.business.business_type),
            document.business.related_document_id,
        )

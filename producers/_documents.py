"""Building documents the way agencies number them: ``<sender>,<yyyy/MM/dd>,<number>/<notation>``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from schemas import (
    VN_TIME,
    Document,
    DocumentType,
    InvalidDocumentError,
    Priority,
    Signer,
    enum_member,
)

__all__ = ["OFFICIAL_LETTER", "new_document_id", "official_letter"]

#: edXML DocumentType 1: "Công văn", an official letter.
OFFICIAL_LETTER = DocumentType(type=1, type_name="Công văn")


def new_document_id(sender: str, date: dt.date, number: str, notation: str) -> str:
    """The edXML DocumentId of document ``number/notation`` of ``sender`` dated ``date``."""
    return f"{sender},{date:%Y/%m/%d},{number}/{notation}"


def official_letter(
    *,
    sender: str,
    recipients: Sequence[str],
    subject: str,
    number: str,
    notation: str,
    priority: Priority | int = Priority.NORMAL,
    document_type: DocumentType = OFFICIAL_LETTER,
    place: str = "Hà Nội",
    signer: Signer | None = None,
    content: str = "",
    sent_at: dt.datetime | None = None,
) -> Document:
    """A new document dated today (UTC+7), ready to send; InvalidDocumentError for a
    priority outside 0-4."""
    now = sent_at or dt.datetime.now(dt.UTC)
    today = now.astimezone(VN_TIME).date()
    return Document(
        document_id=new_document_id(sender, today, number, notation),
        sender=sender,
        recipients=tuple(recipients),
        code_number=number,
        code_notation=notation,
        promulgation_place=place,
        promulgation_date=today,
        document_type=document_type,
        subject=subject,
        content=content,
        signer=signer or Signer(position="Chánh Văn phòng", full_name="Nguyễn Văn An"),
        priority=enum_member(Priority, priority, "priority", InvalidDocumentError),
        sent_at=now,
    )

"""The sender SDK agencies use, the simulated sending agencies, and the yearly workload model."""

from producers._documents import new_document_id, official_letter
from producers._outbox import OutboxWriter, SendReceipt
from producers._sender import Sender
from producers._workload import (
    YEARS,
    Answer,
    DayShape,
    ReceiverBehaviour,
    YearProfile,
    YearWorkload,
)

__all__ = [
    "YEARS",
    "Answer",
    "DayShape",
    "OutboxWriter",
    "ReceiverBehaviour",
    "SendReceipt",
    "Sender",
    "YearProfile",
    "YearWorkload",
    "new_document_id",
    "official_letter",
]

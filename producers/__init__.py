"""The sender SDK agencies use, and the simulated sending agencies of demos and load tests."""

from producers._documents import new_document_id, official_letter
from producers._outbox import OutboxWriter, SendReceipt
from producers._sender import Sender

__all__ = ["OutboxWriter", "SendReceipt", "Sender", "new_document_id", "official_letter"]

"""The sender SDK agencies use: :class:`Sender` and the document builders.

The lab's side (the yearly workload model, the simulated agencies' mix, hostile records)
is ``producers.simulation``.
"""

from docbus import SendReceipt
from producers._documents import new_document_id, official_letter
from producers._sender import Sender

__all__ = ["SendReceipt", "Sender", "new_document_id", "official_letter"]

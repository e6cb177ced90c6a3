"""The lab's receiving side: simulated agencies that acknowledge what they receive, and a ledger of it."""

from consumers.simulation._agencies import AcknowledgingAgency, DeliveryLedger

__all__ = [
    "AcknowledgingAgency",
    "DeliveryLedger",
]

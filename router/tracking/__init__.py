"""Tracking every delivery: its lifecycle, history and acceptance deadline."""

from router.tracking._overdue import OverdueCounter
from router.tracking._rebuild import RebuildReport, rebuild_tracking
from router.tracking._store import (
    DeliveryRow,
    DocumentRow,
    HistoryRow,
    SqlTrackingStore,
    TrackingStore,
    open_store,
)
from router.tracking._tracker import (
    EFFECTS,
    PendingChanges,
    StoreRead,
    StoreReadNeeded,
    Tracker,
    record_digest,
)

__all__ = [
    "EFFECTS",
    "DeliveryRow",
    "DocumentRow",
    "HistoryRow",
    "OverdueCounter",
    "PendingChanges",
    "RebuildReport",
    "SqlTrackingStore",
    "StoreRead",
    "StoreReadNeeded",
    "Tracker",
    "TrackingStore",
    "open_store",
    "rebuild_tracking",
    "record_digest",
]

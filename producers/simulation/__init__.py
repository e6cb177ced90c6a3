"""The lab's sending side: the yearly workload model, the simulated agencies' document mix, hostile records.

Used by the demo, the replay and the load tests; agencies use ``producers``' SDK instead."""

from producers.simulation._bad_records import (
    BAD_RECORD_KINDS,
    BadRecord,
    bad_records,
)
from producers.simulation._mix import DocumentMix
from producers.simulation._workload import (
    YEARS,
    Answer,
    DayShape,
    Draws,
    ReceiverBehaviour,
    YearProfile,
    YearWorkload,
)

__all__ = [
    "BAD_RECORD_KINDS",
    "YEARS",
    "Answer",
    "BadRecord",
    "DayShape",
    "DocumentMix",
    "Draws",
    "ReceiverBehaviour",
    "YearProfile",
    "YearWorkload",
    "bad_records",
]

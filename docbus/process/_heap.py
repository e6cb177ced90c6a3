"""Keeping a long-running service's heap out of the garbage collector's way."""

from __future__ import annotations

import gc

__all__ = ["SERVICE_GC_THRESHOLDS", "tune_service_heap"]

#: Collect the youngest generation every 20,000 net allocations rather than 700: a router
#: keeps a whole fetched batch (thousands of decoded records) young, and each collection
#: walked it. Older generations keep their ratios (10, 10), so cycles are still found.
SERVICE_GC_THRESHOLDS = (20_000, 10, 10)


def tune_service_heap() -> None:
    """Collect once, exempt every object alive now from later collections, collect less often.

    For a service process, after it has started: the router's directory index alone is
    about 97,000 objects, and each full collection walked all of them (42 ms each,
    measured); frozen, they are never scanned again. Objects that die later are still
    freed by reference counting. With the thresholds raised, the tracking benchmark's
    process spent 1.22 s collecting instead of 2.08 s (BENCHMARKS.md).
    Call it from a process's entry point, never a library.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVICE_GC_THRESHOLDS)

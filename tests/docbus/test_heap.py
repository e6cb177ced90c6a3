"""Tests for docbus.process._heap: start-up objects leave the collector's generations."""

from __future__ import annotations

import gc
import weakref

from docbus.process._heap import SERVICE_GC_THRESHOLDS, tune_service_heap


def test_objects_alive_at_tuning_are_frozen_and_thresholds_raised() -> None:
    """Objects alive at start-up are frozen, and the young generation is collected less often."""
    before = gc.get_freeze_count()
    thresholds = gc.get_threshold()
    survivors = [[n] for n in range(1000)]  # container objects the collector tracks
    try:
        tune_service_heap()
        assert gc.get_freeze_count() >= before + len(survivors)
        assert gc.get_threshold() == SERVICE_GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


class _Node:
    """A container that can sit in a reference cycle (and be watched by weak reference)."""

    def __init__(self) -> None:
        self.other: _Node | None = None


def test_cycles_are_still_collected_under_the_service_thresholds() -> None:
    """Raised thresholds collect less often, not never: cyclic garbage made after tuning is
    freed by an automatic collection once the young generation's threshold is passed."""
    thresholds = gc.get_threshold()
    try:
        tune_service_heap()
        first = _Node()
        first.other = first
        watched = weakref.ref(first)
        del first
        assert watched() is not None  # a cycle: reference counting alone cannot free it
        for _ in range(SERVICE_GC_THRESHOLDS[0] + 1000):  # net allocations past the threshold
            node = _Node()
            node.other = node
        assert watched() is None
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)

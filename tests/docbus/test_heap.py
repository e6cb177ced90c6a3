"""Tests for docbus.process._heap: start-up objects leave the collector's generations."""

from __future__ import annotations

import gc

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

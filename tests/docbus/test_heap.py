"""Tests for docbus._heap: start-up objects leave the collector's generations."""

from __future__ import annotations

import gc

from docbus._heap import freeze_startup_heap


def test_objects_alive_at_freeze_are_no_longer_collected_generations() -> None:
    before = gc.get_freeze_count()
    survivors = [[n] for n in range(1000)]  # container objects the collector tracks
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() >= before + len(survivors)
    finally:
        gc.unfreeze()

"""Tests for docbus._together: every awaitable finishes before a failure is raised."""

from __future__ import annotations

import asyncio

import pytest

from docbus import all_finished


async def test_results_in_order_and_a_failure_only_after_all_finished() -> None:
    """The results come back in order; with one failing, the slower one still completes
    before the failure reaches the caller."""
    finished: list[str] = []

    async def slow(name: str) -> str:
        await asyncio.sleep(0.05)
        finished.append(name)
        return name

    async def fails() -> str:
        raise ValueError("cannot start")

    assert await all_finished(slow("a"), slow("b")) == ["a", "b"]
    with pytest.raises(ValueError, match="cannot start"):
        await all_finished(fails(), slow("c"))
    assert finished == ["a", "b", "c"]

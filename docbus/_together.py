"""Awaiting several things at once, with every one of them finished before an error is raised."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

__all__ = ["all_finished"]


async def all_finished(*awaitables: Awaitable[Any]) -> list[Any]:
    """Await ``awaitables`` concurrently; their results, or the first failure raised once
    every one has finished (none is left half-started for the caller's cleanup)."""
    outcomes = await asyncio.gather(*awaitables, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return outcomes

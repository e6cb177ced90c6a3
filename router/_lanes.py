"""How the router's producer lingers for the lanes it routes (:mod:`docbus._lanes`)."""

from __future__ import annotations

from collections.abc import Iterable

from docbus import Settings, lane_names

__all__ = ["producer_linger_ms"]


def producer_linger_ms(settings: Settings, names: Iterable[str]) -> int:
    """How long the producer of a router of the lanes ``names`` lingers: as long as the
    bulk lane gathers when no express record passes through it, the ordinary time otherwise."""
    return settings.linger_ms if "express" in lane_names(names) else settings.bulk_gather_ms

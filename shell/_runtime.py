"""Where a command gets its broker: the configured cluster, or an embedded one for its run."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TextIO

from docbus import Settings
from shell._broker import EmbeddedBroker

__all__ = ["bus_settings"]


@contextlib.asynccontextmanager
async def bus_settings(
    settings: Settings, *, announce: TextIO | None = None
) -> AsyncIterator[tuple[Settings, EmbeddedBroker | None]]:
    """Yield settings that point at a broker, starting an embedded one when none is given."""
    if settings.bootstrap_servers:
        yield settings, None
        return
    async with EmbeddedBroker() as broker:
        if announce is not None:
            print(f"embedded broker on {broker.bootstrap_servers}", file=announce)
        yield settings.for_embedded(broker.bootstrap_servers), broker

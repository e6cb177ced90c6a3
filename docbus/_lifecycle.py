"""The one lifecycle shape of every long-lived docbus part: unopened, open, closed."""

from __future__ import annotations

import abc
import enum
import warnings
from types import TracebackType
from typing import Self

from docbus._exceptions import ClientStateError

__all__ = ["Lifecycle", "Service", "State"]


class State(enum.Enum):
    """Where a long-lived part stands."""

    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


class Lifecycle:
    """Guards a part's transitions: open once, close any number of times."""

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self.state = State.UNOPENED

    def opening(self) -> None:
        """Mark the part open; refuse a second open or an open after close."""
        if self.state is not State.UNOPENED:
            raise ClientStateError(f"{self._owner} cannot be started: it is {self.state.value}")
        self.state = State.OPEN

    def closing(self) -> bool:
        """Mark the part closed; return False when it was not open (nothing to release)."""
        was_open = self.state is State.OPEN
        self.state = State.CLOSED
        return was_open

    def require_open(self) -> None:
        """Raise unless the part is open."""
        if self.state is not State.OPEN:
            raise ClientStateError(f"{self._owner} is {self.state.value}, not open")

    @property
    def is_open(self) -> bool:
        """Whether the part is open."""
        return self.state is State.OPEN


class Service(abc.ABC):
    """A long-lived part: ``start()``/``stop()``, and ``async with`` calling them.

    Subclasses set ``self._lifecycle`` in ``__init__``; one left open when collected
    warns with a ResourceWarning.
    """

    _lifecycle: Lifecycle

    @abc.abstractmethod
    async def start(self) -> None:
        """Open the part."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Close the part; safe to call twice."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def __del__(self, _warn: object = warnings.warn) -> None:
        lifecycle = getattr(self, "_lifecycle", None)
        if lifecycle is not None and lifecycle.is_open:
            warnings.warn(f"unclosed {self!r}", ResourceWarning, stacklevel=1)

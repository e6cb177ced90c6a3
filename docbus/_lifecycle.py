"""The one lifecycle shape of every long-lived docbus part: unopened, open, closed."""

from __future__ import annotations

import enum

from docbus._exceptions import ClientStateError

__all__ = ["Lifecycle", "State"]


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

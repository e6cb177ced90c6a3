"""Tests for docbus._lifecycle: open once, close any number of times."""

from __future__ import annotations

import pytest

from docbus import ClientStateError, Lifecycle, State


def test_open_once_close_twice() -> None:
    """A part opens once; a second open is refused; closing twice is safe."""
    life = Lifecycle("thing")
    life.opening()
    assert life.state is State.OPEN
    with pytest.raises(ClientStateError, match="open"):
        life.opening()
    assert life.closing() is True
    assert life.closing() is False
    with pytest.raises(ClientStateError, match="closed"):
        life.opening()


def test_require_open() -> None:
    """Using a part before it opens is refused."""
    with pytest.raises(ClientStateError, match="unopened"):
        Lifecycle("thing").require_open()

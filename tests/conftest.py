"""Shared fixtures: one embedded broker per test session, isolated topics per test."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from docbus import EmbeddedBroker, Settings
from docbus._logging import reset_logging


@pytest.fixture(scope="session")
async def broker() -> AsyncIterator[EmbeddedBroker]:
    """The embedded Tansu broker, started once for the whole run and always stopped."""
    async with EmbeddedBroker() as embedded:
        yield embedded


@pytest.fixture(scope="session")
def prefixes() -> Iterator[str]:
    """Distinct topic prefixes, so tests sharing the broker never see each other's records."""
    return (f"t{n}" for n in itertools.count())


@pytest.fixture
def settings(broker: EmbeddedBroker, prefixes: Iterator[str], tmp_path: Path) -> Settings:
    """Settings on the session broker, with this test's own topic prefix and state folder.

    Tansu holds a group join for half the session timeout, so tests use a short one.
    """
    return Settings(
        topic_prefix=next(prefixes), state_dir=tmp_path / "state", session_timeout_ms=1500
    ).for_embedded(broker.bootstrap_servers)


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    yield
    reset_logging()

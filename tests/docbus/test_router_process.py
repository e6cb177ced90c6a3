"""Tests for docbus._router_process: the router in a helper process."""

from __future__ import annotations

from pathlib import Path

import pytest

from docbus import Settings, free_port
from docbus._child import ChildFailed
from docbus._router_process import RouterProcess
from router._topics import ensure_bus_topics
from router.directory import Directory


async def test_a_router_process_starts_stops_and_reports(settings: Settings) -> None:
    """Started, it serves its metrics; stopped, it says what it routed (nothing here)."""
    await ensure_bus_topics(settings, Directory.load())
    async with RouterProcess(settings.replace(metrics_port=0)) as router:
        assert router.metrics_url is not None and router.metrics_url.startswith("http://")
    assert router.totals is not None and router.totals.documents_routed == 0


async def test_a_router_process_that_cannot_start_says_why(tmp_path: Path, keys_dir: Path) -> None:
    """No broker at the address: the parent gets ChildFailed naming the cause, not a hang."""
    nowhere = Settings(
        bootstrap_servers=f"127.0.0.1:{free_port()}",
        state_dir=tmp_path,
        keys_dir=keys_dir,
        request_timeout_ms=2000,
    )
    with pytest.raises(ChildFailed, match=r"docbus-router: .*starting the router"):
        async with RouterProcess(nowhere):
            pass

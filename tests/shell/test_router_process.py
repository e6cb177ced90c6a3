"""Tests for shell._router_process: the router in a helper process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from docbus import Settings
from docbus.directory import Directory
from producers import Sender
from router import ensure_bus_topics
from schemas import EXPRESS_PARTITION, TopicLayout
from shell import free_port
from shell._child import ChildFailed
from shell._router_process import RouterProcess, RouterProcesses
from tests.helpers import G22, H29, letter, read_topic


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
        home=tmp_path,
        keys_dir=keys_dir,
        request_timeout_ms=2000,
    )
    with pytest.raises(ChildFailed, match=r"docbus-router: .*starting the router"):
        async with RouterProcess(nowhere):
            pass


async def test_each_lane_in_a_process_of_its_own_routes_its_share(settings: Settings) -> None:
    """RouterProcesses: the express letter is routed by the express process, the normal
    one by the bulk process, each to its inbox lane; the totals add both up."""
    await ensure_bus_topics(settings, Directory.load())
    inbox = TopicLayout(settings.topic_prefix).inbox(H29)
    async with RouterProcesses(settings.replace(metrics_port=0)) as router:
        assert router.metrics_url is not None
        assert router.metrics_url != router.express.metrics_url is not None
        assert router.rss_bytes() > router.bulk.rss_bytes() > 0
        for process, name in ((router.bulk, "router-bulk"), (router.express, "router-express")):
            pid = process._child.pid  # what top shows, to tell the lanes and their writers apart
            assert _comm(pid) == name and "tracking-writer" in _children_comms(pid)
        # the bulk lane gives way to the express lane on a shared machine
        bulk_nice = os.getpriority(os.PRIO_PROCESS, router.bulk._child.pid)
        assert bulk_nice == os.getpriority(os.PRIO_PROCESS, router.express._child.pid) + 10
        async with Sender(agency=G22, settings=settings) as sender:
            await sender.send(letter(G22, (H29,), number=1, priority=0))
            await sender.send(letter(G22, (H29,), number=2, priority=4))
        delivered = await read_topic(settings, inbox, 2)
    assert sorted(r.partition == EXPRESS_PARTITION for r in delivered) == [False, True]
    assert router.bulk.totals is not None and router.bulk.totals.documents_routed == 1
    assert router.express.totals is not None and router.express.totals.documents_routed == 1
    assert router.totals is not None and router.totals.documents_routed == 2


def _comm(pid: int | None) -> str:
    return Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()


def _children_comms(parent: int | None) -> list[str]:
    """The names of ``parent``'s child processes, from each process's ``/proc/<pid>/stat``."""
    names = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        if int(fields[1]) == parent:
            names.append(_comm(int(stat.parent.name)))
    return names

"""The demo and the replay are self-contained wherever they run, and stop when refused.

(The demo on a broker of its own is what `make demo` runs.)

With the "Using it" variables exported (a broker, its kind, a topic prefix, a home with
the user's keys) and the user's router running, `docbus demo` and `docbus replay` use
their own prefix, keys and state: the user's router routes none of their records, the
user's home is untouched, and their topics are gone afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from consumers.simulation import AcknowledgingAgency, DeliveryLedger
from docbus import Keystore, Settings, list_topics
from docbus.directory import Directory
from producers.simulation import DocumentMix
from router import Router
from schemas import BUS_AGENCY, Codec, today_vn
from shell._refusals import RefusalWatch, RunRefused
from shell._simulated_bus import simulated_bus, wait_complete
from tests.helpers import run_docbus


def _files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}


def _own_topics(names: list[str]) -> set[str]:
    return {n for n in names if n.startswith(("demo-", "replay-"))}


@contextlib.asynccontextmanager
async def users_bus(
    settings: Settings, home: Path, runs: list[subprocess.CompletedProcess[str]] | None = None
) -> AsyncIterator[dict[str, str]]:
    """The user's side: "Using it" exported, keys in ``home``, the user's router running;
    yields the environment. On leaving: the user's router routed nothing, the user's keys
    are as they were, no receiver state or blob appeared in the home, and the run's
    topics are gone (else the end of the ``runs``' stderr says why)."""
    user = settings.replace(home=home, keys_dir=None)
    Keystore(user.keys_root).ensure([BUS_AGENCY, "000.00.00.G22", "000.00.00.H29"])
    before = _files(home)
    topics_before = _own_topics(await list_topics(settings))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DOCBUS_")},
        "DOCBUS_BOOTSTRAP_SERVERS": settings.bootstrap_servers or "",
        "DOCBUS_BROKER_KIND": "embedded",
        "DOCBUS_TOPIC_PREFIX": settings.topic_prefix,
        "DOCBUS_HOME": str(home),
    }
    async with Router(settings=user) as users_router:
        yield env
        routed = users_router.stats.documents_routed
    assert routed == 0  # the user's router saw none of the run's records
    after = _files(home)
    assert {k: v for k, v in after.items() if k.startswith("keys")} == before
    assert not [k for k in after if k.startswith(("receiver-", "blobs"))], after
    left = _own_topics(await list_topics(settings)) - topics_before
    assert not left, (sorted(left)[:5], [run.stderr[-1500:] for run in runs or []])


async def test_demo_beside_the_users_router(settings: Settings, tmp_path: Path) -> None:
    """`docbus demo --json`: 1,500 documents, nothing lost or duplicated, every notice
    back, the five bad records (malformed, spoofed, unsigned) dead-lettered with their
    senders told, and the router's metrics announced while they were served."""
    async with users_bus(settings, tmp_path / "home") as env:
        run = await run_docbus("demo", "--documents", "1500", "--json", env=env, timeout_s=240)
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads(run.stdout)
    assert summary["completed"] and summary["documents_sent"] == 1500
    assert summary["lost"] == 0 and summary["duplicates_delivered"] == 0
    assert summary["deliveries_received"] == summary["deliveries_expected"] > 1500
    assert summary["status_notices_returned"] == summary["status_notices_expected"]
    assert summary["dead_lettered"] == 5 and summary["rejections_returned"] == 5
    assert summary["elapsed_s"] > 0 and summary["docs_per_s"] > 0
    assert f"router metrics: {summary['metrics_url']}" in run.stderr


async def test_replay_beside_the_users_router(settings: Settings, tmp_path: Path) -> None:
    runs: list[subprocess.CompletedProcess[str]] = []
    async with users_bus(settings, tmp_path / "home", runs) as env:
        run = await run_docbus("replay", "--scale", "0.0001", "--json", env=env, timeout_s=240)
        runs.append(run)
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads(run.stdout)
    assert summary["completed"] and summary["lost"] == 0 and summary["documents"] == 1220


async def test_a_run_being_refused_stops_with_the_reason(
    settings: Settings, tmp_path: Path
) -> None:
    """Routers that trust none of the senders' keys refuse every document: the run stops
    once 100 records of one class are refused, naming the class and a reason."""
    directory = Directory.load()
    codes = [a.code for a in directory.open_at(today_vn())]
    strangers = tmp_path / "strangers-keys"
    Keystore(strangers).ensure([BUS_AGENCY])
    ledger = DeliveryLedger()
    async with simulated_bus(
        settings,
        directory=directory,
        codec=Codec(),
        codes=codes,
        ledger=ledger,
        clerk=lambda r, i: AcknowledgingAgency(r, ledger, seed=i),
        router=lambda s: Router(settings=s.replace(keys_dir=strangers), directory=directory),
    ) as bus:
        documents = list(DocumentMix(directory, seed=1).documents(300))
        await asyncio.gather(*(bus.senders[d.sender].send(d) for d in documents))
        ledger.expect(deliveries=1, notices=0, rejections=0)
        with pytest.raises(RunRefused, match="unknown_key") as refused:
            await wait_complete(ledger, 120, refusals=bus.refusals)
    assert refused.value.count >= 100 and "records refused as unknown_key" in str(refused.value)


def test_the_watch_counts_by_class_and_keeps_the_first_reason() -> None:
    watch = RefusalWatch(limit=3)
    for n in range(2):
        watch.refused("bad_signature", f"signature {n} does not verify")
        watch.refused("malformed", "truncated")
    watch.check()
    watch.refused("bad_signature", "late")
    with pytest.raises(RunRefused, match=r"3 records refused as bad_signature .*signature 0"):
        watch.check()

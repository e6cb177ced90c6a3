"""Benchmark: ``docbus receive --status 03`` draining an agency's inbox, this checkout
against another commit.

Prints one JSON object. Usage:
    python benchmarks/receive_cli.py --base 853f240 [--documents 2000] [--turns 3]

On an embedded broker, each turn and each arm (this checkout, a git worktree of
``--base``) gets ``--documents`` letters from the Government Office put straight into
the Ministry of Finance's inbox of a fresh topic prefix, signed as the router forwards
them; then ``docbus receive --agency H29 --status 03 --json`` runs as a child process
until it has printed them all. ``cpu_ms_per_doc`` is the child's CPU (user + system)
per document; ``drain_s`` its wall time less the idle ``--timeout`` it ends with.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _shared import HERE, children_cpu_s, docbus_env, worktree_of

from docbus import Keystore, Settings, Signers, create_missing_topics, produce_in_batches
from producers import official_letter
from schemas import BUS_AGENCY, HEADER_RECIPIENT, MAX_SIGNED_BATCH, Codec, TopicLayout

G22, H29 = "000.00.00.G22", "000.00.00.H29"
_IDLE_S = 2.0


async def _fill_inbox(settings: Settings, documents: int) -> None:
    """``documents`` letters from G22 in H29's inbox, signed in batches as senders sign."""
    await create_missing_topics(
        settings, TopicLayout(settings.topic_prefix).agency_topics([G22, H29])
    )
    codec = Codec()
    signer = Signers(Keystore(settings.keys_root))(G22)
    inbox = TopicLayout(settings.topic_prefix).inbox(H29)
    letters = [
        official_letter(
            sender=G22, recipients=[H29], subject=f"V/v thử {n}", number=f"r{n}", notation="VP"
        )
        for n in range(documents)
    ]
    values = [codec.encode(letter) for letter in letters]
    records: list[Any] = []
    for start in range(0, documents, MAX_SIGNED_BATCH):
        chunk = values[start : start + MAX_SIGNED_BATCH]
        for letter, value, headers in zip(
            letters[start:], chunk, signer.batch_headers(chunk), strict=False
        ):
            records.append(
                (
                    inbox,
                    letter.document_id.encode(),
                    value,
                    [*headers, (HEADER_RECIPIENT, H29.encode())],
                )
            )
    await produce_in_batches(settings, records)


def _receive(settings: Settings, tree: Path, documents: int) -> dict[str, float]:
    """Run ``docbus receive`` from ``tree`` until the inbox is drained; its cost."""
    env = {**docbus_env(settings), "PYTHONPATH": str(tree)}
    before = children_cpu_s()
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "shell.cli", "receive", "--agency", H29, "--status", "03",
         "--json", "--timeout", str(_IDLE_S)],
        env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    printed = len(run.stdout.splitlines())
    if printed != documents:
        raise RuntimeError(f"docbus receive printed {printed} of {documents}: {run.stderr}")
    cpu = children_cpu_s() - before
    return {
        "cpu_ms_per_doc": round(cpu / documents * 1000, 3),
        "drain_s": round(wall - _IDLE_S, 2),
    }


async def _turns(
    trees: dict[str, Path], documents: int, turns: int, scratch: Path
) -> dict[str, list[dict[str, float]]]:
    """Each arm in turn, alternating who goes first, on one embedded broker."""
    from shell import EmbeddedBroker

    runs: dict[str, list[dict[str, float]]] = {arm: [] for arm in trees}
    async with EmbeddedBroker() as broker:
        for turn in range(turns):
            arms = list(trees.items())
            for arm, tree in arms if turn % 2 == 0 else arms[::-1]:
                settings = Settings(
                    topic_prefix=f"rcv{turn}{arm}", home=scratch / f"{turn}{arm}"
                ).for_embedded(broker.bootstrap_servers)
                Keystore(settings.keys_root).ensure([BUS_AGENCY, G22, H29])
                await _fill_inbox(settings, documents)
                runs[arm].append(await asyncio.to_thread(_receive, settings, tree, documents))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit to compare with")
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--turns", type=int, default=3)
    args = parser.parse_args()
    with (
        worktree_of(args.base) as base,
        tempfile.TemporaryDirectory(prefix="docbus-receive-bench-") as scratch,
    ):
        trees = {"this": HERE, "base": base}
        runs = asyncio.run(_turns(trees, args.documents, args.turns, Path(scratch)))
    medians = {
        arm: {key: statistics.median(r[key] for r in rs) for key in ("cpu_ms_per_doc", "drain_s")}
        for arm, rs in runs.items()
    }
    print(
        json.dumps(
            {
                "benchmark": "receive_cli",
                "documents": args.documents,
                "base": args.base,
                "median": medians,
                "cpu_ratio_this_to_base": round(
                    medians["this"]["cpu_ms_per_doc"] / medians["base"]["cpu_ms_per_doc"], 3
                ),
                "runs": runs,
            }
        )
    )


if __name__ == "__main__":
    main()

"""Tests for producers.simulation._mix: the realistic, seeded document mix."""

from __future__ import annotations

import collections
import datetime as dt

from docbus.directory import Directory
from producers.simulation import DocumentMix
from schemas import check_document


def test_same_seed_same_documents() -> None:
    """Two mixes with one seed make the same documents (timestamps aside)."""
    directory = Directory.load()
    first = [d.document_id for d in DocumentMix(directory, seed=7).documents(200)]
    second = [d.document_id for d in DocumentMix(directory, seed=7).documents(200)]
    assert first == second


def test_mix_is_valid_and_realistic() -> None:
    """Every document is valid; the mix has ~1.4 deliveries each, mostly normal priority."""
    docs = list(DocumentMix(Directory.load(), seed=1).documents(5000))
    for doc in docs:
        check_document(doc)
    deliveries = sum(len(d.recipients) for d in docs) / len(docs)
    priorities = collections.Counter(d.priority for d in docs)
    assert 1.2 < deliveries < 1.7
    assert 0.8 < priorities[0] / len(docs) < 0.95
    assert priorities[3] + priorities[4] > 0
    assert len({d.document_id for d in docs}) == len(docs)
    assert max(len(d.recipients) for d in docs) >= 30  # some go to all provinces


def test_a_merged_province_sends_for_the_provinces_it_absorbed() -> None:
    """After 1 July 2025 a province that took over two others sends about three times as much."""
    directory = Directory.load()
    merged = "000.00.00.H13"
    after, before = dt.date(2025, 8, 1), dt.date(2024, 6, 3)
    absorbed = {s for a in directory if a.valid_to is not None for s in a.successors}
    plain = next(
        a.code
        for a in directory.open_at(after)
        if a.kind == "province" and a.code not in absorbed and a.code != merged
    )
    assert sum(1 for a in directory if merged in a.successors) == 2

    def sent(at: dt.date) -> collections.Counter[str]:
        mix = DocumentMix(directory, seed=4, at=at)
        return collections.Counter(d.sender for d in mix.documents(20_000))

    later, earlier = sent(after), sent(before)
    assert later[merged] > 2 * later[plain]
    assert earlier[merged] < 1.5 * earlier[plain]

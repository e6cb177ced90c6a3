"""Tests for producers._simulation: the realistic, seeded document mix."""

from __future__ import annotations

import collections

from producers._simulation import DocumentMix
from router.directory import Directory
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

"""Tests for shell._replay_model: each delivery's modelled answers, the same everywhere."""

from __future__ import annotations

import statistics

import pytest

from producers.simulation import ReceiverBehaviour
from schemas import StatusCode
from shell._replay_model import DigestDraws


def test_draws_depend_only_on_their_key() -> None:
    """Two processes drawing for one delivery get the same numbers; another delivery
    gets others."""
    first, again, other = (
        DigestDraws("7:doc-1:A"),
        DigestDraws("7:doc-1:A"),
        DigestDraws("7:doc-1:B"),
    )
    ours = [first.random() for _ in range(8)]
    assert ours == [again.random() for _ in range(8)]
    assert ours != [other.random() for _ in range(8)]
    with pytest.raises(IndexError):
        first.random()  # eight draws a key, no more


def test_draws_follow_their_distributions() -> None:
    """Over many keys: uniform in [0, 1) with mean 1/2, uniform(a, b) inside [a, b),
    exponential with mean 1/rate."""
    keys = [f"2024:doc-{i}:unit" for i in range(20_000)]
    uniform = [DigestDraws(k).random() for k in keys]
    assert min(uniform) >= 0.0 and max(uniform) < 1.0
    assert statistics.fmean(uniform) == pytest.approx(0.5, abs=0.01)
    spread = [DigestDraws(k).uniform(3.0, 5.0) for k in keys]
    assert min(spread) >= 3.0 and max(spread) < 5.0
    waits = [DigestDraws(k).expovariate(1 / 600) for k in keys]
    assert statistics.fmean(waits) == pytest.approx(600, rel=0.03)


def test_a_behaviour_answers_from_digest_draws_as_from_a_random_generator() -> None:
    """The behaviour's shares hold with the draws the replay gives it: about 2 % of
    deliveries rejected, 60 % of the accepted ones done."""
    behaviour = ReceiverBehaviour()
    answers = [behaviour.answers(1, DigestDraws(f"3:doc-{i}:unit")) for i in range(20_000)]
    codes = [[a.code for a in answer] for answer in answers]
    rejected = sum(StatusCode.REJECTED in c for c in codes) / len(codes)
    accepted = [c for c in codes if StatusCode.ACCEPTED in c]
    done = sum(StatusCode.DONE in c for c in accepted) / len(accepted)
    assert rejected == pytest.approx(behaviour.reject_share, abs=0.005)
    assert done == pytest.approx(behaviour.done_share, abs=0.015)
    assert all(c[0] == StatusCode.ARRIVED for c in codes)

"""Tests for schemas._lifecycle: the edXML lifecycle of one delivery."""

from __future__ import annotations

import pytest

from schemas import DeliveryState, ImpossibleTransition


def walk(*steps: tuple[str, bool]) -> DeliveryState:
    state = DeliveryState()
    for code, from_sender in steps:
        state = state.after(code, from_sender=from_sender)
    return state


R, S = False, True  # from the recipient, from the sender


def test_the_whole_way_and_skipping_forward() -> None:
    """01, 03, 04, 05, 06 in turn, or 01 then straight to 06."""
    assert walk(("01", R), ("03", R), ("04", R), ("05", R), ("06", R)).label == "06"
    assert walk(("01", R), ("06", R)).status == "06"


@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        ([("06", R)], "before 01"),
        ([("03", R)], "before 01"),
        ([("01", R), ("05", R), ("04", R)], "never goes back"),
        ([("01", R), ("03", R), ("03", R)], "never goes back"),
        ([("01", R), ("02", R), ("03", R)], "after the delivery was rejected"),
        ([("01", R), ("03", R), ("02", R)], "only follows 01"),
        ([("01", R), ("15", R)], "answers no pending recall"),
        ([("01", R), ("13", R)], "only the document's sender"),
        ([("01", R), ("03", S)], "sender may only send 13"),
        ([("01", R), ("13", S), ("13", S)], "already pending"),
        ([("01", R), ("13", S), ("15", R), ("04", R)], "recalled"),
        ([("01", R), ("90", R)], "not part of a delivery"),
    ],
)
def test_impossible_notices_are_refused(steps: list[tuple[str, bool]], problem: str) -> None:
    """Each impossible step raises ImpossibleTransition saying why."""
    with pytest.raises(ImpossibleTransition, match=problem):
        walk(*steps)


def test_recall_agreed_and_refused() -> None:
    """A recall agreed ends the delivery; a recall refused lets it go on."""
    assert walk(("01", R), ("03", R), ("13", S), ("15", R)).label == "recalled"
    refused = walk(("01", R), ("03", R), ("13", S), ("16", R))
    assert refused.label == "03" and refused.after("06", from_sender=False).status == "06"
    assert walk(("01", R), ("13", S)).label == "01 recall requested"

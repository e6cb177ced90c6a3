"""Tests for schemas._agency_code: the QCVN 102:2016 code format."""

from __future__ import annotations

import pytest

from docbus import MalformedAgencyCodeError
from schemas import AgencyCode


@pytest.mark.parametrize(
    ("code", "level", "top"),
    [
        ("000.00.00.G22", 1, "000.00.00.G22"),
        ("000.00.12.H29", 2, "000.00.00.H29"),
        ("000.05.12.H29", 3, "000.00.00.H29"),
        ("001.05.12.H29", 4, "000.00.00.H29"),
    ],
)
def test_levels_and_top_level(code: str, level: int, top: str) -> None:
    """A code's level and its top-level agency are read right to left."""
    parsed = AgencyCode.parse(code)
    assert (parsed.level, parsed.top_level, str(parsed)) == (level, top, code)


@pytest.mark.parametrize(
    "code", ["G22", "000.00.00.g22", "000.00.00.G2", "000.05.00.H29", "", "000.00.00.G22 "]
)
def test_malformed_codes_are_refused(code: str) -> None:
    """A string that is not a well-formed code raises MalformedAgencyCodeError."""
    with pytest.raises(MalformedAgencyCodeError):
        AgencyCode.parse(code)
    assert not AgencyCode.is_valid(code)

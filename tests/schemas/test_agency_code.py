"""Tests for schemas._agency_code: the QCVN 102:2016 code format."""

from __future__ import annotations

import pytest

from docbus import MalformedAgencyCodeError
from schemas import AgencyCode, is_party_id, top_level_of


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
    assert top_level_of(code) == top


@pytest.mark.parametrize(
    "code",
    [
        "G22",
        "000.00.00.g22",
        "000.00.00.G2",
        "000.05.00.H29",
        "001.00.12.H29",
        "",
        "000.00.00.G22 ",
        "000.00.00.G22\n",
    ],
)
def test_malformed_codes_are_refused(code: str) -> None:
    """A string that is not a well-formed code raises MalformedAgencyCodeError."""
    with pytest.raises(MalformedAgencyCodeError):
        AgencyCode.parse(code)
    assert not AgencyCode.is_valid(code)
    assert not is_party_id(code) or not code.startswith("000.")


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("000.05.00.H29", "lower level under an empty higher one"),
        ("000.00.00.XYZ", "not an agency code"),
        ("vxp.saas.03\n", "not an agency code of the form 000.00.00.G22 or a party id"),
    ],
)
def test_top_level_of_a_malformed_id_says_why(code: str, reason: str) -> None:
    """An id that is no party's has no top level; the error says what is wrong with it."""
    with pytest.raises(MalformedAgencyCodeError, match=reason):
        top_level_of(code)
    assert not is_party_id(code)

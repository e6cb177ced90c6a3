"""Tests for router.directory: the agencies the bus serves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docbus import ConfigurationError, MalformedAgencyCodeError, UnknownAgencyError
from router.directory import Directory


@pytest.fixture(scope="module")
def directory() -> Directory:
    return Directory.load()


def test_counts_after_the_2025_reorganisation(directory: Directory) -> None:
    """17 Government bodies and 34 provinces and cities, each with a Vietnamese name."""
    government = [a for a in directory if a.kind in {"ministry", "ministerial_agency"}]
    provinces = [a for a in directory if a.kind in {"province", "city"}]
    assert (len(government), len(provinces)) == (17, 34)
    assert directory.get("000.00.00.G22").name == "Văn phòng Chính phủ"
    assert directory.get("000.00.00.H29").name == "Ủy ban nhân dân thành phố Hồ Chí Minh"


def test_confirmed_codes_are_not_illustrative(directory: Directory) -> None:
    """Codes confirmed in public documents are marked so; the rest are marked illustrative."""
    confirmed = {a.code[-3:] for a in directory if not a.illustrative}
    assert {"G01", "G22", "H29", "H41", "H49", "H55", "H57"} <= confirmed
    assert "H30" not in confirmed  # Hau Giang closed in 2025
    assert all(a.illustrative for a in directory if a.code[-3:] not in confirmed)


def test_sub_units_resolve_to_their_agency(directory: Directory) -> None:
    """A department code resolves to its top-level agency."""
    assert directory.resolve("000.03.12.H29").code == "000.00.00.H29"


def test_unknown_and_malformed_codes(directory: Directory) -> None:
    """An unknown agency and a malformed code are different, clear errors."""
    with pytest.raises(UnknownAgencyError, match="G99"):
        directory.resolve("000.00.00.G99")
    with pytest.raises(MalformedAgencyCodeError):
        directory.resolve("Bộ Tài chính")


def test_duplicate_entries_are_refused(tmp_path: Path) -> None:
    """A data file that lists a code twice does not load."""
    entry = {"code": "000.00.00.G22", "name": "VPCP", "kind": "ministerial_agency"}
    path = tmp_path / "agencies.json"
    path.write_text(json.dumps({"version": "x", "agencies": [entry, entry]}))
    with pytest.raises(ConfigurationError, match="twice"):
        Directory.load(path)

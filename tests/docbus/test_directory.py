"""Tests for docbus.directory: every agency before and after the 2025 reorganisation."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from docbus import (
    ConfigurationError,
    MalformedAgencyCodeError,
    UnknownAgencyError,
    UnknownRecipientError,
)
from docbus.directory import GOVERNMENT_KINDS, PROVINCE_KINDS, Directory, generate_units

MARCH = dt.date(2025, 3, 1)
JULY = dt.date(2025, 7, 1)
DAY = dt.timedelta(days=1)
CONFIRMED = {
    *(f"G{n:02d}" for n in (1, 2, 3, 6, 8, 9, 10, 11, 12, 15, 16, 17, 18, 19, 20, 21, 22)),
    "H29",
    "H30",
    "H41",
    "H49",
    "H54",
    "H55",
    "H57",
}


@pytest.fixture(scope="module")
def directory() -> Directory:
    return Directory.load()


def counts(directory: Directory, at: dt.date) -> tuple[int, int]:
    return (
        len(directory.open_at(at, kinds=GOVERNMENT_KINDS)),
        len(directory.open_at(at, kinds=PROVINCE_KINDS)),
    )


def test_government_bodies_on_each_side_of_1_march_2025(directory: Directory) -> None:
    """22 Government bodies the day before 1 March 2025, 17 from that day."""
    assert counts(directory, MARCH - DAY)[0] == 22
    assert counts(directory, MARCH)[0] == 17
    before = {a.kind for a in directory.open_at(MARCH - DAY, kinds=GOVERNMENT_KINDS)}
    assert before == {"ministry", "ministerial_agency"}
    ministerial = directory.open_at(MARCH, kinds={"ministerial_agency"})
    assert (
        len(ministerial) == 3
        and len(directory.open_at(MARCH - DAY, kinds={"ministerial_agency"})) == 4
    )


def test_provinces_on_each_side_of_1_july_2025(directory: Directory) -> None:
    """63 provinces and cities the day before 1 July 2025, 34 from that day; 63 in 2019."""
    assert counts(directory, dt.date(2019, 3, 12))[1] == 63
    assert counts(directory, JULY - DAY)[1] == 63
    assert counts(directory, JULY)[1] == 34
    cities = {a.name for a in directory.open_at(JULY, kinds={"city"})}
    assert "Ủy ban nhân dân thành phố Huế" in cities and len(cities) == 6


def test_the_party_central_office_is_an_endpoint(directory: Directory) -> None:
    """The Party Central Office is in the directory, open throughout."""
    (party,) = directory.open_at(JULY, kinds={"party"})
    assert party.name == "Văn phòng Trung ương Đảng" and party.illustrative


def test_codes_are_confirmed_or_marked_illustrative(directory: Directory) -> None:
    """Confirmed codes of current bodies are not illustrative; every other code says it is."""
    for agency in directory:
        letter = agency.code[-3:]
        if agency.illustrative:
            continue
        assert letter in CONFIRMED, agency
    current = {a.code[-3:] for a in directory.open_at(JULY) if not a.illustrative}
    assert {"G01", "G12", "G22", "H29", "H41", "H49", "H55", "H57"} <= current
    hung_yen = directory.agency_at("000.00.00.H31", JULY)
    assert hung_yen is not None and hung_yen.illustrative


def test_names_are_vietnamese_with_diacritics(directory: Directory) -> None:
    """Names keep their diacritics."""
    names = {a.name for a in directory}
    assert "Ủy ban nhân dân tỉnh Đắk Nông" in names
    assert "Bộ Lao động - Thương binh và Xã hội" in names


def test_no_code_is_held_by_two_open_agencies(directory: Directory) -> None:
    """On every day from 2019 to 2030, a code belongs to at most one open agency."""
    day = dt.date(2019, 1, 1)
    while day < dt.date(2030, 1, 1):
        open_codes = [a.code for a in directory.open_at(day)]
        assert len(open_codes) == len(set(open_codes)), day
        day += dt.timedelta(days=7)
    for extra in (MARCH - DAY, MARCH, JULY - DAY, JULY, dt.date(2024, 12, 31), dt.date(2025, 1, 1)):
        open_codes = [a.code for a in directory.open_at(extra)]
        assert len(open_codes) == len(set(open_codes)), extra
    assert directory.problems() == []


@pytest.mark.parametrize("later", [DAY, dt.timedelta(days=200), dt.timedelta(days=3650)])
def test_every_closed_agency_resolves_to_an_open_one(
    directory: Directory, later: dt.timedelta
) -> None:
    """Any later day, a closed agency's mail goes to agencies open that day."""
    closed = [a for a in directory if a.valid_to is not None]
    assert len(closed) == 7 + 29 + 1  # ministries, provinces, Thừa Thiên Huế becoming a city
    for agency in closed:
        at = agency.valid_to + later
        resolution = directory.resolve(agency.code, at)
        assert resolution.agencies and all(a.is_open(at) for a in resolution.agencies), agency.code


def test_renamed_bodies_keep_their_code(directory: Directory) -> None:
    """Agriculture and Ethnic Affairs keep their codes under their new names: no redirect."""
    before = directory.resolve("000.00.00.G10", MARCH - DAY)
    after = directory.resolve("000.00.00.G10", MARCH)
    assert before.agencies[0].name == "Bộ Nông nghiệp và Phát triển nông thôn"
    assert (
        after.agencies[0].name == "Bộ Nông nghiệp và Môi trường" and after.redirected_from is None
    )


def test_labour_ministry_successors(directory: Directory) -> None:
    """Labour's work went to three ministries; the data says Home Affairs receives its mail."""
    resolution = directory.resolve("000.00.00.G07", MARCH)
    (labour,) = directory.history("000.00.00.G07")
    assert set(labour.successors) == {"000.00.00.G09", "000.00.00.G18", "000.00.00.G03"}
    assert [a.code for a in resolution.agencies] == ["000.00.00.G09"]


def test_a_cycle_in_succession_is_refused(directory: Directory) -> None:
    """Two agencies closed into each other make the directory refuse to load."""
    raw = directory.to_json()
    for entry in raw["agencies"]:
        if entry["code"] == "000.00.00.H31":  # Hưng Yên closes into Thái Bình, which closed into it
            entry.update(
                valid_to="2026-01-01", successors=["000.00.00.H54"], receiver="000.00.00.H54"
            )
    with pytest.raises(ConfigurationError, match="H31"):
        Directory.from_json(raw)


def test_overlapping_holders_are_refused(directory: Directory) -> None:
    """Two agencies holding one code at once make the directory refuse to load."""
    raw = directory.to_json()
    raw["agencies"].append({**raw["agencies"][0], "valid_from": "2020-01-01", "valid_to": None})
    with pytest.raises(ConfigurationError, match="two agencies at once"):
        Directory.from_json(raw)


def test_about_a_hundred_thousand_sub_units(directory: Directory) -> None:
    """The generated tree holds about 100,000 units on levels 2 to 4, the same every run."""
    units = directory.units
    assert 90_000 <= len(units) <= 110_000
    assert {u.level for u in units.values()} == {2, 3, 4}
    again = list(generate_units("000.00.00.H29", "city"))
    assert [u.code for u in again] == [u.code for u in generate_units("000.00.00.H29", "city")]
    commune = next(u for u in again if u.level == 3 and "xã" in u.name)
    assert directory.unit(commune.code) == commune
    assert directory.resolve(commune.code, JULY).agencies[0].code == "000.00.00.H29"


def test_unknown_and_malformed_codes(directory: Directory) -> None:
    """An unknown agency, an unknown unit and a malformed code are clear, distinct errors."""
    with pytest.raises(UnknownAgencyError, match="G99"):
        directory.resolve("000.00.00.G99", JULY)
    with pytest.raises(UnknownAgencyError, match=r"no unit 000\.00\.99\.H29"):
        directory.resolve("000.00.99.H29", JULY)
    with pytest.raises(MalformedAgencyCodeError):
        directory.resolve("Bộ Tài chính", JULY)


def test_an_agency_before_it_exists(directory: Directory) -> None:
    """Mail to an agency dated before it was founded is refused, saying so."""
    raw = directory.to_json()
    raw["agencies"].append(
        {"code": "000.00.00.G23", "name": "Bộ Mới", "kind": "ministry", "valid_from": "2030-01-01"}
    )
    future = Directory.from_json(raw)
    with pytest.raises(UnknownAgencyError, match="did not exist yet"):
        future.resolve("000.00.00.G23", JULY)
    assert future.resolve("000.00.00.G23", dt.date(2030, 1, 1)).agencies[0].name == "Bộ Mới"


def test_json_round_trip(directory: Directory, tmp_path: Path) -> None:
    """A directory written out and read back is the same directory."""
    path = tmp_path / "agencies.json"
    path.write_text(json.dumps(directory.to_json(), ensure_ascii=False))
    again = Directory.load(path)
    assert again.to_json() == directory.to_json() and again.version == directory.version


def test_all_successors_receive_when_the_data_says_so(directory: Directory) -> None:
    """With receiver 'all', mail to the closed Labour ministry reaches its three successors."""
    raw = directory.to_json()
    for entry in raw["agencies"]:
        if entry["code"] == "000.00.00.G07":
            entry["receiver"] = "all"
    resolution = Directory.from_json(raw).resolve("000.00.00.G07", MARCH)
    assert {a.code for a in resolution.agencies} == {
        "000.00.00.G09",
        "000.00.00.G18",
        "000.00.00.G03",
    }
    assert resolution.recipients == tuple(a.code for a in resolution.agencies)


def test_recipients_are_checked_on_the_send_date(directory: Directory) -> None:
    """What a sender is told before sending: unknown codes and groups; a closed agency
    (which always has a successor) and a known group pass."""
    after = dt.date(2025, 7, 1)
    directory.check_recipients(["000.00.00.G04", "group:provinces", "000.00.00.H29"], after)
    with pytest.raises(UnknownRecipientError, match=r"no agency 000\.00\.00\.Z99") as raised:
        directory.check_recipients(["000.00.00.H29", "000.00.00.Z99"], after)
    assert raised.value.recipient == "000.00.00.Z99"
    with pytest.raises(UnknownRecipientError, match="no group 'nobody'"):
        directory.check_recipients(["group:nobody"], after)


def test_parties_known_by_the_ids_they_really_use(directory: Directory) -> None:
    """A hosted tenant and an enterprise by its tax code are parties with no sub-units; an
    alias resolves to its party's code (where deliveries go); an unknown well-formed id is
    unknown, a malformed one malformed."""
    assert directory.resolve("vxp.saas.03", JULY).recipients == ("vxp.saas.03",)
    assert directory.resolve("020100107370", JULY).agencies[0].kind == "external"
    assert directory.resolve("G12", JULY).recipients == ("000.00.00.G12",)
    assert directory.canonical("G12") == "000.00.00.G12"
    assert not any(u.code.startswith("vxp") for u in directory.units.values())
    with pytest.raises(UnknownAgencyError, match=r"no agency vxp\.saas\.99"):
        directory.resolve("vxp.saas.99", JULY)
    with pytest.raises(MalformedAgencyCodeError):
        directory.resolve("vxp saas 03", JULY)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"code": "000.00.00.G77", "kind": "hosted"}, "id outside the national scheme"),
        ({"code": "vxp.saas.77", "kind": "ministry"}, "not a top-level agency code"),
        ({"code": "vxp.saas.77", "kind": "hosted", "aliases": ["G22"]}, "alias G22"),
        ({"code": "vxp.saas.77", "kind": "hosted", "aliases": ["G12"]}, "alias G12 names"),
        ({"code": "vxp.saas.77", "kind": "hosted", "aliases": ["000.00.00.G12"]}, "alias"),
    ],
)
def test_a_party_outside_the_scheme_is_checked(
    directory: Directory, change: dict, problem: str
) -> None:
    """A hosted or external party has an id outside the national scheme; an alias is one
    too, names one party only and is nobody's code."""
    raw = directory.to_json()
    raw["agencies"].append({"name": "Thử nghiệm", **change})
    if "G22" in change.get("aliases", ()):
        raw["agencies"].append({"code": "G22", "name": "Trùng", "kind": "external"})
    with pytest.raises(ConfigurationError, match=problem):
        Directory.from_json(raw)

"""Tests for schemas._validation: the edXML rules."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from docbus import InvalidDocumentError, InvalidNoticeError
from schemas import (
    Attachment,
    Business,
    BusinessType,
    StatusNotice,
    check_document,
    check_notice,
    document_problems,
)
from tests.helpers import G22, H29, letter


def test_a_good_letter_passes() -> None:
    """A well-formed letter has no problems."""
    assert document_problems(letter()) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"recipients": ()}, "no recipients"),
        ({"recipients": (H29, H29)}, "appears more than once"),
        ({"recipients": ("H 29",)}, "not an agency code"),
        ({"recipients": ("000.00.00.XYZ",)}, "not an agency code"),
        (
            {"recipients": tuple(f"000.00.{i % 100:02d}.H{i // 100:02d}" for i in range(1001))},
            "more than",
        ),
        ({"priority": 5}, "priority must be 0-4"),
        ({"priority": -1}, "priority must be 0-4"),
        ({"steering_type": 0}, "steering_type"),
        ({"subject": "x" * 501}, "subject has 501 characters"),
        ({"subject": "  "}, "subject is empty"),
        ({"content": "x" * 501}, "content has 501"),
        ({"document_id": "7816/VPCP"}, "is neither '<sender code>"),
        ({"document_id": "a b"}, "is neither '<sender code>"),
        ({"code_number": ""}, "code number"),
        ({"business": Business(business_type=BusinessType.REVOKE)}, "must name the document"),
        ({"business": Business(business_type=7)}, "business_type"),
    ],
)
def test_each_rule_is_reported(change: dict, problem: str) -> None:
    """Each broken rule is named in the error, and nothing else passes for valid."""
    doc = dataclasses.replace(letter(), **change)
    with pytest.raises(InvalidDocumentError) as info:
        check_document(doc)
    assert problem in str(info.value)


def test_attachment_rules() -> None:
    """Attachment name length, hash and content/blob exclusivity are checked."""
    bad = Attachment(
        content_id="a",
        name="x" * 201,
        content_type="application/pdf",
        size_bytes=3,
        sha256="00" * 32,
        content=b"abc",
    )
    problems = document_problems(dataclasses.replace(letter(), attachments=(bad,)))
    assert any("more than 200" in p for p in problems)
    assert any("SHA-256 does not match" in p for p in problems)
    neither = dataclasses.replace(bad, name="a.pdf", content=None)
    problems = document_problems(dataclasses.replace(letter(), attachments=(neither,)))
    assert any("exactly one" in p for p in problems)


def test_all_problems_are_listed_at_once() -> None:
    """The error lists every rule broken, not only the first."""
    doc = dataclasses.replace(letter(), priority=9, subject="")
    with pytest.raises(InvalidDocumentError) as info:
        check_document(doc)
    assert len(info.value.problems) == 2


def test_notice_rules() -> None:
    """A notice with an unknown status code or a malformed party is refused."""
    notice = StatusNotice(
        document_id="x",
        document_sender=G22,
        from_agency="no body",
        to_agency=G22,
        status_code="07",
        timestamp=dt.datetime.now(dt.UTC),
    )
    with pytest.raises(InvalidNoticeError) as info:
        check_notice(notice)
    assert "status code '07'" in str(info.value)
    assert "from_agency 'no body'" in str(info.value)


@pytest.mark.parametrize(
    "change",
    [
        {"sender": "vxp.saas.03", "document_id": "1da394ba-2117-4354-a23f-6ec3e47ba81b"},
        {"recipients": ("vxp.saas.02", "020100107370", "G12")},
        {"document_id": "GW-20251014073327634-773"},
        # a gateway relays a document under the id its originating organisation gave it
        {"sender": "vxp.saas.03", "document_id": "020100681592,2025/10/13,9087/CNNL-PCĐT"},
    ],
)
def test_the_ids_real_exchanges_use_pass(change: dict) -> None:
    """Party ids outside the national scheme and document ids that are not in the national
    form are kept as given (the directory decides whether a party exists)."""
    assert document_problems(dataclasses.replace(letter(), **change)) == []


@pytest.mark.parametrize(
    "change",
    [
        {"document_id": "GW-20251014073327634-773\n"},
        {"sender": "000.00.00.G22\n"},
        {"recipients": ("vxp.saas.02\n",)},
        {"recipients": ("group:provinces\n",)},
    ],
)
def test_a_trailing_newline_is_not_part_of_an_id(change: dict) -> None:
    """An id with a newline after it is refused (a ``$`` in a pattern would let it pass)."""
    assert document_problems(dataclasses.replace(letter(), **change)) != []


@pytest.mark.parametrize(
    "number_and_notation", ["12/CV-BTC\n", "12\n/CV-BTC", "12/CV\tBTC", "12/CV-BTC\x00", "1\x7f/CV"]
)
def test_a_national_id_with_a_control_character_is_refused(number_and_notation: str) -> None:
    """A newline, tab or other control character inside the number or notation of a
    national-form id is refused; a space, as clerks type notations, is kept."""
    national = f"000.00.00.G22,2024/01/02,{number_and_notation}"
    assert document_problems(dataclasses.replace(letter(), document_id=national)) != []
    spaced = "000.00.00.G22,2024/01/02,12/CV BTC"
    assert document_problems(dataclasses.replace(letter(), document_id=spaced)) == []


def test_group_recipients() -> None:
    """group:<name> is a valid recipient; an empty or malformed group name is not."""
    assert document_problems(letter(recipients=("group:provinces", H29))) == []
    for bad in ("group:", "group:Bad Name", "group:x/y"):
        problems = document_problems(letter(recipients=(bad,)))
        assert any("not an agency code" in p for p in problems), bad

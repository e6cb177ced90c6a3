"""Tests for a status notice that carries several steps of one delivery (schema v3)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from schemas import (
    MAX_NOTICE_STEPS,
    NOTICE_SCHEMA,
    Codec,
    InvalidNoticeError,
    NoticeStep,
    StaffInfo,
    StatusNotice,
    check_notice,
    from_json,
    to_json,
)
from tests.helpers import G22, H29

T0 = dt.datetime(2024, 11, 25, 2, 0, tzinfo=dt.UTC)


def step(code: str, minute: int, **fields: object) -> StatusNotice:
    return StatusNotice(
        document_id="000.00.00.G22,2024/11/25,7/VPCP-TH",
        document_sender=G22,
        document_code="7/VPCP-TH",
        promulgation_date=dt.date(2024, 11, 25),
        from_agency=H29,
        to_agency=G22,
        status_code=code,
        timestamp=T0 + dt.timedelta(minutes=minute),
        **fields,  # type: ignore[arg-type]
    )


def test_steps_put_together_come_back_apart_through_the_codec() -> None:
    """01, 03 (with its clerk and an unmodelled element), 06: one v3 record, three notices."""
    steps = [
        step("01", 1),
        step(
            "03",
            2,
            description="Đã vào sổ",
            staff=StaffInfo(full_name="Nguyễn Văn A", department="Văn thư"),
            extensions=(("StaffInfo", "<edXML:Note>x</edXML:Note>"),),
        ),
        step("06", 3, description="Đã xong"),
    ]
    together = StatusNotice.together(steps)
    assert together.status_code == "06" and [s.status_code for s in together.earlier] == [
        "01",
        "03",
    ]
    codec = Codec()
    data = codec.encode(together)
    assert codec.writer_schema(data).version == codec.registry.latest(NOTICE_SCHEMA).version == 3
    decoded = codec.decode(data)
    assert decoded == together
    assert list(decoded.steps()) == steps


def test_a_notice_written_before_v3_reads_as_one_step() -> None:
    """A v2 notice decodes with no earlier steps: it is its own only step."""
    codec = Codec()
    notice = step("03", 2)
    decoded = codec.decode(codec.encode(notice, version=2))
    assert decoded == notice and decoded.steps() == (notice,)


def test_only_one_deliverys_notices_go_together() -> None:
    """Another document, sender or addressee is a ValueError naming both; none is empty."""
    with pytest.raises(ValueError, match="not about the same delivery"):
        StatusNotice.together([step("01", 1), dataclasses.replace(step("03", 2), from_agency=G22)])
    with pytest.raises(ValueError, match="not about the same delivery"):
        StatusNotice.together([step("01", 1), dataclasses.replace(step("03", 2), document_id="x")])
    with pytest.raises(ValueError, match="no notices"):
        StatusNotice.together([])
    assert StatusNotice.together([step("01", 1)]) == step("01", 1)


@pytest.mark.parametrize(
    ("notice", "problem"),
    [
        (
            dataclasses.replace(
                step("03", 2), earlier=(NoticeStep(status_code="77", timestamp=T0),)
            ),  # type: ignore[arg-type]
            "step 1's status code",
        ),
        (StatusNotice.together([step("03", 5), step("04", 2)]), "step 1 is stamped after"),
        (
            StatusNotice.together([step("01", 1, description="x" * 501), step("03", 2)]),
            "step 1's description",
        ),
        (
            StatusNotice.together([step("01", n) for n in range(MAX_NOTICE_STEPS + 1)]),
            f"at most {MAX_NOTICE_STEPS}",
        ),
    ],
)
def test_a_notice_with_a_broken_step_is_invalid(notice: StatusNotice, problem: str) -> None:
    """Each step keeps the code list and the text limit; steps go oldest first; few of them."""
    with pytest.raises(InvalidNoticeError, match=problem):
        check_notice(notice)


def test_steps_survive_json() -> None:
    """to_json writes the earlier steps with their times; from_json reads them back."""
    together = StatusNotice.together([step("01", 1), step("03", 2, description="ok")])
    data = to_json(together)
    assert [s["status_code"] for s in data["earlier"]] == ["01"]
    assert from_json(data) == together

"""Tests for docbus.calendar._calendar: working time in UTC+7 and acceptance deadlines."""

from __future__ import annotations

import datetime as dt

import pytest

from docbus import CalendarRangeError
from docbus.calendar import WorkingCalendar
from schemas import VN_TIME


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar.load()


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=VN_TIME)


def test_weekends_and_holidays_are_not_working_days(calendar: WorkingCalendar) -> None:
    """Saturday, Sunday, Tết 2024 and 2 September are days off; a Monday is not."""
    assert not calendar.is_working_day(dt.date(2024, 11, 23))  # Saturday
    assert not calendar.is_working_day(dt.date(2024, 2, 12))  # Tết 2024
    assert not calendar.is_working_day(dt.date(2025, 9, 2))
    assert calendar.is_working_day(dt.date(2024, 11, 25))


def test_normal_document_across_a_weekend(calendar: WorkingCalendar) -> None:
    """A normal document sent on Friday is due at the end of Monday."""
    deadline = calendar.acceptance_deadline(sent_at=at(2024, 11, 22, 10, 0), priority=0)
    assert deadline == at(2024, 11, 25, 17, 0)


def test_normal_document_across_tet(calendar: WorkingCalendar) -> None:
    """A normal document sent the day before Tết 2024 is due the day work resumes."""
    deadline = calendar.acceptance_deadline(sent_at=at(2024, 2, 7, 15, 0), priority=0)
    assert deadline == at(2024, 2, 15, 17, 0)


def test_urgent_document_across_the_end_of_a_working_day(calendar: WorkingCalendar) -> None:
    """Four working hours from 16:00: one hour that day, three the next morning."""
    deadline = calendar.acceptance_deadline(sent_at=at(2024, 11, 25, 16, 0), priority=1)
    assert deadline == at(2024, 11, 26, 10, 30)


def test_urgent_document_across_lunch_and_evening(calendar: WorkingCalendar) -> None:
    """Working hours skip the lunch break and the night."""
    assert calendar.add_working_hours(at(2024, 11, 25, 11, 0), 1) == at(2024, 11, 25, 14, 0)
    assert calendar.add_working_hours(at(2024, 11, 25, 20, 0), 0.5) == at(2024, 11, 26, 8, 0)


def test_express_is_due_at_once_even_at_night(calendar: WorkingCalendar) -> None:
    """An express document is due an hour after it is sent, whatever the hour."""
    sent = at(2024, 11, 23, 22, 15)
    assert calendar.acceptance_deadline(sent_at=sent, priority=3) == sent + dt.timedelta(hours=1)


def test_an_earlier_due_date_wins(calendar: WorkingCalendar) -> None:
    """A due date before the default deadline sets the deadline to the end of that day."""
    deadline = calendar.acceptance_deadline(
        sent_at=at(2024, 11, 22, 10, 0), priority=0, due_date=dt.date(2024, 11, 22)
    )
    assert deadline == at(2024, 11, 22, 17, 0)


def test_tet_2028_is_not_a_working_day(calendar: WorkingCalendar) -> None:
    """Tết 2028 (Wednesday 26 January) comes from the holidays package, not the JSON."""
    assert not calendar.is_working_day(dt.date(2028, 1, 26))
    assert not calendar.is_working_day(dt.date(2028, 1, 28))
    assert calendar.is_working_day(dt.date(2028, 2, 7))


def test_an_announced_day_off_from_the_data_file_counts(calendar: WorkingCalendar) -> None:
    """2 January 2026, swapped by a Government notice, is a day off though no holiday."""
    assert not calendar.is_working_day(dt.date(2026, 1, 2))


def test_a_day_past_the_data_is_refused_not_assumed(calendar: WorkingCalendar) -> None:
    """A date after the last covered year raises CalendarRangeError naming the range."""
    with pytest.raises(CalendarRangeError, match=r"covers 2019-01-01 to 2030-12-31"):
        calendar.is_working_day(dt.date(2031, 1, 2))
    with pytest.raises(CalendarRangeError):
        calendar.acceptance_deadline(sent_at=at(2030, 12, 31, 16, 0), priority=0)
    with pytest.raises(CalendarRangeError):
        calendar.is_working_day(dt.date(2018, 12, 31))

"""Working days and hours in Vietnam (UTC+7), public holidays, and acceptance deadlines.

Deadline rule (Decision 28/2018/QD-TTg: urgent documents are handled right after
receipt; others the same or next working day), as docbus applies it:

- express (priority 3, 4): one hour after sending, working hours or not;
- urgent and very urgent (1, 2): four working hours after sending;
- normal (0): the end of the next working day after the day of sending;
- a due date on the document, if earlier, wins: the end of that day.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from importlib import resources
from typing import Any

import holidays

from docbus._exceptions import CalendarRangeError, ConfigurationError
from schemas import VN_TIME, Priority

__all__ = ["WorkingCalendar"]

_MAX_DAYS = 400


class WorkingCalendar:
    """Which moments are working time for Vietnam's civil service.

    The calendar knows the days from ``first_day`` to ``last_day``; asked about any other
    day it raises :class:`CalendarRangeError` rather than guess it is a working day.
    """

    def __init__(
        self,
        days_off: Iterable[dt.date],
        *,
        first_day: dt.date = dt.date.min,
        last_day: dt.date = dt.date.max,
        sessions: Iterable[tuple[dt.time, dt.time]] = (
            (dt.time(7, 30), dt.time(11, 30)),
            (dt.time(13, 30), dt.time(17, 0)),
        ),
    ) -> None:
        self.days_off = frozenset(days_off)
        self.first_day = first_day
        self.last_day = last_day
        self.sessions = tuple(sessions)
        self._next_day_end: dict[dt.date, dt.datetime] = {}  # memo: the common, normal case

    @classmethod
    def load(cls) -> WorkingCalendar:
        """The statutory holidays (the holidays package) and the announced days off
        (``holidays.json``), for the years the data file covers."""
        source = resources.files("docbus.calendar") / "holidays.json"
        try:
            raw: dict[str, Any] = json.loads(source.read_text("utf-8"))
            first_year, last_year = (int(year) for year in raw["covered_years"])
            announced = [
                dt.date.fromisoformat(day)
                for year in raw["announced_days_off"].values()
                for day in year["days"]
            ]
            sessions = [
                (dt.time.fromisoformat(a), dt.time.fromisoformat(b))
                for a, b in raw["working_hours"]
            ]
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise ConfigurationError(f"cannot read the holiday calendar: {exc}") from exc
        statutory = holidays.country_holidays("VN", years=range(first_year, last_year + 1))
        return cls(
            [*statutory.keys(), *announced],
            first_day=dt.date(first_year, 1, 1),
            last_day=dt.date(last_year, 12, 31),
            sessions=sessions,
        )

    def is_working_day(self, day: dt.date) -> bool:
        """Monday to Friday and not a day off; :class:`CalendarRangeError` past the data."""
        if not self.first_day <= day <= self.last_day:
            raise CalendarRangeError(day, self.first_day, self.last_day)
        return day.weekday() < 5 and day not in self.days_off

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        for offset in range(1, _MAX_DAYS):
            candidate = day + dt.timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ConfigurationError(f"no working day within {_MAX_DAYS} days of {day}")

    def end_of_day(self, day: dt.date) -> dt.datetime:
        """When the last working session of ``day`` ends, in UTC+7."""
        return dt.datetime.combine(day, self.sessions[-1][1], VN_TIME)

    def add_working_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The moment ``hours`` of working time after ``start``."""
        remaining = dt.timedelta(hours=hours)
        moment = start.astimezone(VN_TIME)
        day = moment.date()
        for _ in range(_MAX_DAYS):
            if self.is_working_day(day):
                for begin, end in self.sessions:
                    session_start = dt.datetime.combine(day, begin, VN_TIME)
                    session_end = dt.datetime.combine(day, end, VN_TIME)
                    if moment >= session_end:
                        continue
                    moment = max(moment, session_start)
                    available = session_end - moment
                    if remaining <= available:
                        return moment + remaining
                    remaining -= available
                    moment = session_end
            day += dt.timedelta(days=1)
            moment = dt.datetime.combine(day, dt.time(0), VN_TIME)
        raise ConfigurationError(f"{hours} working hours do not fit in {_MAX_DAYS} days")

    def acceptance_deadline(
        self, *, sent_at: dt.datetime, priority: int, due_date: dt.date | None = None
    ) -> dt.datetime:
        """When a delivery must be accepted, by the rule in this module's docstring."""
        if priority >= Priority.EXPRESS:
            deadline = sent_at.astimezone(VN_TIME) + dt.timedelta(hours=1)
        elif priority >= Priority.URGENT:
            deadline = self.add_working_hours(sent_at, 4)
        else:
            day = sent_at.astimezone(VN_TIME).date()
            deadline = self._next_day_end.get(day) or self._next_day_end.setdefault(
                day, self.end_of_day(self.next_working_day(day))
            )
        if due_date is not None:
            deadline = min(deadline, self.end_of_day(due_date))
        return deadline

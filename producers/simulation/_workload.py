"""The national workload model: a year of documents and the receivers' answers, from a seed.

Every parameter, and where it comes from, is in WORKLOAD.md. In short: a yearly total
(public figures, WORKLOAD.md) spread over the year's days by the working calendar (weekends and
public holidays carry a little, the Tết break almost nothing, the weeks before Tết and
December more), then over each day's hours (working sessions in UTC+7, a little in the
evening); each document drawn from :class:`DocumentMix` (types, priorities, recipients,
attachments, weighted senders); each delivery answered by a :class:`ReceiverBehaviour`.

The model is deterministic: a day's documents depend only on the seed and the day, so a
replay can start anywhere and two runs with one seed are the same run.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from docbus.calendar import WorkingCalendar
from docbus.directory import Directory
from producers.simulation._mix import DocumentMix
from schemas import VN_TIME, Document, Priority, StatusCode

__all__ = [
    "YEARS",
    "Answer",
    "DayShape",
    "Draws",
    "ReceiverBehaviour",
    "YearProfile",
    "YearWorkload",
]


@dataclass(frozen=True, slots=True)
class YearProfile:
    """How many documents the national axis carried over which days, and the source."""

    label: str
    documents: int
    first_day: dt.date
    last_day: dt.date
    source: str


#: The years the public figures describe (WORKLOAD.md, "Yearly totals").
YEARS: dict[int, YearProfile] = {
    2024: YearProfile(
        "2024",
        12_200_000,
        dt.date(2024, 1, 1),
        dt.date(2024, 12, 20),
        "more than 12.2 million documents between 1 January and 20 December 2024",
    ),
    2023: YearProfile(
        "2023",
        8_200_000,
        dt.date(2023, 1, 1),
        dt.date(2023, 12, 31),
        "2024 was over 4 million more than 2023, so about 8.2 million",
    ),
    2019: YearProfile(
        "2019 (first year)",
        1_700_000,
        dt.date(2019, 3, 12),
        dt.date(2020, 4, 30),
        "about 1.7 million from the launch on 12 March 2019 to April 2020",
    ),
}


@dataclass(frozen=True, slots=True)
class DayShape:
    """Relative volume of a day by kind, and how a day's documents spread over its hours.

    Assumptions (no public daily figures): see WORKLOAD.md for the reasoning.
    """

    working_day: float = 1.0
    weekend_day: float = 0.04
    holiday: float = 0.02
    tet_break: float = 0.005
    #: Working days in the two weeks before the Tết break: reports and plans close the
    #: lunar year.
    before_tet: float = 1.2
    #: Working days of December: the year-end surge (reports, plans, budget settlement).
    december: float = 1.25
    #: Working days of the last two weeks before the period ends or 31 December.
    year_end: float = 1.45
    #: Share of a working day's documents sent outside the two sessions (17:00-21:00).
    evening_share: float = 0.03
    #: Share of the in-session documents sent in the morning session.
    morning_share: float = 0.55


class Draws(Protocol):
    """The random draws a :class:`ReceiverBehaviour` makes (``random.Random`` has them)."""

    def random(self) -> float:
        """Uniform in [0, 1)."""
        ...

    def uniform(self, a: float, b: float) -> float:
        """Uniform between ``a`` and ``b``."""
        ...

    def expovariate(self, lambd: float) -> float:
        """Exponential of rate ``lambd``."""
        ...


@dataclass(frozen=True, slots=True)
class Answer:
    """One status notice a recipient sends back, ``delay_s`` after the delivery arrives."""

    code: str
    delay_s: float
    description: str = ""


@dataclass(frozen=True, slots=True)
class ReceiverBehaviour:
    """How a receiving agency answers each delivery (assumptions; WORKLOAD.md).

    Arrival (01) at once; acceptance (03) within hours of working time, express within
    minutes; a small share rejected (02); most accepted documents done (06) within days.
    """

    arrival_s: float = 5.0
    accept_mean_s: float = 2 * 3600.0
    express_accept_mean_s: float = 10 * 60.0
    reject_share: float = 0.02
    done_share: float = 0.6
    done_mean_s: float = 3 * 86_400.0

    def answers(self, priority: int, rng: Draws) -> list[Answer]:
        """The notices for one delivery, in order (delays in wall-clock seconds of the model)."""
        arrived = Answer(StatusCode.ARRIVED, rng.uniform(0.0, self.arrival_s))
        mean = self.express_accept_mean_s if priority >= Priority.EXPRESS else self.accept_mean_s
        decided_s = arrived.delay_s + rng.expovariate(1.0 / mean)
        if rng.random() < self.reject_share:
            return [
                arrived,
                Answer(StatusCode.REJECTED, decided_s, "Không thuộc thẩm quyền giải quyết"),
            ]
        answers = [arrived, Answer(StatusCode.ACCEPTED, decided_s, "Đã tiếp nhận, vào sổ")]
        if rng.random() < self.done_share:
            done_s = decided_s + rng.expovariate(1.0 / self.done_mean_s)
            answers.append(Answer(StatusCode.DONE, done_s, "Đã xử lý xong"))
        return answers


class YearWorkload:
    """A year of national traffic at ``scale``, generated day by day from ``seed``."""

    def __init__(
        self,
        year: int,
        *,
        directory: Directory,
        scale: float = 1.0,
        seed: int = 2024,
        calendar: WorkingCalendar | None = None,
        shape: DayShape | None = None,
        agencies_at: dt.date | None = None,
    ) -> None:
        """``agencies_at``: the day whose directory sends and receives (a replay run now
        passes today: the year's volume and shape over today's agencies); by default each
        document's own day."""
        if year not in YEARS:
            known = ", ".join(str(y) for y in sorted(YEARS))
            raise ValueError(f"no workload figures for {year}: known years are {known}")
        if not 0 < scale <= 1:
            raise ValueError(f"scale must be in (0, 1], got {scale}")
        self.profile = YEARS[year]
        self.scale = scale
        self.seed = seed
        self.shape = shape or DayShape()
        self._directory = directory
        self._calendar = calendar or WorkingCalendar.load()
        self._agencies_at = agencies_at
        self._mixes: dict[tuple[str, ...], DocumentMix] = {}  # by the agencies open
        self.total = round(self.profile.documents * scale)
        self._days = self._spread(self.total)

    @property
    def days(self) -> dict[dt.date, int]:
        """Documents sent on each day of the period (UTC+7), summing to :attr:`total`."""
        return dict(self._days)

    def day_weight(self, day: dt.date) -> float:
        """The relative volume of ``day`` (DayShape's factors)."""
        shape, calendar = self.shape, self._calendar
        if not calendar.is_working_day(day):
            if day.weekday() >= 5 and day not in calendar.days_off:
                return shape.weekend_day
            return shape.tet_break if self._in_tet_break(day) else shape.holiday
        weight = shape.working_day
        end = min(self.profile.last_day, dt.date(day.year, 12, 31))
        if (end - day).days < 14:
            weight *= shape.year_end
        elif day.month == 12:
            weight *= shape.december
        elif self._days_before_tet(day) is not None:
            weight *= shape.before_tet
        return weight

    def documents(self, *, first_day: dt.date | None = None) -> Iterator[Document]:
        """Every document of the period in sending order, from ``first_day`` on."""
        for day, count in self._days.items():
            if first_day is not None and day < first_day:
                continue
            yield from self.documents_of(day, count)

    def documents_of(self, day: dt.date, count: int | None = None) -> Iterator[Document]:
        """The documents of ``day`` in sending order (the same for the same seed)."""
        count = self._days.get(day, 0) if count is None else count
        if count == 0:
            return
        rng = random.Random(f"{self.seed}:{day.isoformat()}")
        mix = self._mix(self._agencies_at or day)
        mix.reseed(rng.randrange(2**32), first_number=1 + rng.randrange(1000))
        for moment in sorted(self._moments(day, count, rng)):
            yield mix.document(sent_at=moment)

    def _mix(self, at: dt.date) -> DocumentMix:
        """The document mix of the agencies open on ``at`` (built once per set of agencies)."""
        key = tuple(a.code for a in self._directory.open_at(at))
        mix = self._mixes.get(key)
        if mix is None:
            mix = self._mixes[key] = DocumentMix(self._directory, at=at)
        return mix

    def _moments(self, day: dt.date, count: int, rng: random.Random) -> Iterator[dt.datetime]:
        """``count`` sending times on ``day``: sessions, a little evening, or daytime if off."""
        shape = self.shape
        if not self._calendar.is_working_day(day):
            start = dt.datetime.combine(day, dt.time(8, 0), VN_TIME)
            for _ in range(count):
                yield (start + dt.timedelta(seconds=rng.uniform(0, 9 * 3600))).astimezone(dt.UTC)
            return
        (m_start, m_end), (a_start, a_end) = self._calendar.sessions
        for _ in range(count):
            roll = rng.random()
            if roll < shape.evening_share:
                begin, end = a_end, dt.time(21, 0)
            elif roll < shape.evening_share + (1 - shape.evening_share) * shape.morning_share:
                begin, end = m_start, m_end
            else:
                begin, end = a_start, a_end
            first = dt.datetime.combine(day, begin, VN_TIME)
            span = (dt.datetime.combine(day, end, VN_TIME) - first).total_seconds()
            yield (first + dt.timedelta(seconds=rng.uniform(0, span))).astimezone(dt.UTC)

    def _spread(self, total: int) -> dict[dt.date, int]:
        """``total`` over the period's days by weight, rounded so the sum is exact.

        Cumulative rounding: each day gets the rounded running share minus the days before
        it, so the fractions spread evenly over the year (rounding each day alone, or
        handing the remainders to the first days, made steps where none belong).
        """
        days, day = [], self.profile.first_day
        while day <= self.profile.last_day:
            days.append(day)
            day += dt.timedelta(days=1)
        weights = [self.day_weight(d) for d in days]
        per_weight = total / sum(weights)
        counts, running, given = {}, 0.0, 0
        for day, weight in zip(days, weights, strict=True):
            running += weight * per_weight
            counts[day] = round(running) - given
            given += counts[day]
        counts[days[-1]] += total - given  # float error at the very end, if any
        return counts

    def _in_tet_break(self, day: dt.date) -> bool:
        """Whether ``day`` is in a run of five or more days off (the Tết break)."""
        calendar = self._calendar
        start = day
        while not calendar.is_working_day(start - dt.timedelta(days=1)):
            start -= dt.timedelta(days=1)
        end = day
        while not calendar.is_working_day(end + dt.timedelta(days=1)):
            end += dt.timedelta(days=1)
        span = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        return len(span) >= 5 and any(
            d in calendar.days_off and d.weekday() < 5 and d.month in (1, 2) for d in span
        )

    def _days_before_tet(self, day: dt.date) -> int | None:
        """Days from ``day`` to the next Tết break if it starts within 14 days, else None."""
        for ahead in range(1, 15):
            if self._in_tet_break(day + dt.timedelta(days=ahead)):
                return ahead
        return None

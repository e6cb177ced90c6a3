"""Tests for producers.simulation._workload: the yearly model is deterministic and keeps its figures."""

from __future__ import annotations

import collections
import datetime as dt
import random
import statistics

import pytest

from docbus.calendar import WorkingCalendar
from docbus.directory import Directory
from producers.simulation import YEARS, ReceiverBehaviour, YearWorkload
from schemas import VN_TIME, StatusCode


@pytest.fixture(scope="module")
def directory() -> Directory:
    return Directory.load()


@pytest.fixture(scope="module")
def year_2024(directory: Directory) -> YearWorkload:
    return YearWorkload(2024, directory=directory)


@pytest.mark.parametrize("year", sorted(YEARS))
def test_the_days_add_up_to_the_yearly_total_at_any_scale(directory: Directory, year: int) -> None:
    """Each known year's daily counts sum exactly to its figure times the scale."""
    for scale in (1.0, 0.01, 0.0003):
        model = YearWorkload(year, directory=directory, scale=scale)
        assert model.total == round(YEARS[year].documents * scale)
        assert sum(model.days.values()) == model.total
        assert min(model.days) == YEARS[year].first_day
        assert max(model.days) == YEARS[year].last_day


def test_2024_runs_from_1_january_to_20_december(year_2024: YearWorkload) -> None:
    """The 2024 figure covers 1 January to 20 December: 12.2 million documents."""
    assert year_2024.total == 12_200_000
    assert (min(year_2024.days), max(year_2024.days)) == (
        dt.date(2024, 1, 1),
        dt.date(2024, 12, 20),
    )


def test_the_calendar_shapes_the_year(year_2024: YearWorkload) -> None:
    """Working days carry the load; weekends little, holidays less, the Tết break least."""
    days = year_2024.days
    calendar = WorkingCalendar.load()
    ordinary = days[dt.date(2024, 3, 5)]  # a Tuesday in March
    assert calendar.is_working_day(dt.date(2024, 3, 5))
    assert days[dt.date(2024, 3, 9)] < ordinary / 10  # Saturday
    assert days[dt.date(2024, 9, 2)] < days[dt.date(2024, 3, 9)]  # National Day
    tet = [dt.date(2024, 2, 8) + dt.timedelta(days=i) for i in range(7)]  # 8-14 February
    assert all(days[d] < days[dt.date(2024, 9, 2)] for d in tet)
    assert days[dt.date(2024, 12, 3)] > ordinary  # December surge
    assert days[dt.date(2024, 12, 18)] > days[dt.date(2024, 12, 3)]  # the last two weeks
    assert days[dt.date(2024, 2, 5)] > ordinary  # closing the lunar year


def test_the_same_seed_gives_the_same_documents(directory: Directory) -> None:
    """Two models with one seed produce identical days; another seed differs."""
    day = dt.date(2024, 10, 15)
    one = list(YearWorkload(2024, directory=directory, scale=0.002, seed=7).documents_of(day))
    two = list(YearWorkload(2024, directory=directory, scale=0.002, seed=7).documents_of(day))
    other = list(YearWorkload(2024, directory=directory, scale=0.002, seed=8).documents_of(day))
    assert one == two
    fresh_each_day = YearWorkload(2024, directory=directory, scale=0.002, seed=7)
    list(fresh_each_day.documents_of(dt.date(2024, 10, 14)))  # a mix used before leaves no trace
    assert list(fresh_each_day.documents_of(day)) == one
    assert len(one) == len(other) > 0
    assert [d.document_id for d in one] != [d.document_id for d in other]


def test_documents_are_dated_in_order_within_working_hours(directory: Directory) -> None:
    """A working day's documents come in time order, mostly inside the two sessions."""
    model = YearWorkload(2024, directory=directory, scale=0.01)
    day = dt.date(2024, 5, 14)
    docs = list(model.documents_of(day))
    assert len(docs) == model.days[day] > 100
    times = [d.sent_at for d in docs]
    assert times == sorted(times)
    local = [t.astimezone(VN_TIME) for t in times]
    assert all(t.date() == day for t in local)
    in_session = [
        t
        for t in local
        if dt.time(7, 30) <= t.time() <= dt.time(11, 30)
        or dt.time(13, 30) <= t.time() <= dt.time(17, 0)
    ]
    assert len(in_session) / len(local) > 0.9
    assert len({d.document_id for d in docs}) == len(docs)


def test_the_mix_keeps_its_shares(directory: Directory) -> None:
    """Mostly normal priority, a few percent express; mostly one to three recipients."""
    model = YearWorkload(2024, directory=directory, scale=0.003)
    docs = [
        d for day in (dt.date(2024, 6, 3), dt.date(2024, 6, 4)) for d in model.documents_of(day)
    ]
    priorities = collections.Counter(d.priority for d in docs)
    assert priorities[0] / len(docs) > 0.8
    assert 0.01 < (priorities[3] + priorities[4]) / len(docs) < 0.06
    few = sum(1 for d in docs if len(d.recipients) <= 3)
    assert few / len(docs) > 0.9
    senders = collections.Counter(d.sender for d in docs)
    assert senders.most_common(1)[0][0] == "000.00.00.G22"  # the Government Office hub


def test_receivers_answer_arrival_then_a_decision() -> None:
    """Each delivery gets 01, then 03 or 02, sometimes 06; express documents are decided sooner."""
    behaviour = ReceiverBehaviour()
    rng = random.Random(1)
    normal = [behaviour.answers(0, rng) for _ in range(4000)]
    express = [behaviour.answers(3, rng) for _ in range(4000)]
    for answers in normal + express:
        codes = [a.code for a in answers]
        assert codes[0] == StatusCode.ARRIVED
        assert codes[1] in (StatusCode.ACCEPTED, StatusCode.REJECTED)
        assert codes in (["01", "02"], ["01", "03"], ["01", "03", "06"])
        delays = [a.delay_s for a in answers]
        assert delays == sorted(delays)
    rejected = sum(1 for a in normal if a[1].code == StatusCode.REJECTED) / len(normal)
    assert 0.01 < rejected < 0.04
    assert statistics.median(a[1].delay_s for a in express) < statistics.median(
        a[1].delay_s for a in normal
    )


def test_unknown_years_and_bad_scales_are_refused(directory: Directory) -> None:
    """A year without figures, or a scale outside (0, 1], is a clear error."""
    with pytest.raises(ValueError, match="known years are 2019, 2023, 2024"):
        YearWorkload(2021, directory=directory)
    with pytest.raises(ValueError, match="scale"):
        YearWorkload(2024, directory=directory, scale=0)

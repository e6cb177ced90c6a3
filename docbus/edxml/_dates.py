"""edXML dates and times: written ``yyyy/MM/dd`` and ``yyyy/MM/dd HH:mm:ss`` in Vietnam time.

Reading is lenient about what real files contain (``yyyy-MM-dd``, ``dd/MM/yyyy``, ISO
times with or without a zone, minutes without seconds); a time without a zone is UTC+7.
"""

from __future__ import annotations

import datetime as dt

from schemas import VN_TIME

__all__ = ["format_date", "format_timestamp", "parse_date", "parse_timestamp"]

_DATE_FORMATS = ("%Y/%m/%d", "%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y")
_TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
)


def parse_date(text: str) -> dt.date:
    """A date in any of the forms real files use; ``ValueError`` naming them otherwise."""
    value = " ".join(text.split())
    for form in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, form).date()
        except ValueError:
            continue
    try:  # a timestamp where a date is expected: keep its day
        return parse_timestamp(value).astimezone(VN_TIME).date()
    except ValueError:
        raise ValueError(f"{text!r} is not a date (yyyy/MM/dd)") from None


def parse_timestamp(text: str) -> dt.datetime:
    """An aware datetime; a time without a zone is taken as Vietnam time (UTC+7)."""
    value = " ".join(text.split())
    for form in _TIME_FORMATS:
        try:
            return dt.datetime.strptime(value, form).replace(tzinfo=VN_TIME)
        except ValueError:
            continue
    try:
        parsed = dt.datetime.fromisoformat(value.replace("/", "-", 2))
    except ValueError:
        for form in _DATE_FORMATS:
            try:
                return dt.datetime.strptime(value, form).replace(tzinfo=VN_TIME)
            except ValueError:
                continue
        raise ValueError(f"{text!r} is not a time (yyyy/MM/dd HH:mm:ss)") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=VN_TIME)


def format_date(day: dt.date) -> str:
    """``yyyy/MM/dd``."""
    return day.strftime("%Y/%m/%d")


def format_timestamp(moment: dt.datetime) -> str:
    """``yyyy/MM/dd HH:mm:ss`` in Vietnam time (sub-seconds are dropped, as edXML has none)."""
    return moment.astimezone(VN_TIME).strftime("%Y/%m/%d %H:%M:%S")

"""Vietnam's working calendar: working hours, weekends, public holidays and the Tết week."""

from docbus.calendar._calendar import WorkingCalendar

__all__ = ["WorkingCalendar"]

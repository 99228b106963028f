"""Working days and working hours on the official Chinese calendar.

A day is a working day by, in order: an administrator's override; the
``chinesecalendar`` package (statutory holidays and make-up workdays); for a year
the package does not know, Monday to Friday if an administrator has marked that
year's schedule as entered. Otherwise the answer is unknown and we say so loudly:
a silently wrong deadline is worse than none.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from .clock import SHANGHAI, UTC
from .models import CalendarOverride, CalendarYear

DEFAULT_OFFICE_HOURS = ((time(9), time(12)), (time(13, 30), time(17, 30)))


class CalendarDataMissing(RuntimeError):
    def __init__(self, year: int):
        super().__init__(
            f"没有 {year} 年的节假日安排：请系统管理员在“节假日调整”中录入 {year} 年国务院办公厅公布的放假和调休安排，"
            f"并标记该年已录入"
        )
        self.year = year


class WorkCalendar:
    """Working-day arithmetic for one session; lookups are cached for its lifetime."""

    def __init__(self, session: Session | None, office_hours=DEFAULT_OFFICE_HOURS):
        self.session = session
        self.office_hours = tuple(office_hours)
        self._overrides: dict[int, dict[date, bool]] = {}
        self._entered: dict[int, bool] = {}

    def _year(self, year: int) -> dict[date, bool]:
        if year not in self._overrides:
            rows = {}
            if self.session is not None:
                rows = dict(self.session.execute(
                    select(CalendarOverride.day, CalendarOverride.is_workday)
                    .where(CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31))
                ).all())
                self._entered[year] = self.session.get(CalendarYear, year) is not None
            self._overrides[year] = rows
        return self._overrides[year]

    def is_workday(self, day: date) -> bool:
        overrides = self._year(day.year)
        if day in overrides:
            return overrides[day]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if self._entered.get(day.year):
                return day.weekday() < 5
            raise CalendarDataMissing(day.year) from None

    def next_workday(self, day: date) -> date:
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def count_workdays(self, first: date, last: date) -> int:
        """Working days from ``first`` to ``last``, both included."""
        count, day = 0, first
        while day <= last:
            count += self.is_workday(day)
            day += timedelta(days=1)
        return count

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same time of day ``days`` working days after ``start``.

        A start on a day off counts from the opening of the next working day.
        """
        at = start.astimezone(SHANGHAI)
        day = at.date()
        if not self.is_workday(day):
            day = self.next_workday(day)
            at = datetime.combine(day, self.office_hours[0][0], SHANGHAI)
        for _ in range(days):
            day = self.next_workday(day + timedelta(days=1))
        return datetime.combine(day, at.timetz()).astimezone(UTC)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment ``hours`` of office time after ``start`` have passed."""
        remaining = timedelta(hours=hours)
        at = start.astimezone(SHANGHAI)
        day = at.date()
        while True:
            if self.is_workday(day):
                for open_, close in self.office_hours:
                    span_start = max(at, datetime.combine(day, open_, SHANGHAI))
                    span_end = datetime.combine(day, close, SHANGHAI)
                    if span_start >= span_end:
                        continue
                    if span_start + remaining <= span_end:
                        return (span_start + remaining).astimezone(UTC)
                    remaining -= span_end - span_start
            day += timedelta(days=1)
            at = datetime.combine(day, time(0), SHANGHAI)

    def in_office_hours(self, at: datetime) -> bool:
        local = at.astimezone(SHANGHAI)
        return self.is_workday(local.date()) and any(
            open_ <= local.time() < close for open_, close in self.office_hours
        )

"""Working days and working hours on the official Chinese calendar.

A day is a working day by, in order: an administrator's override; the
``chinesecalendar`` package (statutory holidays and make-up workdays); for a year
the package does not know, Monday to Friday if an administrator has marked that
year's schedule as entered. Otherwise the answer is unknown and we say so loudly:
a silently wrong deadline is worse than none.
"""

from __future__ import annotations

import time as _time
from datetime import date, datetime, time, timedelta

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, clock
from .clock import SHANGHAI, UTC
from .errors import GongwenError
from .models import CalendarOverride, CalendarYear

DEFAULT_OFFICE_HOURS = ((time(9), time(12)), (time(13, 30), time(17, 30)))


def set_override(session: Session, day: date, is_workday: bool, note: str = "", *,
                 actor_id: int | None = None) -> None:
    """Declare ``day`` a working day or a day off, whatever the holiday package says (audited)."""
    row = session.get(CalendarOverride, day) or CalendarOverride(day=day)
    row.is_workday, row.note = is_workday, note
    session.add(row)
    audit.record(session, "calendar.override", actor_id=actor_id, day=day.isoformat(),
                 kind="workday" if is_workday else "holiday", note=note)


def mark_year_entered(session: Session, year: int, *, actor_id: int | None = None) -> None:
    """``year``'s official schedule is entered as overrides: its other days follow Monday to Friday."""
    if year < clock.local_today().year - 1:
        raise GongwenError("只能为去年、今年或以后的年份标记")
    if session.get(CalendarYear, year) is None:
        session.add(CalendarYear(year=year, note="已录入"))
    audit.record(session, "calendar.year_entered", actor_id=actor_id, year=year)


class CalendarDataMissing(RuntimeError):
    def __init__(self, year: int):
        super().__init__(
            f"没有 {year} 年的节假日安排：请系统管理员在“节假日调整”中录入 {year} 年国务院办公厅公布的放假和调休安排，"
            f"并标记该年已录入"
        )
        self.year = year


class CalendarData:
    """An administrator's overrides per year, read at most once a minute per process.

    Overrides change a few times a year; re-reading them on every step would cost
    two queries per step for nothing. A change reaches every process within a minute.
    """

    def __init__(self, max_age_s: float = 60.0):
        self.max_age_s = max_age_s
        self._years: dict[int, tuple[float, dict[date, bool], bool]] = {}

    def year(self, session: Session, year: int) -> tuple[dict[date, bool], bool]:
        cached = self._years.get(year)
        if cached is not None and _time.monotonic() - cached[0] < self.max_age_s:
            return cached[1], cached[2]
        overrides = dict(session.execute(
            select(CalendarOverride.day, CalendarOverride.is_workday)
            .where(CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31))
        ).all())
        entered = session.get(CalendarYear, year) is not None
        self._years[year] = (_time.monotonic(), overrides, entered)
        return overrides, entered


class WorkCalendar:
    """Working-day arithmetic over one session; without ``data`` it reads overrides afresh."""

    def __init__(self, session: Session | None, office_hours=DEFAULT_OFFICE_HOURS, data: CalendarData | None = None):
        self.session = session
        self.office_hours = tuple(office_hours)
        self.data = data or CalendarData(max_age_s=0)
        self._years: dict[int, tuple[dict[date, bool], bool]] = {}

    def _year(self, year: int) -> tuple[dict[date, bool], bool]:
        if year not in self._years:
            self._years[year] = ({}, False) if self.session is None else self.data.year(self.session, year)
        return self._years[year]

    def is_workday(self, day: date) -> bool:
        overrides, entered = self._year(day.year)
        if day in overrides:
            return overrides[day]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if entered:
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

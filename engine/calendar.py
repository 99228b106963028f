"""Working days and working hours on the official Chinese calendar.

A day is a working day by, in order: an administrator's override; the
``chinesecalendar`` package (statutory holidays and make-up workdays); for a year
the package does not know yet, Monday to Friday except the fixed-date statutory
holidays (元旦, 劳动节, 国庆节). Nothing fails at new year: deadlines in such a year
are still computed, and :func:`years_to_enter` names the years the system
administrator must enter (the lunar holidays and make-up days of the State Council's
schedule) until each is marked entered.
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
from .text import clean

DEFAULT_OFFICE_HOURS = ((time(9), time(12)), (time(13, 30), time(17, 30)))


def set_override(session: Session, day: date, is_workday: bool, note: str = "", *,
                 actor_id: int | None = None) -> None:
    """Declare ``day`` a working day or a day off, whatever the holiday package says (audited)."""
    note = clean(note, field="说明", max_length=100, required=False)
    row = session.get(CalendarOverride, day) or CalendarOverride(day=day)
    row.is_workday, row.note = is_workday, note
    session.add(row)
    audit.record(session, "calendar.override", actor_id=actor_id, day=day.isoformat(),
                 kind="workday" if is_workday else "holiday", note=note)


def mark_year_entered(session: Session, year: int, *, actor_id: int | None = None) -> None:
    """``year``'s official schedule is entered as overrides; the warning that it is missing stops."""
    this_year = clock.local_today().year
    if not this_year - 1 <= year <= this_year + 5:
        raise GongwenError("只能为去年、今年及以后五年内的年份标记")
    if session.get(CalendarYear, year) is None:
        session.add(CalendarYear(year=year, note="已录入"))
    audit.record(session, "calendar.year_entered", actor_id=actor_id, year=year)


# The statutory holidays on fixed solar dates (全国年节及纪念日放假办法, 2024 revision): 元旦, 劳动节, 国庆节.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})
# How far ahead the system administrator is warned of a year not yet entered.
WARN_AHEAD = timedelta(days=60)


def package_knows(year: int) -> bool:
    """Whether the ``chinesecalendar`` package has the official schedule of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def years_to_enter(session: Session, today: date | None = None) -> list[int]:
    """The years from this one to ``WARN_AHEAD`` from now whose schedule nobody has entered yet.

    Until a year is entered, its deadlines count weekends and the fixed-date holidays only;
    the lunar holidays (春节, 清明, 端午, 中秋) and make-up working days are missing.
    """
    today = today or clock.local_today()
    years = range(today.year, (today + WARN_AHEAD).year + 1)
    entered = set(session.scalars(select(CalendarYear.year).where(CalendarYear.year.in_(list(years)))))
    return [y for y in years if not package_knows(y) and y not in entered]


class CalendarData:
    """An administrator's overrides per year, read at most once a minute per process.

    Overrides change a few times a year; re-reading them on every step would cost
    two queries per step for nothing. A change reaches every process within a minute.
    """

    def __init__(self, max_age_s: float = 60.0):
        self.max_age_s = max_age_s
        self._years: dict[int, tuple[float, dict[date, bool]]] = {}

    def year(self, session: Session, year: int) -> dict[date, bool]:
        cached = self._years.get(year)
        if cached is not None and _time.monotonic() - cached[0] < self.max_age_s:
            return cached[1]
        overrides = dict(session.execute(
            select(CalendarOverride.day, CalendarOverride.is_workday)
            .where(CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31))
        ).all())
        self._years[year] = (_time.monotonic(), overrides)
        return overrides


class WorkCalendar:
    """Working-day arithmetic over one session; without ``data`` it reads overrides afresh."""

    def __init__(self, session: Session | None, office_hours=DEFAULT_OFFICE_HOURS, data: CalendarData | None = None):
        self.session = session
        self.office_hours = tuple(office_hours)
        self.data = data or CalendarData(max_age_s=0)
        self._years: dict[int, dict[date, bool]] = {}

    def _year(self, year: int) -> dict[date, bool]:
        if year not in self._years:
            self._years[year] = {} if self.session is None else self.data.year(self.session, year)
        return self._years[year]

    def is_workday(self, day: date) -> bool:
        overrides = self._year(day.year)
        if day in overrides:
            return overrides[day]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS

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

    def next_opening(self, at: datetime) -> datetime:
        """``at`` itself in office hours, else the next moment the office opens."""
        return self.add_working_hours(at, 0) if not self.in_office_hours(at) else at

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Office time, in hours, from ``start`` to ``end`` (0 if ``end`` is not later)."""
        total, at = timedelta(0), start.astimezone(SHANGHAI)
        end = end.astimezone(SHANGHAI)
        day = at.date()
        while day <= end.date():
            if self.is_workday(day):
                for open_, close in self.office_hours:
                    first = max(at, datetime.combine(day, open_, SHANGHAI))
                    last = min(end, datetime.combine(day, close, SHANGHAI))
                    if last > first:
                        total += last - first
            day += timedelta(days=1)
        return total.total_seconds() / 3600

    def in_office_hours(self, at: datetime) -> bool:
        local = at.astimezone(SHANGHAI)
        return self.is_workday(local.date()) and any(
            open_ <= local.time() < close for open_, close in self.office_hours
        )

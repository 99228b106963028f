"""Reporting periods: a quarter, a month or any range of days, in Beijing time.

Reports (the texts' cost, supervision's figures) count what happened in a period and compare it
with the one before; a period knows its bounds in UTC and its predecessor of the same length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from . import clock

_QUARTER = re.compile(r"(\d{4})Q([1-4])")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_QUARTER_NAMES = "一二三四"
MAX_DAYS = 3660


@dataclass(frozen=True)
class Period:
    """Days ``first`` to ``last`` (inclusive), Beijing time."""

    first: date
    last: date
    label: str

    @classmethod
    def quarter(cls, text: str) -> Period:
        """``2026Q4``; ``ValueError`` for anything else."""
        match = _QUARTER.fullmatch(text.strip().upper())
        if not match or not 1990 <= int(match[1]) <= 2100:
            raise ValueError("季度的格式应为 2026Q4")
        year, number = int(match[1]), int(match[2])
        first = date(year, 3 * number - 2, 1)
        return cls(first, _month_end(date(year, 3 * number, 1)), f"{year} 年第{_QUARTER_NAMES[number - 1]}季度")

    @classmethod
    def month(cls, text: str) -> Period:
        """``2026-11``; ``ValueError`` for anything else."""
        match = _MONTH.fullmatch(text.strip())
        if not match or not 1990 <= int(match[1]) <= 2100 or not 1 <= int(match[2]) <= 12:
            raise ValueError("月份的格式应为 2026-11")
        first = date(int(match[1]), int(match[2]), 1)
        return cls(first, _month_end(first), f"{first.year} 年 {first.month} 月")

    @classmethod
    def of_day(cls, day: date) -> Period:
        """The quarter ``day`` is in."""
        return cls.quarter(f"{day.year}Q{(day.month - 1) // 3 + 1}")

    @classmethod
    def days(cls, first: date, last: date) -> Period:
        """``first`` to ``last``; ``ValueError`` if they are the wrong way round or over ten years apart."""
        if last < first or (last - first).days > MAX_DAYS:
            raise ValueError("结束日期应不早于开始日期，且相隔不超过十年")
        return cls(first, last, f"{first:%Y-%m-%d} 至 {last:%Y-%m-%d}")

    @property
    def day_count(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period just before: the previous quarter or month for those, else as many days before."""
        if self.first.day == 1 and self.last == _month_end(self.last):
            months = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1
            first = _add_months(self.first, -months)
            if months == 3 and first.month % 3 == 1:
                return Period.quarter(f"{first.year}Q{(first.month - 1) // 3 + 1}")
            if months == 1:
                return Period.month(f"{first.year}-{first.month}")
        last = self.first - timedelta(days=1)
        return Period.days(last - timedelta(days=self.day_count - 1), last)

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as [start, end) in UTC."""
        start = datetime.combine(self.first, time(), tzinfo=clock.SHANGHAI)
        end = datetime.combine(self.last + timedelta(days=1), time(), tzinfo=clock.SHANGHAI)
        return start.astimezone(clock.UTC), end.astimezone(clock.UTC)


def _month_end(day: date) -> date:
    return _add_months(day.replace(day=1), 1) - timedelta(days=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)

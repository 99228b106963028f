"""Values from requests, parsed the one strict way: ids, numbers and days that a page offered.

Every id in a URL or form is a positive integer that the id columns hold (PostgreSQL's 32-bit
``integer``) written in ASCII digits (``²`` is a digit to Python, not to us); every number is finite
and inside the range the field allows; every day is an ISO date in a plausible year. Anything else
is ``None`` (or, for a URL, a 404), never a 500.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime

from flask import abort, flash, request
from werkzeug.routing import IntegerConverter

from engine import clock
from engine.periods import Period

MAX_ID = 2**31 - 1  # every id column is an Integer: PostgreSQL refuses a larger value (a 500), SQLite would not
_DIGITS = re.compile(r"[0-9]{1,19}")
FIRST_YEAR, LAST_YEAR = 1990, 2100


def as_id(text: str | None) -> int | None:
    """A database id, or None."""
    if text is None or not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def as_ids(texts: list[str]) -> list[int] | None:
    """Several ids, or None if any of them is not one."""
    ids = [as_id(t) for t in texts]
    return None if any(i is None for i in ids) else ids


def as_number(text: str | None, low: float, high: float) -> float | None:
    """A finite number from ``low`` to ``high``, or None."""
    try:
        value = float(text or "")
    except ValueError:
        return None
    return value if math.isfinite(value) and low <= value <= high else None


def as_day(text: str | None) -> date | None:
    """An ISO date (``2026-12-01``) between 1990 and 2100, or None."""
    try:
        day = date.fromisoformat(text or "")
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


_MINUTE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}")


def as_minute(text: str | None) -> datetime | None:
    """A time to the minute as a ``datetime-local`` input sends it (``2026-12-01T09:30``), read in Beijing time
    and returned aware; None for anything else or a year outside 1990–2100."""
    if text is None or not _MINUTE.fullmatch(text):
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at.replace(tzinfo=clock.SHANGHAI) if FIRST_YEAR <= at.year <= LAST_YEAR else None


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: an id past MAX_ID matches no route (404) instead of overflowing."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def refuse_nul() -> None:
    """Before every request: a NUL character in any value is refused (400) before any code sees it.

    No field may hold one, PostgreSQL cannot store one, and it hides the rest of a text.
    """
    files = ((k, [f.filename or ""]) for k, f in request.files.items())
    values = [*request.args.lists(), *request.form.lists(), *files]
    body = request.get_json(silent=True) if request.is_json else None
    if any(_has_nul(k) or _has_nul(v) for k, v in values) or _has_nul(body):
        abort(400, description="请求中含有不允许的字符（NUL）")


def recent_quarters(years: int = 3) -> list[str]:
    """The quarters a period picker offers: this one and those of the last ``years`` years, latest first."""
    today = clock.local_today()
    return [f"{y}Q{q}" for y in range(today.year, today.year - years, -1) for q in range(4, 0, -1)
            if date(y, 3 * q - 2, 1) <= today]


def period_from_args(args: Mapping[str, str] | None = None) -> tuple[Period, dict[str, str]]:
    """The period a report page asks for (``quarter=2026Q4``, ``month=2026-11``, or ``since`` and
    ``until``) with the arguments that repeat it, else this quarter with a flashed reason. Read from
    the query, or from ``args`` (a form's fields, for a POST that acts on a period)."""
    args = request.args if args is None else args
    try:
        if args.get("quarter"):
            return Period.quarter(args["quarter"][:10]), {"quarter": args["quarter"][:10]}
        if args.get("month"):
            return Period.month(args["month"][:10]), {"month": args["month"][:10]}
        if args.get("since") or args.get("until"):
            since, until = as_day(args.get("since")), as_day(args.get("until"))
            if since is None or until is None:
                raise ValueError("日期无效")
            return Period.days(since, until), {"since": since.isoformat(), "until": until.isoformat()}
    except ValueError as err:
        flash(f"统计期间无效（{err}），已显示本季度")
    return Period.of_day(clock.local_today()), {}

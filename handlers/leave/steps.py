"""Handlers of the leave process (请销假)."""

from __future__ import annotations

from datetime import date

from engine.registry import HandlerContext, handler


@handler("count_leave_days", savepoint=False)  # writes nothing: a savepoint would only cost two round trips
def count_leave_days(ctx: HandlerContext, first_day: date, last_day: date) -> dict:
    """Working days of a leave from ``first_day`` to ``last_day`` inclusive."""
    return {"working_days": ctx.calendar.count_workdays(first_day, last_day)}

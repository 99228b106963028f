"""Sign-for deadlines: the one place that says how long a unit has to sign for a document.

An administrator sets a window per urgency (``DeadlineRule``); without one, the notices'
defaults apply: 平件 one working day, 加急 two working hours, 特急 at once (half an hour
of clock time, nights and holidays included). The sender works the window out once per
dispatch; the receiver's process reminds half-way there and escalates at the deadline.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.calendar import WorkCalendar
from engine.errors import Refused

from ..documents.models import Urgency
from .models import DeadlineRule

__all__ = ["CHASE_INTERVAL", "DEFAULT_DEADLINES", "Measure", "SignForWindow", "deadline_rules", "set_deadline",
           "sign_for_window"]


class Measure(enum.StrEnum):
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    HOURS = "hours"

    @property
    def label(self) -> str:
        return {"working_days": "个工作日", "working_hours": "个工作小时", "hours": "小时（不分昼夜）"}[self.value]


DEFAULT_DEADLINES: dict[Urgency, tuple[float, Measure]] = {
    Urgency.NORMAL: (1.0, Measure.WORKING_DAYS),
    Urgency.URGENT: (2.0, Measure.WORKING_HOURS),
    Urgency.EXTRA_URGENT: (0.5, Measure.HOURS),
}
# The longest window an administrator may set, per measure: a month of working days, or about it.
LONGEST = {Measure.WORKING_DAYS: 30, Measure.WORKING_HOURS: 240, Measure.HOURS: 720}
# A sender may chase one recipient by hand at most this often (催签).
CHASE_INTERVAL = timedelta(hours=1)


@dataclass(frozen=True)
class SignForWindow:
    """When a recipient must have signed, and when its clerks are reminded (half-way there)."""

    due: datetime
    remind_at: datetime

    def as_data(self) -> dict:
        """The window as the receiving process's data (``arrival['sign_due']``, ``arrival['remind_at']``)."""
        return {"sign_due": self.due.isoformat(), "remind_at": self.remind_at.isoformat()}


def _rule(session: Session, urgency: Urgency) -> tuple[float, Measure]:
    rule = session.get(DeadlineRule, urgency.value)
    return (rule.amount, Measure(rule.measure)) if rule else DEFAULT_DEADLINES[urgency]


def sign_for_window(session: Session, calendar: WorkCalendar, urgency: Urgency, arrived: datetime) -> SignForWindow:
    """The sign-for window of a document of ``urgency`` arriving at ``arrived``."""
    amount, measure = _rule(session, urgency)
    if measure == Measure.WORKING_DAYS:
        due = calendar.add_working_days(arrived, int(amount))
    elif measure == Measure.WORKING_HOURS:
        due = calendar.add_working_hours(arrived, amount)
    else:
        due = arrived + timedelta(hours=amount)
    return SignForWindow(due, arrived + (due - arrived) / 2)


def deadline_rules(session: Session) -> list[tuple[Urgency, float, Measure, bool]]:
    """Every urgency's window as (urgency, amount, measure, set by an administrator)."""
    rules = {r.urgency: r for r in session.scalars(select(DeadlineRule))}
    return [(u, rules[u].amount, Measure(rules[u].measure), True) if u in rules else (u, *DEFAULT_DEADLINES[u], False)
            for u in Urgency]


def set_deadline(session: Session, urgency: str, amount: float, measure: str, *, actor_id: int | None = None) -> None:
    """An administrator's sign-for window for one urgency."""
    if urgency not in set(Urgency) or measure not in set(Measure):
        raise Refused(f"紧急程度应为 {'、'.join(Urgency)}，单位应为 {'、'.join(Measure)}")
    longest = LONGEST[Measure(measure)]
    if not (isinstance(amount, (int, float)) and math.isfinite(amount) and 0 < amount <= longest):
        raise Refused(f"签收时限应大于 0、不超过 {longest:g} {Measure(measure).label}")
    rule = session.get(DeadlineRule, urgency) or DeadlineRule(urgency=urgency)
    rule.amount, rule.measure = amount, measure
    session.add(rule)
    audit.record(session, "deadline.set", actor_id=actor_id, urgency=urgency, amount=amount, measure=measure)

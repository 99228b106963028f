"""Sign-for deadlines: the one place that says how long a unit has to sign for a document.

An administrator sets a window per urgency (``DeadlineRule``); without one, the notices'
defaults apply: 平件 one working day, 加急 at once in office hours (half a working hour),
特急 at once (half an hour of clock time, nights and holidays included).

Outside office hours the notices' clocks differ (Yan'an Art 21–22): a normal document sent at
night counts from the next working morning, and an urgent one (加急, 特急) must be signed for
within two hours of sending (``GONGWEN_AFTER_HOURS_SIGN_FOR_HOURS``), whatever its office-hours
window would say. The sender works the window out once per dispatch; the receiver's process
reminds half-way there, texts the clerks at the deadline and the unit's 分管领导 half a window
later (``escalate_at``).
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
from engine.config import option
from engine.errors import Refused

from ..documents.models import Urgency
from .models import DeadlineRule, SignClass

__all__ = ["AFTER_HOURS_WINDOW", "CHASE_INTERVAL", "DEFAULT_DEADLINES", "Measure", "SignForWindow", "deadline_rules",
           "set_deadline", "sign_class", "sign_for_window"]


class Measure(enum.StrEnum):
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    HOURS = "hours"

    @property
    def label(self) -> str:
        return {"working_days": "个工作日", "working_hours": "个工作小时", "hours": "小时（不分昼夜）"}[self.value]


DEFAULT_DEADLINES: dict[Urgency, tuple[float, Measure]] = {
    Urgency.NORMAL: (1.0, Measure.WORKING_DAYS),
    Urgency.URGENT: (0.5, Measure.WORKING_HOURS),
    Urgency.EXTRA_URGENT: (0.5, Measure.HOURS),
}
# The longest window an administrator may set, per measure: a month of working days, or about it.
LONGEST = {Measure.WORKING_DAYS: 30, Measure.WORKING_HOURS: 240, Measure.HOURS: 720}
# A sender may chase one recipient by hand at most this often (催签).
CHASE_INTERVAL = timedelta(hours=1)


def _hours(text: str) -> float:
    hours = float(text)
    if not 0 < hours <= 24:
        raise ValueError("应为 0 到 24 之间的小时数")
    return hours


# Reminders before the deadline: from half-way, hourly, at most this many.
REMINDERS, REMIND_EVERY = 3, timedelta(hours=1)
# Yan'an Art 22: 非工作时间的紧急公文 are signed for within two hours of sending.
AFTER_HOURS_WINDOW = option("after_hours_sign_for_hours", "GONGWEN_AFTER_HOURS_SIGN_FOR_HOURS", _hours, 2.0)


@dataclass(frozen=True)
class SignForWindow:
    """When a recipient must have signed; when its clerks are reminded (half-way there); when the
    unit's 分管领导 is told (half a window after the deadline)."""

    due: datetime
    remind_at: datetime
    escalate_at: datetime
    after_hours: bool = False   # the document arrived outside office hours

    @property
    def remind_cycle(self) -> str:
        """The reminders as an ISO 8601 repetition: hourly from half-way, at most three, none past the deadline
        (a text at night that the deadline's own text repeats an hour later is a text too many)."""
        fits = int((self.due - self.remind_at) / REMIND_EVERY)
        return f"R{max(1, min(REMINDERS, fits))}/{self.remind_at.isoformat()}/PT1H"

    def as_data(self) -> dict:
        """The window as the receiving process's data (``arrival['sign_due']``, and so on)."""
        return {"sign_due": self.due.isoformat(), "remind_at": self.remind_at.isoformat(),
                "remind_cycle": self.remind_cycle, "escalate_at": self.escalate_at.isoformat()}


def _rule(session: Session, urgency: Urgency) -> tuple[float, Measure]:
    rule = session.get(DeadlineRule, urgency.value)
    return (rule.amount, Measure(rule.measure)) if rule else DEFAULT_DEADLINES[urgency]


def _after(calendar: WorkCalendar, start: datetime, amount: float, measure: Measure) -> datetime:
    if measure == Measure.WORKING_DAYS:
        return calendar.add_working_days(start, int(amount))
    if measure == Measure.WORKING_HOURS:
        return calendar.add_working_hours(start, amount)
    return start + timedelta(hours=amount)


def _half(calendar: WorkCalendar, start: datetime, end: datetime, measure: Measure) -> datetime:
    """Half-way from ``start`` to ``end``: in office time for a working-time window, so that a
    reminder never falls in the night, in clock time otherwise."""
    if measure == Measure.HOURS:
        return start + (end - start) / 2
    return calendar.add_working_hours(start, calendar.working_hours_between(start, end) / 2)


def sign_for_window(session: Session, calendar: WorkCalendar, urgency: Urgency, arrived: datetime,
                    after_hours_window: float = AFTER_HOURS_WINDOW.default) -> SignForWindow:
    """The sign-for window of a document of ``urgency`` arriving at ``arrived``.

    ``after_hours_window`` (hours) caps an urgent document's window when it arrives outside
    office hours; a normal one arriving then counts from the next opening.
    """
    amount, measure = _rule(session, urgency)
    after_hours = not calendar.in_office_hours(arrived)
    start = calendar.next_opening(arrived) if after_hours and measure != Measure.HOURS else arrived
    due = _after(calendar, start, amount, measure)
    if after_hours and urgency != Urgency.NORMAL and due > arrived + timedelta(hours=after_hours_window):
        due, start, measure = arrived + timedelta(hours=after_hours_window), arrived, Measure.HOURS
    remind_at = _half(calendar, start, due, measure)
    escalate_at = due + (due - remind_at) if measure == Measure.HOURS else \
        calendar.add_working_hours(due, calendar.working_hours_between(remind_at, due))
    return SignForWindow(due, remind_at, escalate_at, after_hours)


def sign_class(urgency: Urgency, window: SignForWindow) -> SignClass:
    """The clock a receipt of ``urgency`` sent in ``window`` runs on, as supervision counts it."""
    if urgency == Urgency.NORMAL:
        return SignClass.NORMAL
    return SignClass.AFTER_HOURS if window.after_hours else SignClass.URGENT


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

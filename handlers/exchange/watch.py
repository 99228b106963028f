"""The duty watch: clerks who leave documents waiting are texted, in office hours.

Two of the notices set how often a unit's clerks must attend to arrivals:

- Yan'an Art 18: clerks log in every two hours. A clerk who has not looked at the inbox for two
  working hours while a document has waited that long is texted (``LOOK_EVERY``).
- Guangdong Art 20: documents are signed for every morning and every afternoon. When a half-day
  closes and a document that arrived at least an hour before the close is still unsigned, the
  unit's duty staff are texted.

Looks are recorded by the inbox page (``engine.inbox.record_look``); the watch's notices are
``Notification`` rows of kinds ``duty_watch`` and ``half_day_watch``, so the supervision pages can
count them. The watch is idempotent: it looks at what it already said before saying it again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.background import JobContext, periodic
from engine.calendar import WorkCalendar
from engine.clock import SHANGHAI
from engine.daily import add_to_day
from engine.models import InboxLook, Role
from engine.organisation import holders

from ..contacts.models import Duty
from ..notifications.alerts import alert_unit
from ..notifications.models import Notification
from ..notifications.tell import tell
from .models import Receipt, ReceiptStatus

__all__ = ["LOOK_EVERY", "SIGN_BEFORE_CLOSE", "watch"]

LOOK_EVERY = 2.0                          # working hours (Yan'an Art 18)
SIGN_BEFORE_CLOSE = timedelta(hours=1)    # a document this long before a half-day's close is due by it
LATE_CLOSE = timedelta(hours=2)           # a close further back than this is not worth a text any more


@periodic(every=timedelta(minutes=10))
def _watch(job: JobContext) -> None:
    with job.db.write() as session:
        watch(session, WorkCalendar(session, job.settings.office_hours, job.runtime.calendar_data))


def watch(session: Session, calendar: WorkCalendar, now: datetime | None = None) -> dict[str, int]:
    """One round of the watch at ``now``: how many people were told about looks and about a half-day."""
    now = now or clock.now()
    waiting: dict[int, datetime] = dict(session.execute(
        select(Receipt.unit_id, func.min(Receipt.dispatched_at)).where(Receipt.status == ReceiptStatus.PENDING)
        .group_by(Receipt.unit_id)).all())
    told = {"looks": 0, "half_day": 0}
    if not waiting:
        return told
    if calendar.in_office_hours(now):
        told["looks"] = _unseen_waits(session, calendar, now, waiting)
    close = _last_close(calendar, now)
    if close is not None and now - close <= LATE_CLOSE:
        told["half_day"] = _half_day(session, close, waiting)
    return told


def _unseen_waits(session: Session, calendar: WorkCalendar, now: datetime, waiting: dict[int, datetime]) -> int:
    """Text each clerk who has not looked for ``LOOK_EVERY`` working hours while a document waited as long."""
    long_waiting = [u for u, since in waiting.items() if calendar.working_hours_between(since, now) >= LOOK_EVERY]
    clerks = {u: holders(session, Role.CLERK, u) for u in long_waiting}
    people = [p for ps in clerks.values() for p in ps]
    if not people:
        return 0
    last_look = dict(session.execute(select(InboxLook.person_id, func.max(InboxLook.at))
                                     .where(InboxLook.person_id.in_(people)).group_by(InboxLook.person_id)).all())
    last_told = _last_told(session, people, "duty_watch")
    count = 0
    for unit_id, ps in clerks.items():
        for person in ps:
            seen = max(filter(None, (last_look.get(person), last_told.get(person), waiting[unit_id])))
            if calendar.working_hours_between(seen, now) < LOOK_EVERY:
                continue
            tell(session, [person], f"有来文等待签收，您已{LOOK_EVERY:g}个工作小时未查看待办，请及时登录签收",
                 kind="duty_watch", reason="值班查看：每两小时查看一次待办", urgent=True,
                 key=f"duty_watch:{person}:{now.isoformat()}")
            add_to_day(session, unit_id, now, watch_reminders=1)
            count += 1
    return count


def _half_day(session: Session, close: datetime, waiting: dict[int, datetime]) -> int:
    """At a half-day's close, text the duty staff of units with a document due by then and not signed."""
    late = [u for u, since in waiting.items() if since <= close - SIGN_BEFORE_CLOSE]
    already = set(session.scalars(select(Notification.person_id).where(
        Notification.kind == "half_day_watch", Notification.created_at >= close)))
    count = 0
    for unit_id in late:
        clerks = holders(session, Role.CLERK, unit_id)
        if not clerks or set(clerks) & already:
            continue
        half = "上午" if clock.local(close).hour < 13 else "下午"
        alert_unit(session, unit_id, f"本{half}下班前仍有来文未签收，请即签收", duty=Duty.CLERK, role=Role.CLERK,
                   kind="half_day_watch", reason="每个工作日上午、下午各签收一次来文",
                   key=f"half_day_watch:{unit_id}:{close.isoformat()}")
        add_to_day(session, unit_id, close, watch_reminders=1)
        count += 1
    return count


def _last_close(calendar: WorkCalendar, now: datetime) -> datetime | None:
    """The latest end of a morning or afternoon session at or before ``now`` today, if today is a working day."""
    day = clock.local(now).date()
    if not calendar.is_workday(day):
        return None
    closes = [datetime.combine(day, close, SHANGHAI) for _, close in calendar.office_hours]
    passed = [c for c in closes if c <= now]
    return passed[-1] if passed else None


def _last_told(session: Session, people: list[int], kind: str) -> dict[int, datetime]:
    rows = session.execute(select(Notification.person_id, func.max(Notification.created_at))
                           .where(Notification.person_id.in_(people), Notification.kind == kind)
                           .group_by(Notification.person_id)).all()
    return dict(rows)

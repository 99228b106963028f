"""Phone notices (电话通知记录): a clerk records a call received or made and routes it to whoever must act.

A clerk (收发员) of a unit records the call (来电/去电, the unit, person and number on the other end, what was
said, when) and picks a colleague of the unit to act by a deadline. Recording it starts the ``phone_notice``
process in the same transaction: the colleague finds a task (办理电话通知) in their inbox, due at the
deadline, and is reminded when the deadline passes undone (the diagram's timer); completing the task with a
note runs ``phone_notice_done``, which writes who did it, when and the note on the record. The record is read by
the unit's clerks, by who recorded it and by whom it was routed to; for anyone else it does not exist.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import NotFound, Refused
from engine.models import Person, PersonStatus, Role, RoleGrant
from engine.organisation import works_in
from engine.registry import HandlerContext, handler
from engine.runtime import Runtime
from engine.text import clean

from .models import Direction, PhoneNotice

PROCESS = "phone_notice"
NO_RECORD = "没有这条电话记录"
_PHONE = re.compile(r"\+?[0-9][0-9\-() ]{2,29}")
LONGEST_DEADLINE = timedelta(days=366)
OLDEST_CALL = timedelta(days=31)  # a call is recorded the day it comes, or soon after; older is a typo


def _clerk_unit(session: Session, person_id: int) -> int | None:
    """The unit ``person_id`` records phone notices for: their own, if they are its clerk (收发员)."""
    person = session.get(Person, person_id)
    if person is None or person.unit_id is None or person.status != PersonStatus.ACTIVE:
        return None
    granted = session.scalar(select(RoleGrant.id).where(RoleGrant.person_id == person_id, RoleGrant.role ==
                                                         Role.CLERK, RoleGrant.unit_id == person.unit_id).limit(1))
    return person.unit_id if granted is not None else None


def may_record(session: Session, person_id: int) -> bool:
    return _clerk_unit(session, person_id) is not None


def assignees_offered(session: Session, person_id: int) -> list[Person]:
    """Whom a clerk may route a phone notice to: the active people working in the clerk's unit, by name."""
    unit_id = _clerk_unit(session, person_id)
    if unit_id is None:
        return []
    return [p for p in session.scalars(select(Person).where(Person.unit_id == unit_id, Person.status ==
                                                            PersonStatus.ACTIVE).order_by(Person.name))
            if works_in(session, p.id, {unit_id})]


def phone_number(text: str | None) -> str:
    """A telephone number as typed (landline with area code and extension, or mobile), full-width digits made
    ASCII; ``Refused`` if it is not one."""
    number = unicodedata.normalize("NFKC", (text or "").strip())
    if not _PHONE.fullmatch(number) or sum(c.isdigit() for c in number) < 3:
        raise Refused("电话号码应为 3 到 30 位，只含数字、空格、+、- 和括号，例如 0518-85821234")
    return number


def record(session: Session, runtime: Runtime, clerk_id: int, *, direction: str, other_unit: str,
           other_person: str, other_phone: str, subject: str, content: str, called_at: datetime | None,
           assignee_id: int | None, due_at: datetime | None) -> PhoneNotice:
    """Record a phone notice and start its process for ``assignee_id`` (one of :func:`assignees_offered`);
    ``Refused`` naming the first thing wrong, before anything is written."""
    unit_id = _clerk_unit(session, clerk_id)
    if unit_id is None:
        raise Refused("只有本单位的收发员可以登记电话通知")
    if direction not in {d.value for d in Direction}:
        raise Refused("请选择来电或去电")
    now = clock.now()
    if called_at is None or not now - OLDEST_CALL <= called_at <= now + timedelta(minutes=5):
        raise Refused("通话时间应为最近一个月内，不能晚于现在")
    if due_at is None or not now < due_at <= now + LONGEST_DEADLINE:
        raise Refused("办理期限应晚于现在，且在一年以内")
    if assignee_id not in {p.id for p in assignees_offered(session, clerk_id)}:
        raise Refused("请从列表中选择本单位的在岗人员办理")
    notice = PhoneNotice(
        unit_id=unit_id, direction=Direction(direction), other_unit=clean(other_unit, field="对方单位", max_length=100),
        other_person=clean(other_person, field="对方姓名", max_length=50), other_phone=phone_number(other_phone),
        subject=clean(subject, field="事由", max_length=100),
        content=clean(content, field="通知内容", max_length=5000, lines=True), called_at=called_at,
        recorded_by_id=clerk_id, recorded_at=now, assignee_id=assignee_id, due_at=due_at)
    session.add(notice)
    session.flush()
    notice.instance_id = runtime.start(
        PROCESS, owning_unit_id=unit_id, initiator_id=clerk_id, session=session, title=f"电话通知：{notice.subject}",
        data={"phone_notice_id": notice.id, "assignee_id": assignee_id, "due_at": due_at.isoformat()})
    audit.record(session, "phone_notice.record", actor_id=clerk_id, unit_id=unit_id, phone_notice_id=notice.id,
                 assignee_id=assignee_id, instance_id=notice.instance_id)
    return notice


def readable(session: Session, notice_id: int, person_id: int) -> PhoneNotice:
    """The record if ``person_id`` recorded it, must act on it or is a clerk of its unit; else ``NotFound``."""
    notice = session.get(PhoneNotice, notice_id)
    if notice is None or (person_id not in (notice.recorded_by_id, notice.assignee_id)
                          and _clerk_unit(session, person_id) != notice.unit_id):
        raise NotFound(NO_RECORD)
    return notice


def listed(session: Session, person_id: int, limit: int = 100) -> list[PhoneNotice]:
    """The records ``person_id`` may read: their unit's if they are its clerk, and those routed to them; newest
    first."""
    unit_id = _clerk_unit(session, person_id)
    mine = or_(PhoneNotice.assignee_id == person_id, PhoneNotice.recorded_by_id == person_id,
               PhoneNotice.unit_id == unit_id if unit_id is not None else False)
    return list(session.scalars(select(PhoneNotice).where(mine).order_by(PhoneNotice.id.desc()).limit(limit)))


@handler("phone_notice_done")
def phone_notice_done(ctx: HandlerContext, notice: int, note: str) -> dict:
    """The 办理 task's completion, written on the record: who completed it, when, and their note."""
    row = ctx.session.get(PhoneNotice, notice)
    row.done_at, row.done_note = ctx.now(), note
    row.done_by_id = ctx.completion.person_id if ctx.completion is not None else row.assignee_id
    ctx.audit("phone_notice.done", phone_notice_id=notice, by=row.done_by_id)
    return {"done_at": row.done_at.isoformat()}


"""Keeping the duty-contact register: who a unit has on each duty now, every change with a date and a reason.

A unit's office keeps its register (its clerks, or the head of its office department); anyone in the
unit reads it, and senders read their recipients' contacts on the receipt table. A change never edits
a row that has ended: replacing a contact ends its row (``until``, ``end_reason``) and adds a new one,
so the history is simply every row. Each change is audited with ids only (the auditor reads who
changed which unit's register, not the names and numbers in it).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import Forbidden, Refused
from engine.models import Department, Person, Role, RoleGrant, Unit
from engine.organisation import supervisors_of
from engine.text import clean, mobile_number

from ..notifications.tell import tell
from .models import Duty, DutyContact

__all__ = ["DUTY_ORDER", "MAX_CLERKS", "appoint", "current", "current_for_units", "history", "may_keep",
           "remove", "replace"]

DUTY_ORDER = (Duty.LEADER_IN_CHARGE, Duty.PRINCIPAL, Duty.CLERK)  # the order a register is read in
MAX_CLERKS = 2  # "one or two staff on document duty"
NOT_KEEPER = "只有本单位办公室（收发文人员或办公室负责人）可以维护收发文联系人"


def _ordered(rows: list[DutyContact]) -> list[DutyContact]:
    return sorted(rows, key=lambda c: (DUTY_ORDER.index(c.duty), c.since, c.id))


def current(session: Session, unit_id: int, duty: Duty | None = None) -> list[DutyContact]:
    """The unit's register now: 分管领导, 主要负责人, then the clerks, each in the order appointed."""
    query = select(DutyContact).where(DutyContact.unit_id == unit_id, DutyContact.until.is_(None))
    if duty is not None:
        query = query.where(DutyContact.duty == duty)
    return _ordered(list(session.scalars(query)))


def current_for_units(session: Session, unit_ids: list[int] | set[int]) -> dict[int, list[DutyContact]]:
    """Each unit's register now, in one query: for the receipt table of a document sent to many units.

    Every asked unit is a key, with an empty list when its register is empty.
    """
    ids = sorted(set(unit_ids))
    found: dict[int, list[DutyContact]] = {i: [] for i in ids}
    if ids:
        for row in session.scalars(select(DutyContact).where(DutyContact.unit_id.in_(ids),
                                                             DutyContact.until.is_(None))):
            found[row.unit_id].append(row)
    return {i: _ordered(rows) for i, rows in found.items()}


def history(session: Session, unit_id: int) -> list[DutyContact]:
    """Every row the unit's register ever had, current and ended, newest first."""
    return list(session.scalars(select(DutyContact).where(DutyContact.unit_id == unit_id)
                                .order_by(DutyContact.since.desc(), DutyContact.id.desc())))


def may_keep(session: Session, person_id: int, unit_id: int) -> bool:
    """Whether the person is the unit's office: a clerk (收发员) of the unit, or the head of its office
    department. The three administrators hold no role in a unit, so they never are."""
    if session.scalar(select(RoleGrant.id).where(RoleGrant.person_id == person_id, RoleGrant.role == Role.CLERK,
                                                 RoleGrant.unit_id == unit_id).limit(1)) is not None:
        return True
    # A head's grant names their department; an unscoped one counts for the department they work in.
    department = func.coalesce(RoleGrant.department_id, Person.department_id)
    return session.scalar(
        select(RoleGrant.id).join(Person, Person.id == RoleGrant.person_id)
        .join(Department, Department.id == department)
        .where(RoleGrant.person_id == person_id, RoleGrant.role == Role.DEPARTMENT_HEAD,
               RoleGrant.unit_id == unit_id, Department.unit_id == unit_id, Department.is_office.is_(True))
        .limit(1)) is not None


def _check_keeper(session: Session, unit_id: int, actor_id: int | None) -> Unit:
    """The unit, locked so that two changes of one register are made one after the other (two offices
    adding a clerk at once would otherwise both see one clerk and leave three).

    ``actor_id`` None is Gongwen itself (set-up, the demo, the command line), which is not checked.
    """
    unit = session.get(Unit, unit_id, with_for_update=True)
    if unit is None:
        raise Refused("没有这个单位")
    if actor_id is not None and not may_keep(session, actor_id, unit_id):
        raise Forbidden(NOT_KEEPER)
    return unit


def _new_row(session: Session, unit: Unit, duty: Duty, *, name: str | None, title: str | None,
             mobile: str | None, since: date | None, reason: str | None, person_id: int | None,
             actor_id: int | None, not_before: date | None = None) -> DutyContact:
    """A checked new row: a person of the unit if one is named (their name and mobile by default)."""
    person = None
    if person_id is not None:
        person = session.get(Person, person_id)
        if person is None or person.unit_id != unit.id:
            raise Refused(f"所选人员不属于{unit.name}")
    name = clean(name or (person.name if person else ""), field="姓名", max_length=50)
    title = clean(title, field="职务", max_length=50)
    mobile = mobile_number(mobile or (person.mobile if person else ""))
    if since is None:
        raise Refused("请填写起始日期")
    if since > clock.local_today():
        raise Refused("起始日期不能晚于今天")
    if not_before is not None and since < not_before:
        raise Refused(f"起始日期不能早于原联系人的起始日期（{not_before:%Y-%m-%d}）")
    reason = clean(reason, field="变更原因", max_length=200)
    row = DutyContact(unit_id=unit.id, duty=duty, person_id=person_id, name=name, title=title, mobile=mobile,
                      since=since, reason=reason, recorded_by_id=actor_id, recorded_at=clock.now())
    session.add(row)
    return row


def appoint(session: Session, unit_id: int, duty: Duty, *, name: str | None, title: str | None,
            mobile: str | None, since: date | None, reason: str | None, person_id: int | None = None,
            actor_id: int | None) -> DutyContact:
    """Add a contact to the unit's register: one 分管领导, one 主要负责人, at most two 收发文人员."""
    unit = _check_keeper(session, unit_id, actor_id)
    try:
        duty = Duty(duty)
    except ValueError:
        raise Refused("请选择联系人类别：分管领导、主要负责人或收发文人员") from None
    present = current(session, unit_id, duty)
    if duty == Duty.CLERK and len(present) >= MAX_CLERKS:
        raise Refused("收发文人员最多两名，请先更换或移除一名")
    if duty != Duty.CLERK and present:
        raise Refused(f"本单位已登记{duty.label}（{present[0].name}），请使用“更换”")
    if person_id is not None and any(c.person_id == person_id for c in present):
        raise Refused(f"该人员已登记为本单位{duty.label}")
    row = _new_row(session, unit, duty, name=name, title=title, mobile=mobile, since=since, reason=reason,
                   person_id=person_id, actor_id=actor_id)
    session.flush()
    audit.record(session, "contact.appoint", actor_id=actor_id, unit_id=unit_id, contact_id=row.id,
                 duty=duty.value, person_id=person_id)
    _report(session, unit, row, f"登记{duty.label}{row.name}（{row.title}，{row.mobile}）")
    return row


def _report(session: Session, unit: Unit, row: DutyContact, change: str) -> None:
    """Tell the 督查员 over the unit of a change to its register (Yan'an Art 26: changes of duty staff
    are reported), so the office that supervises knows whom to call."""
    text = f"{unit.name}收发文联系人变更：{change}。原因：{row.end_reason or row.reason}"
    tell(session, supervisors_of(session, unit.id), text, kind="contact_change", reason="收发文联系人变更报备",
         key=f"contact:{row.id}:{row.until or row.since}")


def _current_row(session: Session, contact_id: int) -> DutyContact:
    row = session.get(DutyContact, contact_id)
    if row is None:
        raise Refused("没有这条联系人记录")
    return row


def _still_current(row: DutyContact) -> None:
    if row.until is not None:  # ended rows are history: never edited
        raise Refused("该联系人已被更换或移除，登记簿已经变化，请刷新后再办理")


def replace(session: Session, contact_id: int, *, name: str | None, title: str | None, mobile: str | None,
            since: date | None, reason: str | None, person_id: int | None = None,
            actor_id: int | None) -> DutyContact:
    """Put a new contact in the place of a current one from ``since``: the old row ends that day with
    ``reason``; the new row is returned."""
    row = _current_row(session, contact_id)
    unit = _check_keeper(session, row.unit_id, actor_id)
    session.refresh(row, with_for_update=True)  # as it is now, under the unit's lock
    _still_current(row)
    if person_id is not None and person_id != row.person_id and any(
            c.person_id == person_id for c in current(session, row.unit_id, row.duty)):
        raise Refused(f"该人员已登记为本单位{row.duty.label}")
    new = _new_row(session, unit, row.duty, name=name, title=title, mobile=mobile, since=since, reason=reason,
                   person_id=person_id, actor_id=actor_id, not_before=row.since)
    row.until, row.end_reason = new.since, new.reason
    session.flush()
    audit.record(session, "contact.replace", actor_id=actor_id, unit_id=row.unit_id, contact_id=row.id,
                 new_contact_id=new.id, duty=row.duty.value, person_id=person_id)
    _report(session, unit, new, f"{row.duty.label}由{row.name}更换为{new.name}（{new.title}，{new.mobile}）")
    return new


def remove(session: Session, contact_id: int, *, until: date | None, reason: str | None,
           actor_id: int | None) -> DutyContact:
    """End a current contact on ``until`` without a successor; a unit keeps at least one 收发文人员."""
    row = _current_row(session, contact_id)
    _check_keeper(session, row.unit_id, actor_id)
    session.refresh(row, with_for_update=True)
    _still_current(row)
    reason = clean(reason, field="变更原因", max_length=200)
    if until is None:
        raise Refused("请填写截止日期")
    if until > clock.local_today():
        raise Refused("截止日期不能晚于今天")
    if until < row.since:
        raise Refused(f"截止日期不能早于起始日期（{row.since:%Y-%m-%d}）")
    if row.duty == Duty.CLERK and len(current(session, row.unit_id, Duty.CLERK)) <= 1:
        raise Refused("本单位只登记了一名收发文人员，不能移除，请改用“更换”")
    row.until, row.end_reason = until, reason
    session.flush()
    _report(session, session.get(Unit, row.unit_id), row, f"{row.duty.label}{row.name}自{until:%Y-%m-%d}起不再担任")
    audit.record(session, "contact.remove", actor_id=actor_id, unit_id=row.unit_id, contact_id=row.id,
                 duty=row.duty.value)
    return row

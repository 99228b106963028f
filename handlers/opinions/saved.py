"""常用意见: the phrases offered above every opinion box, one's own and one's units' defaults.

A person keeps up to :data:`PERSONAL_LIMIT` phrases of their own; a unit's defaults (up to
:data:`UNIT_LIMIT`) are kept by its 办公室 leader, a 部门负责人 of the unit's office department: the
wording a unit offers its leaders is the office's business, and under 三员分立 the system administrator
reads no business text, so it is not his. Every phrase is checked like an opinion (length, no hidden
control characters). Changes are audited without their words (the auditor never reads content);
all functions write in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import Conflict, Forbidden, NotFound, Refused
from engine.models import Department, Role, RoleGrant
from engine.organisation import works_in
from engine.text import clean

from .models import MAX_LENGTH, SavedOpinion

__all__ = ["PERSONAL_LIMIT", "UNIT_LIMIT", "add", "kept_units", "offered", "own", "remove", "unit_defaults"]

PERSONAL_LIMIT = 30
UNIT_LIMIT = 30


def _business_units(session: Session, person_id: int) -> set[int]:
    return set(session.scalars(select(RoleGrant.unit_id).where(
        RoleGrant.person_id == person_id, RoleGrant.unit_id.is_not(None))))


def kept_units(session: Session, person_id: int) -> set[int]:
    """The units whose defaults ``person_id`` keeps: those where they head the office department."""
    return set(session.scalars(select(RoleGrant.unit_id).join(Department, Department.id == RoleGrant.department_id)
                               .where(RoleGrant.person_id == person_id, RoleGrant.role == Role.DEPARTMENT_HEAD,
                                      Department.is_office, Department.unit_id == RoleGrant.unit_id)))


def own(session: Session, person_id: int) -> Sequence[SavedOpinion]:
    """The person's own phrases, oldest first."""
    return session.scalars(select(SavedOpinion).where(SavedOpinion.person_id == person_id)
                           .order_by(SavedOpinion.id)).all()


def unit_defaults(session: Session, unit_ids: set[int]) -> Sequence[SavedOpinion]:
    """The defaults of ``unit_ids``, by unit then oldest first."""
    return session.scalars(select(SavedOpinion).where(SavedOpinion.unit_id.in_(unit_ids))
                           .order_by(SavedOpinion.unit_id, SavedOpinion.id)).all() if unit_ids else []


def offered(session: Session, person_id: int) -> list[str]:
    """What an opinion box offers ``person_id``: their own phrases, then their units' defaults, each once."""
    rows = session.scalars(select(SavedOpinion.text).where(or_(
        SavedOpinion.person_id == person_id,
        SavedOpinion.unit_id.in_(_business_units(session, person_id)))).order_by(
        SavedOpinion.unit_id.is_not(None), SavedOpinion.unit_id, SavedOpinion.id)).all()
    return list(dict.fromkeys(rows))


def add(session: Session, person_id: int, text: str | None, *, unit_id: int | None = None) -> SavedOpinion:
    """Save ``text`` as the person's own phrase, or (``unit_id``) as a default of a unit they keep.

    Raises ``Refused`` for a blank, too long or hidden-character text and past the limit, ``Conflict`` for
    a phrase already there, ``Forbidden`` for someone with no business role or a unit they do not keep.
    """
    text = clean(text, field="常用意见", max_length=MAX_LENGTH, lines=True)
    if unit_id is None:
        if not works_in(session, person_id, _business_units(session, person_id)):
            raise Forbidden("只有办理业务的人员才有常用意见")
        owner, limit = SavedOpinion.person_id == person_id, PERSONAL_LIMIT
    else:
        if unit_id not in kept_units(session, person_id):
            raise Forbidden("单位的默认常用意见由本单位办公室负责人维护")
        owner, limit = SavedOpinion.unit_id == unit_id, UNIT_LIMIT
    if session.scalar(select(func.count()).select_from(SavedOpinion).where(owner)) >= limit:
        raise Refused(f"常用意见最多 {limit} 条，请先删除不再使用的")
    if session.scalar(select(SavedOpinion.id).where(owner, SavedOpinion.text == text)) is not None:
        raise Conflict("这条意见已在常用意见中")
    row = SavedOpinion(person_id=None if unit_id else person_id, unit_id=unit_id, text=text, created_at=clock.now())
    session.add(row)
    session.flush()
    audit.record(session, "opinion.saved", actor_id=person_id, unit_id=unit_id, saved_opinion_id=row.id)
    return row


def remove(session: Session, person_id: int, opinion_id: int) -> None:
    """Remove one of the person's own phrases or a default of a unit they keep; ``NotFound`` for anything else
    (another person's phrases do not exist for them)."""
    row = session.get(SavedOpinion, opinion_id)
    if row is None or not (row.person_id == person_id or
                           (row.unit_id is not None and row.unit_id in kept_units(session, person_id))):
        raise NotFound("没有这条常用意见")
    session.delete(row)
    audit.record(session, "opinion.removed", actor_id=person_id, unit_id=row.unit_id, saved_opinion_id=opinion_id)

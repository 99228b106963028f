"""Who may see supervision's figures: a 督查员 their whole area, a unit's leaders and clerks their own unit.

The three administrators see none of it (三员分立: how units use the system is business data).
A refusal is :class:`engine.errors.Forbidden` with a sentence in Chinese; a unit that does not
exist is :class:`engine.errors.NotFound`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Forbidden, NotFound
from engine.models import ADMIN_ROLES, Role, RoleGrant, Unit
from engine.organisation import lineage, roles_of

from .figures import area_root

__all__ = ["NO_UNIT", "ranking_root", "supervised_area", "supervised_root", "visible_unit"]

NO_UNIT = "没有这个单位"
ADMINISTRATORS = "三员分立：系统管理员、安全保密管理员和安全审计员不查看督查统计"
OWN_UNIT_ROLES = (Role.LEADER, Role.CLERK)


def supervised_root(session: Session, person_id: int) -> Unit | None:
    """The government whose area the person supervises (their 督查员 grant's, the earliest if several);
    None when they hold no such grant."""
    unit_id = session.scalar(select(RoleGrant.unit_id).where(RoleGrant.person_id == person_id,
                                                             RoleGrant.role == Role.SUPERVISOR)
                             .order_by(RoleGrant.id).limit(1))
    return area_root(session, unit_id) if unit_id is not None else None


def supervised_area(session: Session, person_id: int) -> Unit:
    """The root of the area whose overview the person may open; Forbidden for anyone but a 督查员."""
    _refuse_administrators(session, person_id)
    root = supervised_root(session, person_id)
    if root is None:
        raise Forbidden("只有督查员可以查看本地区各单位的督查统计")
    return root


def visible_unit(session: Session, person_id: int, unit_id: int) -> bool:
    """Whether the person sees unit ``unit_id``'s page as the 督查员 of its area (True) or as one of
    the unit's own leaders or clerks (False).

    Forbidden for anyone else (another unit's people, a 督查员 of another area, the administrators);
    NotFound when there is no such unit.
    """
    _refuse_administrators(session, person_id)
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(NO_UNIT)
    root = supervised_root(session, person_id)
    if root is not None and root.id in lineage(session, unit.id):
        return True
    if session.scalar(select(RoleGrant.id).where(RoleGrant.person_id == person_id, RoleGrant.unit_id == unit_id,
                                                 RoleGrant.role.in_(OWN_UNIT_ROLES)).limit(1)) is not None:
        return False
    if root is not None:
        raise Forbidden("该单位不在您督查的地区范围内")
    raise Forbidden("只能查看本单位的督查统计（限本单位领导和收发员）")


def ranking_root(session: Session, unit_id: int) -> Unit:
    """The area a unit is ranked in on its own page: the nearest area above it (or its own) that a
    督查员 supervises, so the rank is the one their office publishes; its government's area if none."""
    supervised = {area_root(session, u).id for u in session.scalars(
        select(RoleGrant.unit_id).where(RoleGrant.role == Role.SUPERVISOR).distinct())}
    nearest = next((u for u in lineage(session, unit_id) if u in supervised), None)
    return session.get(Unit, nearest) if nearest is not None else area_root(session, unit_id)


def _refuse_administrators(session: Session, person_id: int) -> None:
    if roles_of(session, person_id) & ADMIN_ROLES:
        raise Forbidden(ADMINISTRATORS)

"""Pick lists for forms: the units, departments, lists and people a person may choose from."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Department, Person, PersonStatus, Role, RoleGrant, Unit, UnitStatus


def units(session: Session) -> list[tuple[int, str]]:
    return [(u["id"], u["name"]) for u in unit_tree(session)]


def unit_tree(session: Session) -> list[dict]:
    """The units ``units`` offers, each with its parent and kind: the unit picker draws its tree from them."""
    return [{"id": u.id, "name": u.name, "parent": u.parent_id, "kind": u.kind.label} for u in session.scalars(
        select(Unit).where(Unit.status == UnitStatus.ACTIVE).order_by(Unit.id))]


def departments(session: Session, unit_id: int) -> list[tuple[int, str]]:
    return [(d.id, d.name) for d in session.scalars(
        select(Department).where(Department.unit_id == unit_id).order_by(Department.id))]


def people(session: Session, unit_id: int, role: Role | None = None) -> list[tuple[int, str]]:
    query = (select(Person.id, Person.name).join(RoleGrant, RoleGrant.person_id == Person.id)
             .where(RoleGrant.unit_id == unit_id, Person.status == PersonStatus.ACTIVE))
    if role is not None:
        query = query.where(RoleGrant.role == role)
    return [tuple(row) for row in session.execute(query.distinct().order_by(Person.id)).all()]

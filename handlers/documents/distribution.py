"""Distribution lists (分发列表): a unit's saved sets of recipients, e.g. 各县区政府."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import GongwenError, NotFound
from engine.models import Unit
from engine.text import clean

from .models import DistributionList


def distribution_lists(session: Session, unit_id: int) -> list[tuple[int, str]]:
    """The lists ``unit_id`` keeps, as (id, name) for a pick list."""
    return [(list_id, name) for list_id, name, _ in distribution_groups(session, unit_id)]


def distribution_groups(session: Session, unit_id: int) -> list[tuple[int, str, list[int]]]:
    """The lists ``unit_id`` keeps with their units, as (id, name, unit ids), by name."""
    return [(d.id, d.name, list(d.unit_ids)) for d in session.scalars(
        select(DistributionList).where(DistributionList.owner_unit_id == unit_id).order_by(DistributionList.name))]


MAX_UNITS = 5000


def save_distribution_list(session: Session, owner: Unit, name: str, unit_ids: list[int], *,
                           actor_id: int | None = None) -> DistributionList:
    """Create or replace ``owner``'s list called ``name`` (e.g. 各县区政府) with ``unit_ids``, in order."""
    name = clean(name, field="分发列表名称", max_length=100)
    if not unit_ids or len(unit_ids) > MAX_UNITS:
        raise GongwenError(f"分发列表需要 1 到 {MAX_UNITS} 个单位")
    known = set(session.scalars(select(Unit.id).where(Unit.id.in_(unit_ids))))
    if missing := [u for u in unit_ids if u not in known]:
        raise NotFound(f"没有编号为 {missing[0]} 的单位")
    saved = session.scalar(select(DistributionList).where(DistributionList.owner_unit_id == owner.id,
                                                          DistributionList.name == name))
    if saved is None:
        saved = DistributionList(owner_unit_id=owner.id, name=name)
        session.add(saved)
    saved.unit_ids = list(dict.fromkeys(unit_ids))
    session.flush()
    audit.record(session, "distribution_list.save", actor_id=actor_id, unit_id=owner.id, list_id=saved.id,
                 name=name, units=len(saved.unit_ids))
    return saved


def delete_distribution_list(session: Session, saved: DistributionList, *, actor_id: int | None = None) -> None:
    audit.record(session, "distribution_list.delete", actor_id=actor_id, unit_id=saved.owner_unit_id,
                 list_id=saved.id, name=saved.name)
    session.delete(saved)

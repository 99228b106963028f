"""Announcements (公告): who may publish to which units, who may read one, and the author's reader list.

Who publishes: a leader or clerk (办公室 staff) of a unit announces to their own unit. The office of a
government (办公厅/室), or a government itself, also announces to the units below that government: the city's
office to its departments, its counties and their offices, as 通知 go down the tree. A department announces to
itself only. Who reads: the people of the units it was published to, and its author; for anyone else an
announcement does not exist (``NotFound``, a 404). The three administrators have no unit and read none.
Opening an announcement marks it read for that person, once; the author sees who has read it and who not yet.
Every write is in the caller's transaction and audited with ids, never the words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import NotFound, Refused
from engine.models import Person, PersonStatus, Role, RoleGrant, Unit, UnitKind, UnitStatus
from engine.organisation import GOVERNMENTS, area_root
from engine.text import clean

from .models import Announcement, AnnouncementRead, AnnouncementUnit
from .uploads import NONE, Uploads

PUBLISHERS = (Role.LEADER, Role.CLERK)
NO_ANNOUNCEMENT = "没有这份公告"
BODY_MAX = 20000


def _publishing_unit(session: Session, person_id: int) -> Unit | None:
    """The unit ``person_id`` publishes for: their own, if they are a leader or clerk there."""
    person = session.get(Person, person_id)
    if person is None or person.unit_id is None or person.status != PersonStatus.ACTIVE:
        return None
    granted = session.scalar(select(RoleGrant.id).where(RoleGrant.person_id == person_id, RoleGrant.unit_id ==
                                                         person.unit_id, RoleGrant.role.in_(PUBLISHERS)).limit(1))
    return session.get(Unit, person.unit_id) if granted is not None else None


def _below(session: Session, root_id: int) -> list[Unit]:
    """The active units under ``root_id`` at any depth, breadth first (one query per level of the tree)."""
    found, level = [], [root_id]
    while level:
        children = session.scalars(select(Unit).where(Unit.parent_id.in_(level), Unit.status == UnitStatus.ACTIVE)
                                   .order_by(Unit.id)).all()
        found += children
        level = [u.id for u in children]
    return found


def units_offered(session: Session, person_id: int) -> list[Unit]:
    """The units ``person_id`` may announce to, their own first; empty if they may not publish."""
    unit = _publishing_unit(session, person_id)
    if unit is None:
        return []
    if unit.kind not in (*GOVERNMENTS, UnitKind.OFFICE):
        return [unit]
    return [unit] + [u for u in _below(session, area_root(session, unit.id).id) if u.id != unit.id]


def publish(session: Session, author_id: int, title: str, body: str, unit_ids: Sequence[int],
            attachments: Uploads = NONE) -> Announcement:
    """Publish an announcement to ``unit_ids``, each one of :func:`units_offered`, with ``attachments`` (stored only
    once it is accepted); ``Refused`` otherwise."""
    offered = {u.id for u in units_offered(session, author_id)}
    if not offered:
        raise Refused("只有本单位的领导和收发员（办公室）可以发布公告")
    title = clean(title, field="公告标题", max_length=100)
    body = clean(body, field="公告正文", max_length=BODY_MAX, lines=True)
    chosen = list(dict.fromkeys(unit_ids))
    if not chosen:
        raise Refused("请选择公告发往的单位")
    if any(u not in offered for u in chosen):
        raise Refused("只能发往页面列出的单位：本单位，或本级政府所属的下级单位")
    author = session.get(Person, author_id)
    files = attachments.keep(session)
    announcement = Announcement(unit_id=author.unit_id, author_id=author_id, title=title, body=body, files=files,
                                published_at=clock.now())
    session.add(announcement)
    session.flush()
    session.add_all(AnnouncementUnit(announcement_id=announcement.id, unit_id=u) for u in chosen)
    audit.record(session, "announcement.publish", actor_id=author_id, unit_id=author.unit_id,
                 announcement_id=announcement.id, units=len(chosen), files=len(files))
    return announcement


def _for(person_id: int):
    """The condition that an announcement is for ``person_id``: one of its units is theirs."""
    unit = select(Person.unit_id).where(Person.id == person_id).scalar_subquery()
    return exists().where(AnnouncementUnit.announcement_id == Announcement.id, AnnouncementUnit.unit_id == unit)


def readable(session: Session, announcement_id: int, person_id: int) -> Announcement:
    """The announcement if ``person_id`` wrote it or belongs to a unit it was published to; else ``NotFound``."""
    found = session.scalar(select(Announcement).where(Announcement.id == announcement_id)
                           .where((Announcement.author_id == person_id) | _for(person_id)))
    if found is None:
        raise NotFound(NO_ANNOUNCEMENT)
    return found


def mark_read(session: Session, announcement: Announcement, person_id: int) -> None:
    """Note that ``person_id`` opened ``announcement`` (the first time only; the author's own reading is not
    counted)."""
    if person_id == announcement.author_id or session.get(AnnouncementRead, (announcement.id, person_id)):
        return
    session.add(AnnouncementRead(announcement_id=announcement.id, person_id=person_id, read_at=clock.now()))
    audit.record(session, "announcement.read", actor_id=person_id, announcement_id=announcement.id)


@dataclass(frozen=True)
class Listed:
    """An announcement as a list shows it to one person."""

    announcement: Announcement
    unit_name: str
    read: bool


def listed(session: Session, person_id: int, limit: int = 50) -> list[Listed]:
    """The announcements for ``person_id`` and those they wrote, newest first, each with whether they read it."""
    rows = session.execute(
        select(Announcement, Unit.name, AnnouncementRead.read_at).join(Unit, Unit.id == Announcement.unit_id)
        .outerjoin(AnnouncementRead, (AnnouncementRead.announcement_id == Announcement.id)
                   & (AnnouncementRead.person_id == person_id))
        .where((Announcement.author_id == person_id) | _for(person_id))
        .order_by(Announcement.published_at.desc(), Announcement.id.desc()).limit(limit)).all()
    return [Listed(a, name, read_at is not None or a.author_id == person_id) for a, name, read_at in rows]


@dataclass(frozen=True)
class Reader:
    """One person an announcement is for, and when they opened it (None: not yet)."""

    name: str
    unit_name: str
    read_at: datetime | None


def readers(session: Session, announcement: Announcement, person_id: int) -> list[Reader]:
    """The reader list, for the author only (``NotFound`` for anyone else): every active person of the units it
    was published to but the author, those who have read it first (by time), then those who have not (by unit)."""
    if person_id != announcement.author_id:
        raise NotFound(NO_ANNOUNCEMENT)
    units = select(AnnouncementUnit.unit_id).where(AnnouncementUnit.announcement_id == announcement.id)
    rows = session.execute(
        select(Person.name, Unit.name, AnnouncementRead.read_at).join(Unit, Unit.id == Person.unit_id)
        .outerjoin(AnnouncementRead, (AnnouncementRead.person_id == Person.id)
                   & (AnnouncementRead.announcement_id == announcement.id))
        .where(Person.unit_id.in_(units), Person.status == PersonStatus.ACTIVE, Person.id != announcement.author_id)
        .order_by(Unit.id, Person.id)).all()
    people = [Reader(*row) for row in rows]
    return sorted((r for r in people if r.read_at), key=lambda r: r.read_at) + [r for r in people if not r.read_at]


def audience_names(session: Session, announcement: Announcement) -> list[str]:
    """The names of the units an announcement went to."""
    return list(session.scalars(select(Unit.name).join(AnnouncementUnit, AnnouncementUnit.unit_id == Unit.id)
                                .where(AnnouncementUnit.announcement_id == announcement.id).order_by(Unit.id)))

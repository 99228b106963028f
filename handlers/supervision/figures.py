"""How each unit of an area used the system in a period: the figures the supervising office reports.

:func:`area_figures` reads everything for one period in a fixed number of grouped queries (none
per unit), so a city of a thousand units costs what a county of ten does plus the rows. Each
figure is defined here once; pages, the workbook and the bulletin show these and compute nothing.

What is counted, per unit, for documents dispatched (or people active) in ``[start, end)``:

- received, signed, returned: receipts addressed to the unit; 签收率 = signed / received.
- in time: signed no later than the receipt's deadline (the notices' clocks set it at dispatch),
  by the class dispatch gave it: 平件 (one working day), 急件 in office hours (at once), 急件 after
  hours (two hours).
- sign-for time: from dispatch to signature, average and worst, of the signed ones.
- overdue now: receipts still waiting past their deadline, whenever they were sent.
- sent: documents the unit issued (as lead issuer) that were dispatched; "wide" among them when
  they went to more than ``GONGWEN_WIDE_DISPATCH_SHARE`` of all active units (as the dispatch step
  judged them, asking the clerk to confirm).
- handled inside: incoming documents registered plus documents drafted (内部办文).
- archive: incoming documents handled in the period, and how many of them are archived; the
  backlog is every handled document not yet archived, whenever it was handled.
- logins, people online per day (people who logged in, counted per day, over the days), and the
  active accounts that never logged in.
- looks at the inbox, and the duty watch's reminders (one per clerk told to look, one per unit at a
  half day's close with documents unsigned).
- texts written for the unit's people and duty contacts (not those a county switched off), and the
  segments and cost of those the gateway accepted.
- faults the unit reported in the period, the late ones (迟报), and the working days their repairs took
  (``handlers.faults.figures``, one grouped query; the mean is over the repaired ones).

Logins, looks, reminders and texts are read from each unit's day counters (``engine.daily``), kept
in the transactions that log in, look, remind and text, and documents sent and the receipts' figures
from the day counters of ``handlers.exchange.counters``, kept by dispatch and the recipients'
answers: a quarter of a city is then about a hundred thousand rows, not millions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, bindparam, case, func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.daily import COUNTERS as DAY_COUNTERS
from engine.models import LoginDay, Person, PersonStatus, Unit, UnitDay, UnitKind, UnitStatus
from engine.organisation import area_root
from engine.periods import Period

from ..documents.models import Document
from ..exchange.models import Receipt, ReceiptDay, ReceiptStatus, SentDay, SignClass
from ..faults.figures import fault_figures
from ..incoming.models import UNARCHIVED, IncomingRecord

__all__ = ["CITY_LEVEL", "IN_TIME_BELOW", "AreaFigures", "Counts", "GroupFigures", "InTime", "UnitFigures",
           "area_figures", "area_root", "area_units", "monthly", "rank_of", "ranked", "shortfalls"]

T = TypeVar("T")
CITY_LEVEL = "市直单位"
IN_TIME_BELOW = 0.9  # a unit that signs less than this share in time is shown red (and named as late)


@dataclass
class InTime:
    """Receipts of one urgency class: how many were due, and how many were signed by their deadline."""

    due: int = 0
    on_time: int = 0

    @property
    def rate(self) -> float | None:
        return self.on_time / self.due if self.due else None

    def add(self, other: InTime) -> None:
        self.due += other.due
        self.on_time += other.on_time


@dataclass
class Counts:
    """The additive figures of a unit or a group of units; rates are derived, never summed."""

    received: int = 0
    signed: int = 0
    returned: int = 0
    sign_seconds: float = 0.0          # total, over the signed ones
    worst_sign_seconds: float = 0.0
    normal: InTime = field(default_factory=InTime)
    urgent: InTime = field(default_factory=InTime)
    after_hours: InTime = field(default_factory=InTime)
    overdue_now: int = 0
    sent: int = 0
    wide: int = 0
    registered: int = 0
    drafted: int = 0
    handled: int = 0                   # incoming documents handled in the period
    archived: int = 0                  # of those, archived
    backlog: int = 0
    logins: int = 0
    person_days: int = 0
    people: int = 0
    people_never: int = 0              # active accounts that never logged in
    looks: int = 0
    watch_reminders: int = 0
    texts: int = 0
    text_segments: int = 0
    text_cost: Decimal = Decimal(0)
    faults: int = 0
    faults_late: int = 0
    faults_repaired: int = 0
    repair_days: int = 0               # total working days, over the repaired ones

    @property
    def sign_rate(self) -> float | None:
        return self.signed / self.received if self.received else None

    @property
    def in_time(self) -> InTime:
        total = InTime()
        for part in (self.normal, self.urgent, self.after_hours):
            total.add(part)
        return total

    @property
    def average_sign_hours(self) -> float | None:
        return self.sign_seconds / self.signed / 3600 if self.signed else None

    @property
    def worst_sign_hours(self) -> float | None:
        return self.worst_sign_seconds / 3600 if self.signed else None

    @property
    def archive_rate(self) -> float | None:
        return self.archived / self.handled if self.handled else None

    @property
    def mean_repair_days(self) -> float | None:
        return self.repair_days / self.faults_repaired if self.faults_repaired else None

    @property
    def handled_inside(self) -> int:
        return self.registered + self.drafted

    def add(self, other: Counts) -> None:
        for name in _SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in _IN_TIME:
            getattr(self, name).add(getattr(other, name))
        self.worst_sign_seconds = max(self.worst_sign_seconds, other.worst_sign_seconds)


_IN_TIME = ("normal", "urgent", "after_hours")
_SUMMED = tuple(f.name for f in fields(Counts) if f.name not in (*_IN_TIME, "worst_sign_seconds"))


@dataclass
class UnitFigures(Counts):
    unit_id: int = 0
    name: str = ""
    group: str = ""                    # the county, or 市直单位

    @property
    def not_using(self) -> bool:
        """未启用: nobody of the unit logged in during the period."""
        return self.person_days == 0

    @property
    def lagging(self) -> bool:
        """Shown red on pages, charts and the workbook: see :func:`shortfalls`."""
        return bool(shortfalls(self))


@dataclass
class GroupFigures(Counts):
    name: str = ""
    units: int = 0


@dataclass
class AreaFigures:
    """An area's figures for a period: every unit, every county (or 市直单位), and the whole."""

    period: Period
    root: Unit
    days: int
    units: list[UnitFigures]
    groups: list[GroupFigures]
    total: GroupFigures

    def unit(self, unit_id: int) -> UnitFigures | None:
        return next((u for u in self.units if u.unit_id == unit_id), None)

    @property
    def sent_nothing(self) -> list[UnitFigures]:
        return [u for u in self.units if u.sent == 0]

    @property
    def no_internal_work(self) -> list[UnitFigures]:
        return [u for u in self.units if u.handled_inside == 0]

    @property
    def not_using(self) -> list[UnitFigures]:
        return [u for u in self.units if u.not_using]

    def online_per_day(self, counts: Counts) -> float:
        return counts.person_days / self.days


# -- the area (its root: engine.organisation.area_root) ----------------------------------------------------

def area_units(session: Session, root: Unit) -> tuple[list[Unit], dict[int, str]]:
    """The active units under ``root`` (itself included), each with its group's name; read once per
    session (a page or a bulletin asks for the area several times, within one request)."""
    return _once_per_session(session, "area_units", root.id, lambda: _area_units(session, root))


def _once_per_session(session: Session, what: str, key: Hashable, read: Callable[[], T]) -> T:
    """``read()``'s answer for ``key``, kept in the session: what a request asks for again (the area's
    units, its accounts) is read once; a request's session is its own, so nothing outlives it."""
    kept = session.info.setdefault(f"supervision.{what}", {})
    if key not in kept:
        kept[key] = read()
    return kept[key]


def _area_units(session: Session, root: Unit) -> tuple[list[Unit], dict[int, str]]:
    units = session.scalars(select(Unit).where(Unit.status == UnitStatus.ACTIVE)).all()
    children: dict[int | None, list[Unit]] = defaultdict(list)
    for unit in units:
        children[unit.parent_id].append(unit)
    area: list[Unit] = []
    groups: dict[int, str] = {}

    def walk(unit: Unit, group: str) -> None:
        if unit.kind == UnitKind.COUNTY and unit.id != root.id:
            group = unit.short_name or unit.name
        area.append(unit)
        groups[unit.id] = group
        for child in sorted(children[unit.id], key=lambda u: u.id):
            walk(child, group)

    walk(root, CITY_LEVEL if root.kind != UnitKind.COUNTY else (root.short_name or root.name))
    return area, groups


# -- the figures --------------------------------------------------------------------------------------------

def _among(column: ColumnElement, ids: list[int]) -> ColumnElement:
    """``column IN (ids)`` with the ids (integers read from the units' table, never a request's text)
    written into the statement: an area's thousand units as bound parameters cost more to bind and
    split than the query they filter (65 ms a figures call on PostgreSQL)."""
    return column.in_(bindparam(None, ids, expanding=True, literal_execute=True))


def area_figures(session: Session, root: Unit, period: Period, now: datetime | None = None,
                 only: Collection[int] | None = None) -> AreaFigures:
    """Every figure of every unit under ``root`` for ``period`` (see the module's docstring); with
    ``only``, of those units of the area alone (one unit's page), the groups and total theirs."""
    now = now or clock.now()
    area, group_of = area_units(session, root)
    figures = {u.id: UnitFigures(unit_id=u.id, name=u.name, group=group_of[u.id]) for u in area
               if only is None or u.id in only}
    ids = list(figures)
    start, end = period.bounds()

    _receipts(session, figures, ids, period)
    _sent(session, figures, ids, period)
    for unit_id, count in session.execute(
            select(Receipt.unit_id, func.count()).where(_among(Receipt.unit_id, ids),
                                                        Receipt.status == ReceiptStatus.PENDING,
                                                        Receipt.due_at < now).group_by(Receipt.unit_id)):
        figures[unit_id].overdue_now = count
    _inside(session, figures, ids, start, end)
    _days(session, figures, ids, period)
    _people(session, figures, ids)
    for unit_id, found in fault_figures(session, ids, start, end).items():
        unit = figures[unit_id]
        unit.faults, unit.faults_late, unit.faults_repaired, unit.repair_days = \
            found.faults, found.late, found.repaired, found.repair_days

    groups: dict[str, GroupFigures] = {}
    total = GroupFigures(name=root.name)
    for unit in figures.values():
        group = groups.setdefault(unit.group, GroupFigures(name=unit.group))
        for whole in (group, total):
            whole.add(unit)
            whole.units += 1
    return AreaFigures(period=period, root=root, days=period.day_count, units=list(figures.values()),
                       groups=list(groups.values()), total=total)


def _receipts(session: Session, figures: dict[int, UnitFigures], ids: list[int], period: Period) -> None:
    """Received, signed, returned, sign-for times and in-time counts by class, from the receipts' day counters.

    One row per unit, the classes summed side by side, so that the rows come grouped in the order of
    the counters' key (no sort, which SQLite would do on disk for a city's quarter)."""
    by_class = [func.sum(case((ReceiptDay.sign_class == sign_class, column), else_=0))
                for sign_class in SignClass for column in (ReceiptDay.due, ReceiptDay.on_time)]
    for unit_id, received, signed, returned, seconds, worst, *in_time in session.execute(
            select(ReceiptDay.unit_id, *(func.sum(column) for column in (
                ReceiptDay.received, ReceiptDay.signed, ReceiptDay.returned, ReceiptDay.sign_seconds)),
                func.max(ReceiptDay.worst_sign_seconds), *by_class)
            .where(_among(ReceiptDay.unit_id, ids), ReceiptDay.day >= period.first, ReceiptDay.day <= period.last)
            .group_by(ReceiptDay.unit_id)):
        unit = figures[unit_id]
        unit.received, unit.signed, unit.returned = int(received), int(signed), int(returned)
        unit.sign_seconds, unit.worst_sign_seconds = float(seconds), float(worst)
        for n, sign_class in enumerate(SignClass):
            setattr(unit, sign_class.value, InTime(int(in_time[2 * n]), int(in_time[2 * n + 1])))


def _day_sums(session: Session, model: type, names: Sequence[str], ids: list[int], period: Period):
    """Each unit's sums of the counters ``names`` of a day table (unit_id, day, ...) over ``period``."""
    return session.execute(
        select(model.unit_id, *(func.sum(getattr(model, name)) for name in names))
        .where(_among(model.unit_id, ids), model.day >= period.first, model.day <= period.last).group_by(model.unit_id))


def _sent(session: Session, figures: dict[int, UnitFigures], ids: list[int], period: Period) -> None:
    """Documents dispatched in the period by their lead issuer, and the wide ones among them (as dispatch
    judged them, when the clerk was asked to confirm), from the issuers' day counters."""
    for unit_id, sent, wide in _day_sums(session, SentDay, ("sent", "wide"), ids, period):
        figures[unit_id].sent, figures[unit_id].wide = int(sent), int(wide)


def _inside(session: Session, figures: dict[int, UnitFigures], ids: list[int], start: datetime, end: datetime) -> None:
    """Work inside the unit: registered and drafted documents, handled ones and their archiving."""
    for unit_id, count in session.execute(
            select(IncomingRecord.unit_id, func.count()).where(_among(IncomingRecord.unit_id, ids),
                                                               IncomingRecord.registered_at >= start,
                                                               IncomingRecord.registered_at < end)
            .group_by(IncomingRecord.unit_id)):
        figures[unit_id].registered = count
    for unit_id, count in session.execute(
            select(Document.issuing_unit_id, func.count()).where(_among(Document.issuing_unit_id, ids),
                                                                 Document.created_at >= start,
                                                                 Document.created_at < end)
            .group_by(Document.issuing_unit_id)):
        figures[unit_id].drafted = count
    _handled(session, figures, ids, start, end)
    for unit_id, backlog in session.execute(
            select(IncomingRecord.unit_id, func.count()).where(_among(IncomingRecord.unit_id, ids), UNARCHIVED)
            .group_by(IncomingRecord.unit_id)):
        figures[unit_id].backlog = backlog


def _handled(session: Session, figures: dict[int, UnitFigures], ids: list[int], start: datetime,
             end: datetime) -> None:
    """Incoming documents handled in the period, and how many of them are archived."""
    in_period = and_(_among(IncomingRecord.unit_id, ids), IncomingRecord.handled_at >= start,
                     IncomingRecord.handled_at < end)
    for unit_id, handled, archived in session.execute(
            select(IncomingRecord.unit_id, func.count(), func.count(IncomingRecord.archived_at))
            .where(in_period).group_by(IncomingRecord.unit_id)):
        figures[unit_id].handled, figures[unit_id].archived = handled, archived


def _days(session: Session, figures: dict[int, UnitFigures], ids: list[int], period: Period) -> None:
    """Logins, looks, the duty watch's reminders and texts, from each unit's day counters (UnitDay)."""
    for unit_id, *sums in _day_sums(session, UnitDay, DAY_COUNTERS, ids, period):
        unit = figures[unit_id]
        for name, value in zip(DAY_COUNTERS, sums, strict=True):
            setattr(unit, name, Decimal(value or 0) if name == "text_cost" else int(value or 0))


def _people(session: Session, figures: dict[int, UnitFigures], ids: list[int]) -> None:
    """Each unit's active accounts, and those never logged in: the same for every period, so read once
    per session (a bulletin asks for this period's figures and the previous period's)."""
    for unit_id, (people, never) in _once_per_session(session, "people", tuple(ids),
                                                      lambda: _count_people(session, ids)).items():
        figures[unit_id].people, figures[unit_id].people_never = people, never


def _count_people(session: Session, ids: list[int]) -> dict[int, tuple[int, int]]:
    ever = select(LoginDay.person_id).where(LoginDay.person_id == Person.id).exists()
    return {unit_id: (people, int(never or 0)) for unit_id, people, never in session.execute(
        select(Person.unit_id, func.count(), func.sum(case((~ever, 1), else_=0)))
        .where(_among(Person.unit_id, ids), Person.status == PersonStatus.ACTIVE).group_by(Person.unit_id))}


def monthly(session: Session, root: Unit, period: Period) -> list[tuple[Period, GroupFigures]]:
    """The area's documents received, signed, handled and archived in each calendar month the period
    touches (the trend chart), two grouped queries a month rather than the whole figures."""
    ids = [u.id for u in area_units(session, root)[0]]
    months, first = [], period.first.replace(day=1)
    while first <= period.last:
        month = Period.month(f"{first.year}-{first.month}")
        start, end = month.bounds()
        whole = GroupFigures(name=root.name, units=len(ids))
        received, signed = session.execute(
            select(func.sum(ReceiptDay.received), func.sum(ReceiptDay.signed))
            .where(_among(ReceiptDay.unit_id, ids), ReceiptDay.day >= month.first, ReceiptDay.day <= month.last)).one()
        whole.handled, whole.archived = session.execute(
            select(func.count(), func.count(IncomingRecord.archived_at))
            .where(_among(IncomingRecord.unit_id, ids), IncomingRecord.handled_at >= start,
                   IncomingRecord.handled_at < end)).one()
        whole.received, whole.signed = int(received or 0), int(signed or 0)
        months.append((month, whole))
        first = month.last + timedelta(days=1)
    return months


def rank_of(session: Session, root: Unit, period: Period, unit_id: int) -> tuple[int, int]:
    """``unit_id``'s place among the area's units by :func:`ranked`, and how many there are: only the
    figures the order reads (sign-for and archiving) are counted."""
    area, _ = area_units(session, root)
    figures = {u.id: UnitFigures(unit_id=u.id, name=u.name) for u in area}
    start, end = period.bounds()
    _receipts(session, figures, list(figures), period)
    _handled(session, figures, list(figures), start, end)
    order = [u.unit_id for u in ranked(figures.values())]
    return order.index(unit_id) + 1, len(order)


def shortfalls(unit: UnitFigures) -> list[str]:
    """Why a unit is shown in red: late (signed in time below ``IN_TIME_BELOW``, receipts overdue now)
    or not using the system (sent nothing, nobody logged in); empty for a unit in good standing."""
    found = []
    if unit.in_time.rate is not None and unit.in_time.rate < IN_TIME_BELOW:
        found.append(f"按时签收率低于 {IN_TIME_BELOW:.0%}")
    if unit.overdue_now:
        found.append(f"{unit.overdue_now} 件逾期未签收")
    if unit.sent == 0:
        found.append("本期未发文")
    if unit.not_using:
        found.append("本期无人登录")
    return found


def ranked(units: Iterable[UnitFigures]) -> list[UnitFigures]:
    """Units best first: by the share signed in time, then the archive rate, then the sign-for rate."""
    def key(unit: UnitFigures) -> tuple:
        rates = (unit.in_time.rate, unit.archive_rate, unit.sign_rate)
        return (*(-(rate if rate is not None else -1.0) for rate in rates), unit.name)
    return sorted(units, key=key)


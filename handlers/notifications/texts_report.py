"""Who pays for texts, the counties that switched them off, and what texts cost (Pingliang §三5).

Each county pays for the texts to its own units; texts to any other unit are paid by the city's
payer (``GONGWEN_SMS_CITY_PAYER``, e.g. the city's 网信办) or, without one, the city government.
A paying unit may ask for texting to be switched off (:func:`switch_texting`): its units then get
in-app notices only. The cost report counts, per payer and per unit, the texts the gateway
accepted, their segments and their cost, and the texts that did not go out. Nothing here shows a
text's words: under 三员分立 the system administrator reads no document content.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.config import Settings, option
from engine.errors import GongwenError, NotFound
from engine.models import Outbox, Person, Unit, UnitKind
from engine.periods import Period

from ..contacts.models import DutyContact
from .mail import kind_label
from .models import TextingOff, TextMessage, TextStatus

__all__ = ["CITY_PAYER", "PRICE", "CostReport", "PayerCost", "Undelivered", "UnitCost", "cost_report",
           "money", "payer_of", "paying_units", "report_xlsx", "switch_texting", "switched_off", "undelivered"]


def _parse_price(text: str) -> Decimal:
    try:
        price = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError("应为每条（计费条）的价格，单位元，如 0.05") from None
    if not price.is_finite() or not Decimal(0) <= price <= Decimal(10):
        raise ValueError("应在 0 到 10 元之间")
    return price


def _parse_unit_id(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError("应为单位编号（数字）")
    return int(text)


# The price of one segment (计费条), in 元.
PRICE = option("sms_price", "GONGWEN_SMS_PRICE", _parse_price, Decimal("0.05"))
# Pays for texts of units in no county: the city's 网信办 or office. Unset: the nearest city government.
CITY_PAYER = option("sms_city_payer", "GONGWEN_SMS_CITY_PAYER", _parse_unit_id, None)


# -- the payer and the switch -----------------------------------------------------------------------------

def payer_of(session: Session, unit_id: int | None, city_payer: int | None = None) -> int:
    """The unit that pays for texts to ``unit_id``'s people.

    The nearest county (``UnitKind.COUNTY``) at or above the unit pays for its own units; any other
    unit's texts are paid by ``city_payer`` (``GONGWEN_SMS_CITY_PAYER``: the city's 网信办) or, unset,
    by the nearest city government at or above it, else by the top unit.
    """
    chain: list[Unit] = []
    unit = session.get(Unit, unit_id) if unit_id else None
    while unit is not None and len(chain) < 32:  # a loop in the tree would otherwise never end
        chain.append(unit)
        unit = session.get(Unit, unit.parent_id) if unit.parent_id else None
    if county := next((u for u in chain if u.kind == UnitKind.COUNTY), None):
        return county.id
    if city_payer:
        return city_payer
    if city := next((u for u in chain if u.kind == UnitKind.CITY), None):
        return city.id
    if chain:
        return chain[-1].id
    # A person of no unit (an administrator) is paid for by the first top unit.
    top = session.scalar(select(Unit.id).where(Unit.parent_id.is_(None)).order_by(Unit.id).limit(1))
    if top is None:
        raise GongwenError("没有任何单位，无法确定短信付费单位")
    return top


def paying_units(session: Session, settings: Settings | None = None) -> list[Unit]:
    """Every unit that pays for some unit's texts (the counties, the city's payer), in order of id."""
    city_payer = settings.option(CITY_PAYER) if settings else None
    ids = {payer_of(session, unit_id, city_payer) for unit_id in session.scalars(select(Unit.id))}
    return list(session.scalars(select(Unit).where(Unit.id.in_(ids)).order_by(Unit.id)))


def switched_off(session: Session, payer_unit_id: int) -> TextingOff | None:
    """The paying unit's request to have texting switched off, if it made one."""
    return session.get(TextingOff, payer_unit_id)


def switch_texting(session: Session, unit_id: int, off: bool, reason: str, actor_id: int | None, *,
                   settings: Settings | None = None) -> bool:
    """Switch texting off (``off``) or on again for the units a paying unit pays for; audited.

    Only a paying unit (a county, the city's payer) may be switched; switching off needs a reason
    (the county's request). ``settings`` names the city's payer (``GONGWEN_SMS_CITY_PAYER``). Returns
    whether anything changed (switching off a unit already off changes nothing).
    """
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("没有这个单位")
    if unit_id not in {u.id for u in paying_units(session, settings)}:
        raise GongwenError(f"{unit.name}不是短信付费单位（县区或市级付费单位），不能单独开关短信")
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise GongwenError("原因不能超过 200 字")
    current = switched_off(session, unit_id)
    if off:
        if not reason:
            raise GongwenError("关闭短信须写明原因（如该县区的申请及文号）")
        if current is not None:
            return False
        session.add(TextingOff(unit_id=unit_id, since=clock.now(), reason=reason, by_id=actor_id))
        audit.record(session, "sms.texting_off", actor_id=actor_id, unit_id=unit_id, reason=reason)
        return True
    if current is None:
        return False
    session.delete(current)
    audit.record(session, "sms.texting_on", actor_id=actor_id, unit_id=unit_id, reason=reason)
    return True


# -- the cost report --------------------------------------------------------------------------------------

@dataclass
class UnitCost:
    """One unit's texts in a period: those the gateway accepted (messages, segments, cost) and the rest."""

    unit_id: int
    name: str
    messages: int = 0
    segments: int = 0
    cost: Decimal = Decimal(0)
    unsent: int = 0


@dataclass
class PayerCost(UnitCost):
    """A paying unit: its own totals, whether texting is off, and each unit it paid for."""

    off: TextingOff | None = None
    units: list[UnitCost] = field(default_factory=list)


@dataclass
class CostReport:
    period: Period
    price: Decimal
    payers: list[PayerCost]

    @property
    def total(self) -> UnitCost:
        """The whole installation's figures."""
        return UnitCost(0, "合计", sum(p.messages for p in self.payers), sum(p.segments for p in self.payers),
                        sum((p.cost for p in self.payers), Decimal(0)), sum(p.unsent for p in self.payers))


def cost_report(session: Session, settings: Settings, period: Period) -> CostReport:
    """Messages, segments and cost per paying unit and per unit, for texts written in ``period``.

    A text counts as sent (and paid for) once the gateway accepted it, whatever its delivery report
    later said; texts switched off, without a gateway, failed or still waiting count as not sent.
    Every paying unit is listed, those without texts (or with texting off) at 0.
    """
    start, end = period.bounds()
    accepted = TextMessage.sent_at.is_not(None)
    rows = session.execute(
        select(TextMessage.payer_unit_id, TextMessage.unit_id, func.count(TextMessage.sent_at),
               func.sum(case((accepted, TextMessage.segments), else_=0)), func.sum(TextMessage.cost), func.count())
        .where(TextMessage.created_at >= start, TextMessage.created_at < end)
        .group_by(TextMessage.payer_unit_id, TextMessage.unit_id)).all()
    payer_ids = {u.id for u in paying_units(session, settings)} | {r[0] for r in rows}
    names = dict(session.execute(select(Unit.id, Unit.name)
                                 .where(Unit.id.in_(payer_ids | {r[1] for r in rows}))).all())
    offs = {o.unit_id: o for o in session.scalars(select(TextingOff))}
    payers = {p: PayerCost(p, names.get(p, str(p)), off=offs.get(p)) for p in sorted(payer_ids)}
    for payer_id, unit_id, messages, segments, cost, count in sorted(rows, key=lambda r: (r[0], r[1])):
        line = UnitCost(unit_id, names.get(unit_id, str(unit_id)), messages, int(segments or 0),
                        Decimal(cost or 0), count - messages)
        payer = payers[payer_id]
        payer.units.append(line)
        payer.messages += line.messages
        payer.segments += line.segments
        payer.cost += line.cost
        payer.unsent += line.unsent
    return CostReport(period, settings.option(PRICE), list(payers.values()))


def money(value: Decimal) -> str:
    """元 with two decimals, or more where a price has them (0.045 元 × 3 is 0.135, not 0.14)."""
    cents = value.quantize(Decimal("0.01"))
    return f"{cents:.2f}" if cents == value else f"{value.normalize():f}"


def report_xlsx(report: CostReport) -> bytes:
    """The report as an Excel workbook: one sheet per paying unit's totals, one per unit."""
    from openpyxl import Workbook  # only the export needs it

    book = Workbook()
    payers = book.active
    payers.title = "按付费单位"
    payers.append([f"短信费用统计：{report.period.label}（{report.period.first} 至 {report.period.last}），"
                   f"单价 {money(report.price)} 元/条"])
    payers.append(["付费单位", "短信", "短信条数", "计费条数", "费用（元）", "未发出"])
    for p in report.payers:
        payers.append([p.name, "已关闭" if p.off else "开启", p.messages, p.segments, p.cost, p.unsent])
    total = report.total
    payers.append(["合计", "", total.messages, total.segments, total.cost, total.unsent])
    units = book.create_sheet("按单位")
    units.append(["付费单位", "单位", "短信条数", "计费条数", "费用（元）", "未发出"])
    for p in report.payers:
        for u in p.units:
            units.append([p.name, u.name, u.messages, u.segments, u.cost, u.unsent])
    for sheet in (payers, units):
        sheet.column_dimensions["A"].width = sheet.column_dimensions["B"].width = 28
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- texts that did not go out ----------------------------------------------------------------------------

@dataclass
class Undelivered:
    """A text that has not reached its phone, as the system administrator sees it: never its words."""

    id: int
    status: str
    unit: str
    person: str
    kind: str
    at: datetime
    report: str


def undelivered(session: Session, period: Period | None = None, limit: int = 200) -> list[Undelivered]:
    """Texts failed, not sent for want of a gateway, or still waiting (with the outbox's retries), newest first."""
    query = select(TextMessage).where(TextMessage.status.in_(
        [TextStatus.FAILED, TextStatus.NO_GATEWAY, TextStatus.QUEUED])).order_by(TextMessage.id.desc()).limit(limit)
    if period is not None:
        start, end = period.bounds()
        query = query.where(TextMessage.created_at >= start, TextMessage.created_at < end)
    texts = session.scalars(query).all()
    items = {o.key: o for o in session.scalars(select(Outbox).where(
        Outbox.key.in_([f"sms:{t.id}" for t in texts if t.status == TextStatus.QUEUED])))}
    units = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_({t.unit_id for t in texts}))).all())
    people = dict(session.execute(select(Person.id, Person.name)
                                  .where(Person.id.in_({t.person_id for t in texts if t.person_id}))).all())
    rows = []
    for t in texts:
        status, report = t.status.label, t.report or ""
        if (item := items.get(f"sms:{t.id}")) is not None:
            if item.attempts and item.last_error:
                status, report = f"重试中（已失败 {item.attempts} 次）", item.last_error
            elif item.not_before and item.not_before > clock.now():
                status = f"待发送（静默时段，{clock.local(item.not_before):%m-%d %H:%M} 发出）"
        rows.append(Undelivered(t.id, status, units.get(t.unit_id, ""), people.get(t.person_id, "")
                                or _contact_name(session, t) or "—", kind_label(t.kind), t.created_at, report[:200]))
    return rows


def _contact_name(session: Session, text: TextMessage) -> str | None:
    """The register's name for a number texted without an account (the duty staff)."""
    return session.scalar(select(DutyContact.name).where(DutyContact.unit_id == text.unit_id,
                                                         DutyContact.mobile == text.number)
                          .order_by(DutyContact.id.desc()).limit(1))

"""Spot checks (抽查): a random sample of a period's documents with each recipient's whole receipt record.

Yan'an (Art 28) asks the office to check at random how every document was received and to name the
units that were late. For each sampled document (dispatched by a unit of the area in the period,
as :mod:`.figures` counts "sent") and each of its receipts: when it arrived, its deadline, when and by
whom it was signed for or returned (and why), how late, in hours and in office hours, and what the
receiving unit was told about it: the reminders of its receiving instance (催签, overdue, the 分管领导,
the sender's chase, an urgent arrival) and the texts they sent.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.calendar import WorkCalendar
from engine.errors import Refused
from engine.models import Outbox, Person, Unit
from engine.periods import Period

from ..documents.models import Document
from ..exchange.models import Receipt, ReceiptStatus
from ..notifications.mail import kind_label
from ..notifications.models import Notification, TextMessage
from .figures import area_units

__all__ = ["MAX_SAMPLE", "REMINDER_KINDS", "Reminder", "SampledDocument", "SentText", "SpotReceipt", "spot_check"]

MAX_SAMPLE = 200
# What a receiving instance tells its unit about a document waiting to be signed for.
REMINDER_KINDS = ("urgent_arrival", "remind_sign", "chase", "overdue", "escalation")


@dataclass(frozen=True)
class Reminder:
    """One notice about the document, told to ``people`` of the unit at once."""

    at: datetime
    kind: str          # its Chinese name
    text: str
    people: int


@dataclass(frozen=True)
class SentText:
    at: datetime
    number: str
    kind: str
    status: str


@dataclass
class SpotReceipt:
    """One recipient's receipt of one version of the document."""

    unit: str
    copy: bool                          # 抄送
    version: int
    status: str                         # 待签收, 已签收, 已退回
    arrived: datetime
    due: datetime | None
    answered_at: datetime | None        # signed for, or returned
    answered_by: str | None
    return_reason: str | None
    late_hours: float | None            # past the deadline (till now if still waiting); None if in time
    late_office_hours: float | None
    reminders: list[Reminder] = field(default_factory=list)
    texts: list[SentText] = field(default_factory=list)

    @property
    def late(self) -> bool:
        return self.late_hours is not None


@dataclass
class SampledDocument:
    document_id: int
    doc_number: str
    title: str
    urgency: str
    issuer: str
    dispatched: datetime
    receipts: list[SpotReceipt]


def spot_check(session: Session, root: Unit, period: Period, size: int, seed: int | None = None,
               calendar: WorkCalendar | None = None, now: datetime | None = None) -> list[SampledDocument]:
    """``size`` documents (all if fewer) drawn at random from those the units under ``root`` dispatched
    in ``period``, in the order they were dispatched; the same ``seed`` draws the same sample."""
    if not 1 <= size <= MAX_SAMPLE:
        raise Refused(f"抽查件数应为 1 至 {MAX_SAMPLE}")
    calendar = calendar or WorkCalendar(session)
    now = now or clock.now()
    area, _ = area_units(session, root)
    start, end = period.bounds()
    # A document's first version goes to all its recipients in one dispatch (as figures._sent counts it): the
    # period's version-1 receipts are picked in WHERE, not by grouping every receipt there is.
    first = (select(Receipt.document_id, func.min(Receipt.dispatched_at).label("dispatched"))
             .where(Receipt.version == 1, Receipt.dispatched_at >= start, Receipt.dispatched_at < end)
             .group_by(Receipt.document_id).subquery())
    candidates = session.scalars(select(Document.id).join(first, first.c.document_id == Document.id)
                                 .where(Document.issuing_unit_id.in_([u.id for u in area])).order_by(Document.id)).all()
    drawn = random.Random(seed).sample(candidates, min(size, len(candidates)))
    if not drawn:
        return []
    documents = session.execute(
        select(Document, Unit.name, first.c.dispatched).join(Unit, Unit.id == Document.issuing_unit_id)
        .join(first, first.c.document_id == Document.id).where(Document.id.in_(drawn))
        .order_by(first.c.dispatched, Document.id)).all()
    receipts = _receipts(session, drawn, calendar, now)
    return [SampledDocument(d.id, d.doc_number or "", d.title, d.urgency.label, issuer, dispatched,
                            receipts.get(d.id, [])) for d, issuer, dispatched in documents]


def _receipts(session: Session, document_ids: list[int], calendar: WorkCalendar,
              now: datetime) -> dict[int, list[SpotReceipt]]:
    rows = session.execute(
        select(Receipt, Unit.name, Person.name).join(Unit, Unit.id == Receipt.unit_id)
        .outerjoin(Person, Person.id == Receipt.signed_by_id)
        .where(Receipt.document_id.in_(document_ids)).order_by(Receipt.document_id, Receipt.unit_id, Receipt.version)
    ).all()
    instances = [r.incoming_instance_id for r, _, _ in rows if r.incoming_instance_id is not None]
    reminders, texts = _reminders(session, instances), _texts(session, instances)
    found: dict[int, list[SpotReceipt]] = defaultdict(list)
    for receipt, unit, answered_by in rows:
        waiting = receipt.status == ReceiptStatus.PENDING
        until = now if waiting else receipt.signed_at
        late = receipt.due_at is not None and until is not None and until > receipt.due_at
        found[receipt.document_id].append(SpotReceipt(
            unit=unit, copy=receipt.copy, version=receipt.version, status=receipt.status.label,
            arrived=receipt.dispatched_at, due=receipt.due_at, answered_at=None if waiting else receipt.signed_at,
            answered_by=answered_by, return_reason=receipt.return_reason,
            late_hours=(until - receipt.due_at).total_seconds() / 3600 if late else None,
            late_office_hours=calendar.working_hours_between(receipt.due_at, until) if late else None,
            reminders=reminders.get(receipt.incoming_instance_id, []),
            texts=texts.get(receipt.incoming_instance_id, [])))
    return found


def _reminders(session: Session, instances: list[int]) -> dict[int, list[Reminder]]:
    """Each instance's reminders: one per notice told (one ``tell`` writes a row per person, at one time)."""
    found: dict[int, list[Reminder]] = defaultdict(list)
    for instance_id, at, kind, text, people in session.execute(
            select(Notification.instance_id, Notification.created_at, Notification.kind, Notification.text,
                   func.count())
            .where(Notification.instance_id.in_(instances), Notification.kind.in_(REMINDER_KINDS))
            .group_by(Notification.instance_id, Notification.created_at, Notification.kind, Notification.text)
            .order_by(Notification.created_at, Notification.kind)):
        found[instance_id].append(Reminder(at, kind_label(kind), text, people))
    return found


def _texts(session: Session, instances: list[int]) -> dict[int, list[SentText]]:
    """Each instance's texts: a text's outbox item (``sms:<id>``) names the instance that wrote it."""
    of_text = {int(key.removeprefix("sms:")): instance_id for key, instance_id in session.execute(
        select(Outbox.key, Outbox.source_instance_id).where(Outbox.topic == "sms",
                                                            Outbox.source_instance_id.in_(instances)))}
    found: dict[int, list[SentText]] = defaultdict(list)
    about = select(TextMessage).where(TextMessage.id.in_(of_text), TextMessage.kind.in_(REMINDER_KINDS))
    for text in session.scalars(about.order_by(TextMessage.id)):
        found[of_text[text.id]].append(SentText(text.created_at, text.number, kind_label(text.kind),
                                                text.status.label))
    return found

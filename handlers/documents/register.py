"""发文登记簿: a unit's numbered outgoing documents of a year, filtered and searched, with how many of
their recipients have signed for them.

A document enters the register when it is numbered (a draft that never reached a number was never
sent). The page and its XLSX export read the same rows (``web/registers.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from engine.models import Department, Person
from handlers.exchange.models import Receipt, ReceiptStatus

from .models import DocStatus, DocType, Document, Urgency

# What the register may be filtered by, as its page offers it.
STATES = {"in_progress": "编号后待分发", "dispatched": "已分发", "void": "已撤销或废止"}
_IN_PROGRESS = (DocStatus.NUMBERED, DocStatus.TYPESET, DocStatus.SEALED)
_VOID = (DocStatus.REVOKED, DocStatus.REPEALED)


@dataclass(frozen=True)
class OutgoingEntry:
    document_id: int
    doc_number: str
    title: str
    doc_type: DocType
    urgency: Urgency
    drafter: str
    department: str
    signing_date: date | None
    main_to: str
    status: DocStatus
    recipients: int
    signed: int

    @property
    def state(self) -> str:
        return STATES["void" if self.status in _VOID else "in_progress" if self.status in _IN_PROGRESS
                      else "dispatched"]


def outgoing_register(session: Session, unit_id: int, year: int, *, state: str | None = None, words: str = "",
                      limit: int | None = None) -> list[OutgoingEntry]:
    """The numbered documents ``unit_id`` issued as lead in ``year`` (文号 order, the latest first): ``state``
    one of :data:`STATES`, ``words`` found in the title, the 文号 or the 主送; at most ``limit`` rows.
    Recipients and signatures are of the document's current version."""
    receipts = (select(Receipt.document_id, func.count().label("recipients"),
                       func.sum(case((Receipt.status == ReceiptStatus.SIGNED, 1), else_=0)).label("signed"))
                .join(Document, and_(Document.id == Receipt.document_id, Document.version == Receipt.version))
                .where(Document.issuing_unit_id == unit_id, Document.number_year == year)
                .group_by(Receipt.document_id).subquery())
    query: Select = (
        select(Document.id, Document.doc_number, Document.title, Document.doc_type, Document.urgency,
               Person.name, Department.name, Document.signing_date, Document.main_to_text, Document.status,
               receipts.c.recipients, receipts.c.signed)
        .join(Person, Person.id == Document.drafter_id)
        .outerjoin(Department, Department.id == Document.drafting_department_id)
        .outerjoin(receipts, receipts.c.document_id == Document.id)
        .where(Document.issuing_unit_id == unit_id, Document.number_year == year)
        .order_by(Document.number_code, Document.number_seq.desc()).limit(limit))
    if state == "in_progress":
        query = query.where(Document.status.in_(_IN_PROGRESS))
    elif state == "void":
        query = query.where(Document.status.in_(_VOID))
    elif state == "dispatched":
        query = query.where(Document.status.not_in(_IN_PROGRESS + _VOID))
    if words:
        query = query.where(or_(Document.title.contains(words, autoescape=True),
                                Document.doc_number.contains(words, autoescape=True),
                                Document.main_to_text.contains(words, autoescape=True)))
    return [OutgoingEntry(i, num, t, dt, u, drafter, dept or "", day, to, st, n or 0, s or 0)
            for i, num, t, dt, u, drafter, dept, day, to, st, n, s in session.execute(query)]

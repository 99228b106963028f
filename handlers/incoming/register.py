"""收文登记簿: a unit's received documents of a year as its register lists them, filtered and searched.

One row per registered document, with the numbers the register gives (收文号) and the document's own
(文号), where it came from, who leads its handling, by when, and how far it has gone. The page and its
XLSX export read the same rows (``web/registers.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine.models import Department, Unit
from handlers.documents.models import Document, Urgency

from .models import ExternalDocument, IncomingRecord

# What the register may be filtered by, as its page offers it.
STATES = {"open": "办理中", "handled": "已办结（未归档）", "archived": "已归档"}


@dataclass(frozen=True)
class IncomingEntry:
    document_id: int | None   # None: a document from outside (外来文、纸质来文), not a Gongwen document
    incoming_number: str
    registered_at: datetime
    sender: str
    doc_number: str
    title: str
    urgency: Urgency
    lead_department: str
    handle_due: datetime | None
    handled_at: datetime | None
    archived_at: datetime | None

    @property
    def state(self) -> str:
        return STATES["archived" if self.archived_at else "handled" if self.handled_at else "open"]


def incoming_register(session: Session, unit_id: int, year: int, *, state: str | None = None, words: str = "",
                      limit: int | None = None) -> list[IncomingEntry]:
    """The unit's register of ``year`` (收文号 order): ``state`` one of :data:`STATES`, ``words`` found in the
    title, the 文号, the 收文号 or the sender's name; at most ``limit`` rows, the latest first.

    A document from outside shows the sender organ and 来文字号 the clerk registered."""
    unit = aliased(Unit)
    sender = func.coalesce(unit.name, ExternalDocument.sender_organ)
    number = func.coalesce(Document.doc_number, ExternalDocument.sender_number)
    title = func.coalesce(Document.title, ExternalDocument.title)
    query: Select = (
        select(IncomingRecord.document_id, IncomingRecord.incoming_number, IncomingRecord.registered_at,
               sender, number, title, func.coalesce(Document.urgency, ExternalDocument.urgency), Department.name,
               IncomingRecord.handle_due, IncomingRecord.handled_at, IncomingRecord.archived_at)
        .outerjoin(Document, Document.id == IncomingRecord.document_id)
        .outerjoin(unit, unit.id == Document.issuing_unit_id)
        .outerjoin(ExternalDocument, ExternalDocument.id == IncomingRecord.external_document_id)
        .outerjoin(Department, Department.id == IncomingRecord.lead_department_id)
        .where(IncomingRecord.unit_id == unit_id, IncomingRecord.year == year)
        .order_by(IncomingRecord.seq.desc()).limit(limit))
    if state == "open":
        query = query.where(IncomingRecord.handled_at.is_(None))
    elif state == "handled":
        query = query.where(IncomingRecord.handled_at.is_not(None), IncomingRecord.archived_at.is_(None))
    elif state == "archived":
        query = query.where(IncomingRecord.archived_at.is_not(None))
    if words:
        query = query.where(or_(title.contains(words, autoescape=True), number.contains(words, autoescape=True),
                                IncomingRecord.incoming_number.contains(words, autoescape=True),
                                sender.contains(words, autoescape=True)))
    return [IncomingEntry(d, n, at, s, num or "", t, Urgency(u), dept or "", due, handled, archived)
            for d, n, at, s, num, t, u, dept, due, handled, archived in session.execute(query)]

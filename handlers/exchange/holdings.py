"""Who holds a copy of a document: its issuing units and every unit it was delivered to.

The answer to "may this person read this document?" and "which document is this
instance about?" for pages and the API alike (through ``web.access``).
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.models import Unit
from engine.organisation import works_in
from engine.registry import instance_search

from ..documents.models import Document
from .models import Receipt


def can_read(session: Session, document: Document, person_id: int) -> bool:
    """Whether a person may see a document: they work in an issuing unit or a unit it was sent to.

    Administrators' roles reach no business document.
    """
    units = {i.unit_id for i in document.issuers} | {document.issuing_unit_id}
    units |= set(session.scalars(select(Receipt.unit_id).where(Receipt.document_id == document.id)))
    return works_in(session, person_id, units)


def document_for_instance(session: Session, instance_id: int) -> Document | None:
    """The document an outgoing instance drafts, or an incoming instance received."""
    document = session.scalar(select(Document).where(Document.instance_id == instance_id))
    if document is not None:
        return document
    document_id = session.scalar(select(Receipt.document_id).where(Receipt.incoming_instance_id == instance_id))
    return session.get(Document, document_id) if document_id else None


@instance_search
def received_matching(text: str):
    """Receiving instances of a document whose number or sending unit's name contains ``text``."""
    return select(Receipt.incoming_instance_id).join(Document, Document.id == Receipt.document_id) \
        .join(Unit, Unit.id == Document.issuing_unit_id) \
        .where(or_(Unit.name.contains(text), Document.doc_number.contains(text)))


def arrivals(session: Session, instance_ids: set[int]) -> dict[int, tuple[str, str | None]]:
    """The sending unit's name and the 文号 of each receiving instance among ``instance_ids`` (others are left
    out): what a recipient's inbox shows of an arrival, in one query."""
    if not instance_ids:
        return {}
    rows = session.execute(select(Receipt.incoming_instance_id, Unit.name, Document.doc_number)
                           .join(Document, Document.id == Receipt.document_id)
                           .join(Unit, Unit.id == Document.issuing_unit_id)
                           .where(Receipt.incoming_instance_id.in_(instance_ids))).all()
    return {instance_id: (sender, number) for instance_id, sender, number in rows}

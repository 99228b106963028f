"""转发: a received document sent on to the units below with a short covering notice.

The covering notice (关于转发《…》的通知) is an ordinary outgoing document of the forwarding unit, drafted by
the person who forwards and then reviewed, signed off, numbered, typeset, sealed and dispatched like any
other. It carries the original's sealed PDF, the very bytes the unit signed for, as its first attachment:
nothing re-renders or re-signs it, so the original's seal verifies at every recipient as it did here
(``verify_original``), beside the notice's own seal.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.audit import record
from engine.errors import NotFound, Refused
from engine.files import FileStore
from engine.models import Person, Unit, UnitKind, UnitStatus

from ..documents.drafting import start_outgoing, unit_names
from ..documents.models import Attachment, Document, DocumentVersion
from ..exchange.holdings import can_read
from ..exchange.models import Receipt, ReceiptStatus
from ..seals.validation import VerificationReport
from ..seals.verification import verify_document
from .models import Forward

TITLE_MAX = 300  # Document.title
NOT_SIGNED = "本单位签收后才能转发这份公文"


def signed_copy(session: Session, original: Document, unit_id: int) -> str:
    """The sealed file's hash of the version ``unit_id`` signed for; Refused if the unit has signed none."""
    version = session.scalar(select(Receipt.version).where(
        Receipt.document_id == original.id, Receipt.unit_id == unit_id,
        Receipt.status == ReceiptStatus.SIGNED).order_by(Receipt.version.desc()).limit(1))
    if version is None:
        raise Refused(NOT_SIGNED)
    if version == original.version:
        return original.sealed_sha256
    return session.get(DocumentVersion, (original.id, version)).sealed_sha256


def may_forward(session: Session, original: Document, person: Person) -> bool:
    """Whether ``person`` may forward ``original``: a drafter of a unit that signed for it."""
    if person.unit_id is None or not any(g.role.value == "drafter" and g.unit_id == person.unit_id
                                         for g in person.grants):
        return False
    try:
        signed_copy(session, original, person.unit_id)
    except Refused:
        return False
    return True


def units_below(session: Session, unit: Unit) -> list[int]:
    """The units a forward is addressed to at first: those under the unit, or for a government's office (which
    speaks for it), those under its government; the drafter may change them."""
    parent = unit.parent_id if unit.kind == UnitKind.OFFICE and unit.parent_id is not None else unit.id
    return list(session.scalars(select(Unit.id).where(Unit.parent_id == parent, Unit.id != unit.id,
                                                      Unit.status == UnitStatus.ACTIVE).order_by(Unit.id)))


def covering_title(original: Document) -> str:
    """关于转发《…》的通知, the original's title shortened (…) to fit the title's length."""
    room = TITLE_MAX - len("关于转发《》的通知")
    title = original.title if len(original.title) <= room else original.title[:room - 1] + "…"
    return f"关于转发《{title}》的通知"


def start_forward(runtime, session: Session, original: Document, person: Person) -> Document:
    """Start the covering notice as ``person``'s draft, waiting at 拟稿 with its title, body and recipients
    filled in (all editable) and the original's sealed file attached. Refused unless ``may_forward``."""
    if not may_forward(session, original, person):
        raise Refused(f"{NOT_SIGNED}（须由本单位拟稿人转发）")
    sealed = signed_copy(session, original, person.unit_id)
    notice = start_outgoing(runtime, session, person)
    notice.title = covering_title(original)
    number = f"（{original.doc_number}）" if original.doc_number else ""
    notice.body = [f"现将《{original.title}》{number}转发给你们，请结合实际，认真贯彻执行。"]
    notice.main_to = units_below(session, session.get(Unit, person.unit_id))
    notice.main_to_text = unit_names(session, notice.main_to)
    name = original.title if len(original.title) <= 200 else original.title[:199] + "…"
    notice.attachments.append(Attachment(document_id=notice.id, position=1, name=name,
                                         filename=f"{original.doc_number or '原件'}.pdf"[:200], sha256=sealed))
    session.flush()
    session.add(Forward(document_id=notice.id, original_id=original.id, sealed_sha256=sealed,
                        forwarded_by_id=person.id, forwarded_at=clock.now()))
    record(session, "document.forward", actor_id=person.id, unit_id=person.unit_id, document_id=notice.id,
           original_id=original.id)
    return notice


@dataclass(frozen=True)
class ForwardLinks:
    """What a document's page says of forwarding: what it forwards, and the forwards of it the person may read."""

    original: Document | None          # the document this one forwards
    original_readable: bool            # whether the person may open the original's own page
    forwards: list[Document]           # covering notices forwarding this one, readable by the person


def forward_links(session: Session, document: Document, person_id: int) -> ForwardLinks:
    forward = session.get(Forward, document.id)
    original = session.get(Document, forward.original_id) if forward else None
    notices = session.scalars(select(Document).join(Forward, Forward.document_id == Document.id)
                              .where(Forward.original_id == document.id).order_by(Document.id)).all()
    return ForwardLinks(original, original is not None and can_read(session, original, person_id),
                        [n for n in notices if can_read(session, n, person_id)])


def verify_original(session: Session, files: FileStore, notice: Document) -> tuple[Document, VerificationReport]:
    """The original a covering notice carries, and the check of its seal on the very bytes attached."""
    forward = session.get(Forward, notice.id)
    if forward is None:
        raise NotFound("这份公文不是转发文")
    return session.get(Document, forward.original_id), verify_document(session, files.get(forward.sealed_sha256))

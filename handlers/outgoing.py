"""The machine steps of the outgoing process after sign-off: typeset, correct, seal, dispatch."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.background import consumer
from engine.calendar import WorkCalendar
from engine.errors import Refused
from engine.models import (
    DocStatus,
    DocType,
    Document,
    DocumentVersion,
    Notification,
    Outbox,
    Person,
    Receipt,
    ReceiptStatus,
    Role,
    RoleGrant,
    Unit,
    UnitKind,
    UnitStatus,
    Urgency,
)
from engine.registry import HandlerContext, handler

from .documents import ensure_unclassified, recipients, unit_names
from .incoming import sign_deadline
from .notify import notify
from .sealing.pades import sign_pdf
from .seals import active_seal, seal_signing_material
from .typesetting.redhead import RedHeadDocument, render

DISPATCH_BATCH = 200
_NAME_ONLY = {DocType.LETTER, DocType.MINUTES}  # 信函 and 纪要 carry the organ's name without "文件"


def _printing_office(session: Session, unit: Unit) -> Unit:
    if unit.kind == UnitKind.OFFICE:
        return unit
    office = session.scalar(select(Unit).where(Unit.parent_id == unit.id, Unit.kind == UnitKind.OFFICE))
    return office or unit


def layout(session: Session, document: Document, issuer_ids: list[int] | None = None,
           attachments: list[str] | None = None) -> RedHeadDocument:
    """The document as the red-header renderer sees it (for a preview, a draft not yet saved)."""
    units = [session.get(Unit, i) for i in (issuer_ids or [i.unit_id for i in document.issuers])]
    suffix = "" if document.doc_type in _NAME_ONLY else "文件"
    attachments = [a.name for a in document.attachments] if attachments is None else attachments
    return RedHeadDocument(
        issuer_marks=[f"{u.name}{suffix}" for u in units],
        doc_number=document.doc_number or "",
        title=document.title,
        main_to=document.main_to_text,
        body=list(document.body),
        signing_organs=[u.name for u in units],
        date=document.signing_date or clock.local_today(),
        attachments=attachments,
        copy_number=document.copy_number,
        urgency=document.urgency.label,
        signers=list(document.signers),
        note=document.note,
        cc=document.cc_text or None,
        printed_by=_printing_office(session, units[0]).name,
        printed_on=document.printed_on or clock.local_today(),
    )


def preview(session: Session, document: Document, values: dict) -> bytes:
    """The red-header PDF of a draft as the drafter has filled it in so far; nothing is saved."""
    main_to = recipients(session, values.get("main_to", []), values.get("main_to_lists", []),
                         document.issuing_unit_id)
    cc = recipients(session, values.get("cc", []), values.get("cc_lists", []), document.issuing_unit_id)
    draft = Document(doc_type=DocType(values["doc_type"]), urgency=Urgency(values.get("urgency", "normal")),
                     title=values.get("title") or "（标题）", main_to_text=unit_names(session, main_to),
                     cc_text=unit_names(session, cc), body=[p for p in values.get("body", "").splitlines() if p],
                     note=values.get("note") or None, signers=[], copy_number=None, doc_number=None)
    issuers = list(dict.fromkeys([document.issuing_unit_id, *values.get("co_issuers", [])]))
    return render(layout(session, draft, issuers, [a.name for a in document.attachments])).pdf


@handler("typeset")
def typeset(ctx: HandlerContext, document_id: int) -> dict:
    """Render the numbered document as a GB/T 9704 red-header PDF and store it."""
    document = ctx.session.get(Document, document_id)
    if document.direction.value == "upward" and not document.signers:
        raise Refused("上行文须标注签发人，但没有签发记录")
    document.printed_on = clock.local_today()
    rendered = render(layout(ctx.session, document))
    document.pdf_sha256 = ctx.files.put(ctx.session, rendered.pdf, "application/pdf")
    document.seal_boxes = [asdict(box) for box in rendered.seal_boxes]
    document.status = DocStatus.TYPESET
    ctx.audit("document.typeset", document_id=document.id, pdf=document.pdf_sha256, pages=rendered.pages)
    return {"pdf": document.pdf_sha256, "pages": rendered.pages}


@handler("apply_correction")
def apply_correction(ctx: HandlerContext, document_id: int, correction: dict) -> dict:
    """Proofreading found errors in the wording: correct title and body, keep number and recipients."""
    document = ctx.session.get(Document, document_id)
    document.title = correction["title"].strip()
    document.body = [p.strip() for p in correction["body"].splitlines() if p.strip()]
    document.updated_at = clock.now()
    ctx.audit("document.correct", document_id=document.id, actor_id=correction.get("completed_by"),
              note=correction.get("opinion", ""))
    return {"corrected_at": ctx.now().isoformat()}


@handler("apply_seals")
def apply_seals(ctx: HandlerContext, document_id: int) -> dict:
    """Sign the typeset PDF with each issuer's seal, lead first; the result is stored and never changes."""
    document = ctx.session.get(Document, document_id)
    pdf = ctx.files.get(document.pdf_sha256)
    for position, issuer in enumerate(document.issuers):
        unit = ctx.session.get(Unit, issuer.unit_id)
        seal = active_seal(ctx.session, unit)
        key, certificate, chain = seal_signing_material(ctx.session, ctx.settings, seal)
        box = document.seal_boxes[position]
        pdf = sign_pdf(pdf, key=key, certificate=certificate, chain=chain, seal_pdf=seal.image_pdf,
                       page=box["page"], box=tuple(box["box"]), field_name=f"Seal-{position + 1}",
                       reason="公文用印", location=unit.name)
        issuer.seal_id = seal.id
    document.sealed_sha256 = ctx.files.put(ctx.session, pdf, "application/pdf")
    document.status = DocStatus.SEALED
    ctx.audit("document.seal", document_id=document.id, pdf=document.sealed_sha256,
              seals=[ctx.session.get(Unit, i.unit_id).name for i in document.issuers])
    return {"sealed": document.sealed_sha256}


def _recipients(document: Document) -> list[tuple[int, bool]]:
    return [(u, False) for u in document.main_to] + [(u, True) for u in document.cc]


@handler("prepare_dispatch")
def prepare_dispatch(ctx: HandlerContext, document_id: int) -> dict:
    """How many units the document goes to; too large a share of all units asks the clerk to confirm."""
    document = ctx.session.get(Document, document_id)
    count = len(_recipients(document))
    active = ctx.session.scalar(select(func.count()).select_from(Unit).where(Unit.status == UnitStatus.ACTIVE))
    return {"count": count, "wide": count > ctx.settings.wide_dispatch_share * active}


@handler("dispatch")
def dispatch(ctx: HandlerContext, document_id: int) -> dict:
    """Queue the deliveries; they run after this step commits, in batches, outside this instance's lock."""
    document = ctx.session.get(Document, document_id)
    ensure_unclassified(document.classification, gate="分发")
    if document.sealed_sha256 is None:
        raise Refused("公文尚未用印，不能分发")
    recipients = _recipients(document)
    for start in range(0, len(recipients), DISPATCH_BATCH):
        ctx.outbox("dispatch", f"dispatch:{document.id}:{start}",
                   {"document_id": document.id, "recipients": recipients[start:start + DISPATCH_BATCH]})
    document.status = DocStatus.DISPATCHED
    ctx.audit("document.dispatch", document_id=document.id, recipients=len(recipients))
    return {"recipients": len(recipients), "at": ctx.now().isoformat()}


@consumer("dispatch")
def deliver_batch(gongwen, session: Session, item: Outbox) -> None:
    """Start one incoming instance and one receipt per recipient of the batch (a no-op for those done)."""
    document_id = item.payload["document_id"]
    document = session.get(Document, document_id)
    done = set(session.scalars(select(Receipt.unit_id).where(Receipt.document_id == document_id,
                                                             Receipt.version == document.version)))
    now = clock.now()
    # Every recipient of the batch gets the same sign-for window, so it is worked out once.
    due = sign_deadline(session, WorkCalendar(session, gongwen.settings.office_hours, gongwen.runtime.calendar_data),
                        document.urgency, now)
    window = {"sign_due": due.isoformat(), "remind_at": (now + (due - now) / 2).isoformat()}
    todo = [(unit_id, copy) for unit_id, copy in item.payload["recipients"] if unit_id not in done]
    with gongwen.runtime.batch(session, len(todo)):
        for unit_id, copy in todo:
            instance_id = gongwen.runtime.start(
                "incoming", owning_unit_id=unit_id, data={"document_id": document_id, "copy": copy, "window": window},
                correlation={"document_id": document_id, "unit_id": unit_id, "version": document.version},
                title=document.title, priority=document.urgency.rank, session=session)
            session.add(Receipt(document_id=document_id, unit_id=unit_id, copy=copy, status=ReceiptStatus.PENDING,
                                version=document.version, dispatched_at=now, due_at=due,
                                incoming_instance_id=instance_id))


CHASE_INTERVAL = timedelta(hours=1)
UNSIGNED_AFTER = timedelta(hours=24)


@handler("check_unsigned")
def check_unsigned(ctx: HandlerContext, document_id: int) -> dict:
    """A day after dispatch, tell the drafter and the office's clerks who has not signed (Lianyungang's rule)."""
    pending = ctx.session.scalars(select(Unit.name).join(Receipt, Receipt.unit_id == Unit.id).where(
        Receipt.document_id == document_id, Receipt.status == ReceiptStatus.PENDING)).all()
    if pending:
        title = ctx.session.get(Document, document_id).title
        text = f"《{title}》分发已满24小时，尚有 {len(pending)} 个单位未签收：{'、'.join(pending[:10])}"
        notify(ctx, text, person=ctx.initiator_id, reason="分发满24小时仍未签收", kind="unsigned_24h")
        notify(ctx, text, role=Role.CLERK.value, reason="分发满24小时仍未签收", kind="unsigned_24h")
    return {"pending": len(pending)}


@handler("redispatch")
def redispatch(ctx: HandlerContext, document_id: int, unit_id: int, correction: dict) -> dict:
    """A recipient returned the document: correct it, typeset and seal it as a new version, send it again.

    The earlier version and its returned receipt stay as they were, so the history shows both.
    """
    document = ctx.session.get(Document, document_id)
    ctx.session.add(DocumentVersion(document_id=document.id, version=document.version,
                                    sealed_sha256=document.sealed_sha256, title=document.title,
                                    reason=correction.get("opinion", ""), created_at=ctx.now()))
    document.version += 1
    apply_correction(ctx, document_id, correction)
    typeset(ctx, document_id)
    apply_seals(ctx, document_id)
    copy = unit_id in document.cc
    ctx.outbox("dispatch", f"dispatch:{document.id}:v{document.version}:{unit_id}",
               {"document_id": document.id, "recipients": [[unit_id, copy]]})
    document.status = DocStatus.DISPATCHED
    ctx.audit("document.redispatch", document_id=document.id, version=document.version, recipient=unit_id)
    return {"version": document.version, "unit_id": unit_id}


def chase(session: Session, receipt_id: int, person_id: int) -> None:
    """The sender chases one recipient by hand (催签): at most once an hour per recipient, audited."""
    receipt = session.get(Receipt, receipt_id)
    if receipt is None:
        raise Refused("没有这条签收记录")
    if receipt.status != ReceiptStatus.PENDING:
        raise Refused("该单位已签收或已退回，无需催签")
    now = clock.now()
    if receipt.last_chased_at is not None and now - receipt.last_chased_at < CHASE_INTERVAL:
        wait = CHASE_INTERVAL - (now - receipt.last_chased_at)
        raise Refused(f"刚催过，请 {int(wait.total_seconds() // 60) + 1} 分钟后再催")
    receipt.last_chased_at = now
    title = session.get(Document, receipt.document_id).title
    clerks = session.scalars(select(RoleGrant.person_id).where(RoleGrant.role == Role.CLERK,
                                                               RoleGrant.unit_id == receipt.unit_id)).all()
    session.add_all(Notification(person_id=p, kind="chase", text=f"发文单位催签：《{title}》请尽快签收",
                                 reason="发文单位催签", instance_id=receipt.incoming_instance_id, created_at=now)
                    for p in clerks)
    audit.record(session, "receipt.chase", actor_id=person_id, unit_id=receipt.unit_id,
                 document_id=receipt.document_id)


@dataclass(frozen=True)
class ReceiptView:
    unit: str
    copy: bool
    version: int
    status: ReceiptStatus
    due_at: datetime | None
    signed_at: datetime | None
    signed_by: str | None
    return_reason: str | None
    overdue_since: datetime | None
    receipt_id: int


def receipt_overview(session: Session, document_id: int) -> dict:
    """The sender's view: every recipient's latest receipt, the counts, and who is overdue now."""
    now = clock.now()
    rows = session.execute(
        select(Receipt, Unit.name, Person.name).join(Unit, Unit.id == Receipt.unit_id)
        .outerjoin(Person, Person.id == Receipt.signed_by_id)
        .where(Receipt.document_id == document_id).order_by(Receipt.unit_id, Receipt.version)
    ).all()
    latest: dict[int, ReceiptView] = {}
    for receipt, unit, signer in rows:
        overdue = receipt.overdue_since or (
            receipt.due_at if receipt.status == ReceiptStatus.PENDING and receipt.due_at and receipt.due_at < now
            else None)
        latest[receipt.unit_id] = ReceiptView(unit, receipt.copy, receipt.version, receipt.status, receipt.due_at,
                                              receipt.signed_at, signer, receipt.return_reason,
                                              overdue if receipt.status == ReceiptStatus.PENDING else None,
                                              receipt.id)
    views = list(latest.values())
    counts = {status.value: sum(v.status == status for v in views) for status in ReceiptStatus}
    return {"receipts": views, "history": len(rows), "counts": counts,
            "overdue": [v for v in views if v.overdue_since is not None]}

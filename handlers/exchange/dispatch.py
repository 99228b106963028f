"""Dispatch (分发): the sender's steps that put a sealed document in envelopes and hand them over.

``dispatch`` only queues: the deliveries run after its step commits, in batches of
``DISPATCH_BATCH`` recipients, each batch one transaction outside the sender's instance
lock, so a dispatch to 1,000 units costs the sender's step the same as one to 3. Each
delivery writes the sender's receipt row and hands the envelope to the recipient's
transport; delivering a batch twice is a no-op for the recipients already done.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.background import JobContext, consumer
from engine.calendar import WorkCalendar
from engine.config import option
from engine.errors import Refused
from engine.models import Outbox, Unit, UnitStatus
from engine.registry import HandlerContext, handler

from ..documents.drafting import ensure_unclassified
from ..documents.layout import apply_correction, typeset
from ..documents.models import DocStatus, Document, DocumentVersion
from ..seals.signing import apply_seals
from .counters import count_dispatched, count_sent
from .deadlines import AFTER_HOURS_WINDOW, sign_class, sign_for_window
from .envelope import Envelope, transport_for
from .models import Receipt, ReceiptStatus

DISPATCH_BATCH = 200
# A dispatch to more than this share of all active units asks the clerk to confirm first.
WIDE_DISPATCH_SHARE = option("wide_dispatch_share", "GONGWEN_WIDE_DISPATCH_SHARE", float, 0.3)


def _recipients(document: Document) -> list[tuple[int, bool]]:
    """(unit, is cc) of every recipient that gets an envelope: not those marked 纸质, who get a paper copy."""
    paper = set(document.paper_to)
    return [(u, False) for u in document.main_to if u not in paper] + [(u, True) for u in document.cc
                                                                         if u not in paper]


@handler("prepare_dispatch")
def prepare_dispatch(ctx: HandlerContext, document_id: int) -> dict:
    """How many units the document goes to; too large a share of all units asks the clerk to confirm."""
    count = len(_recipients(ctx.session.get(Document, document_id)))
    return {"count": count, "wide": _wide(ctx, count)}


def _wide(ctx: HandlerContext, count: int) -> bool:
    active = ctx.session.scalar(select(func.count()).select_from(Unit).where(Unit.status == UnitStatus.ACTIVE))
    return count > ctx.settings.option(WIDE_DISPATCH_SHARE) * active


def _queue(ctx: HandlerContext, document: Document, recipients: list[tuple[int, bool]], process: str,
           key: str) -> None:
    for start in range(0, len(recipients), DISPATCH_BATCH):
        ctx.outbox("dispatch", f"{key}:{start}", {"document_id": document.id, "process": process,
                                                  "recipients": recipients[start:start + DISPATCH_BATCH]})


@handler("dispatch")
def dispatch(ctx: HandlerContext, document_id: int, receiving_process: str) -> dict:
    """Queue the deliveries to every recipient, who will each run ``receiving_process``."""
    document = ctx.session.get(Document, document_id)
    ensure_unclassified(document.classification, gate="分发")
    if document.sealed_sha256 is None:
        raise Refused("公文尚未用印，不能分发")
    recipients = _recipients(document)
    _queue(ctx, document, recipients, receiving_process, f"dispatch:{document.id}")
    count_sent(ctx.session, document.issuing_unit_id, ctx.now(), wide=_wide(ctx, len(recipients)))
    document.status = DocStatus.DISPATCHED
    ctx.audit("document.dispatch", document_id=document.id, recipients=len(recipients))
    return {"recipients": len(recipients), "at": ctx.now().isoformat()}


@consumer("dispatch")
def deliver_batch(job: JobContext, session: Session, item: Outbox) -> None:
    """One envelope and one receipt per recipient of the batch not yet delivered."""
    document_id = item.payload["document_id"]
    document = session.get(Document, document_id)
    done = set(session.scalars(select(Receipt.unit_id).where(Receipt.document_id == document_id,
                                                             Receipt.version == document.version)))
    now = clock.now()
    # Every recipient of the batch gets the same sign-for window, so it is worked out once.
    window = sign_for_window(session, WorkCalendar(session, job.settings.office_hours, job.runtime.calendar_data),
                             document.urgency, now, job.settings.option(AFTER_HOURS_WINDOW))
    envelopes = [
        Envelope(document_id=document_id, version=document.version, sender_unit_id=document.issuing_unit_id,
                 recipient_unit_id=unit_id, receiving_process=item.payload.get("process", "incoming"), copy=copy,
                 title=document.title, doc_number=document.doc_number, urgency=document.urgency.value,
                 priority=document.urgency.rank, sealed_sha256=document.sealed_sha256,
                 attachments=[a.sha256 for a in document.attachments], window=window.as_data())
        for unit_id, copy in item.payload["recipients"] if unit_id not in done
    ]
    if not envelopes:
        return
    instance_ids = transport_for(job.runtime, envelopes[0].recipient_unit_id).deliver(session, envelopes)
    receipts = [Receipt(document_id=document_id, unit_id=e.recipient_unit_id, copy=e.copy,
                        status=ReceiptStatus.PENDING, version=e.version, dispatched_at=now, due_at=window.due,
                        sign_class=sign_class(document.urgency, window), incoming_instance_id=instance_id)
                for e, instance_id in zip(envelopes, instance_ids, strict=True)]
    session.add_all(receipts)
    count_dispatched(session, receipts)


@handler("redispatch")
def redispatch(ctx: HandlerContext, document_id: int, unit_id: int, correction: dict,
               receiving_process: str) -> dict:
    """A recipient returned the document: correct it, typeset and seal it as a new version, send it again.

    The earlier version and its returned receipt stay as they were, so the history shows both.
    """
    document = ctx.session.get(Document, document_id)
    ctx.session.add(DocumentVersion(document_id=document.id, version=document.version,
                                    sealed_sha256=document.sealed_sha256, sealed_format=document.sealed_format,
                                    seal_algorithm=document.seal_algorithm, title=document.title,
                                    reason=correction.get("opinion", ""), created_at=ctx.now()))
    document.version += 1
    apply_correction(ctx, document_id, correction)
    typeset(ctx, document_id)
    apply_seals(ctx, document_id)
    _queue(ctx, document, [(unit_id, unit_id in document.cc)], receiving_process,
           f"dispatch:{document.id}:v{document.version}:{unit_id}")
    document.status = DocStatus.DISPATCHED
    ctx.audit("document.redispatch", document_id=document.id, version=document.version, recipient=unit_id)
    return {"version": document.version, "unit_id": unit_id}

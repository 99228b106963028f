"""The receiving side's first steps (收文): arrival and sign-for, keeping the sender's receipt current.

A minimal process until the incoming issue builds the whole of 收文; it already refuses
a classified document at the gate and records who signed for what, and when.
"""

from __future__ import annotations

from sqlalchemy import select

from engine import clock
from engine.models import Document, Receipt, ReceiptStatus
from engine.registry import HandlerContext, handler

from .documents import ensure_unclassified


@handler("receive_document")
def receive_document(ctx: HandlerContext, document_id: int, unit_id: int) -> dict:
    document = ctx.session.get(Document, document_id)
    ensure_unclassified(document.classification, gate="收文")
    ctx.audit("document.arrive", document_id=document_id, doc_number=document.doc_number)
    return {"doc_number": document.doc_number, "title": document.title, "at": ctx.now().isoformat()}


@handler("record_receipt")
def record_receipt(ctx: HandlerContext, document_id: int, unit_id: int, decision: str, reason: str,
                   person_id: int) -> dict:
    receipt = ctx.session.scalar(select(Receipt).where(Receipt.document_id == document_id, Receipt.unit_id == unit_id))
    receipt.signed_by_id, receipt.signed_at = person_id, clock.now()
    if decision == "return":
        receipt.status, receipt.return_reason = ReceiptStatus.RETURNED, reason
    else:
        receipt.status = ReceiptStatus.SIGNED
    ctx.audit("receipt." + receipt.status.value, actor_id=person_id, document_id=document_id)
    return {"status": receipt.status.value}

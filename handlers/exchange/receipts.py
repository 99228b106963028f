"""The sender's receipts: one row per recipient and version, kept current by the recipients' replies.

A recipient never writes these rows: its process hands a ``Reply`` (signed, returned, overdue) to
the transport with :func:`send_reply` (see :mod:`.replies`). The sender chases a recipient by hand
(催签), hears a day after dispatch who has not signed, and sees the overview of every receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import Refused
from engine.models import Person, Role, Unit
from engine.organisation import holders
from engine.registry import HandlerContext, handler

from ..contacts.models import Duty
from ..documents.models import Document, Urgency
from ..notifications import tell
from ..notifications.alerts import alert_unit
from .deadlines import CHASE_INTERVAL
from .envelope import transport_for
from .models import Receipt, ReceiptStatus
from .replies import Reply, receipt_for

__all__ = ["ReceiptView", "ReturnView", "chase", "check_unsigned", "receipt_overview", "returned_delivery",
           "send_reply"]


def send_reply(ctx: HandlerContext, reply: Reply) -> int | None:
    """Hand ``reply`` to the transport that reaches the sender; the sender's receipt id if known here."""
    return transport_for(ctx.runtime, None).reply(ctx.session, reply)


@handler("check_unsigned")
def check_unsigned(ctx: HandlerContext, document_id: int) -> dict:
    """A day after dispatch, tell the drafter and the office's clerks who has not signed (Lianyungang's rule)."""
    pending = ctx.session.scalars(select(Unit.name).join(Receipt, Receipt.unit_id == Unit.id).where(
        Receipt.document_id == document_id, Receipt.status == ReceiptStatus.PENDING)).all()
    if pending:
        title = ctx.session.get(Document, document_id).title
        text = f"《{title}》分发已满24小时，尚有 {len(pending)} 个单位未签收：{'、'.join(pending[:10])}"
        people = {ctx.initiator_id, *holders(ctx.session, Role.CLERK, ctx.owning_unit_id)} - {None}
        tell.tell(ctx.session, sorted(people), text, kind="unsigned_24h", reason="分发满24小时仍未签收",
                  instance_id=ctx.instance_id, key=f"unsigned_24h:{document_id}")
    return {"pending": len(pending)}


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
    document = session.get(Document, receipt.document_id)
    text, key = f"发文单位催签：《{document.title}》请尽快签收", f"chase:{receipt.id}:{now.isoformat()}"
    if document.urgency == Urgency.NORMAL:
        tell.tell(session, holders(session, Role.CLERK, receipt.unit_id), text, kind="chase", reason="发文单位催签",
                  instance_id=receipt.incoming_instance_id, key=key)
    else:  # Yan'an Art 22: for an urgent document the sender texts the receiver's duty staff
        alert_unit(session, receipt.unit_id, text, duty=Duty.CLERK, role=Role.CLERK, kind="chase",
                   reason="发文单位催签（紧急公文，短信通知）", instance_id=receipt.incoming_instance_id, key=key)
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


@dataclass(frozen=True)
class ReturnView:
    """One delivery a recipient returned: which unit, who there, when, why, and which version it was."""

    unit: str
    returned_by: str | None
    returned_at: datetime | None
    reason: str
    version: int


def returned_delivery(session: Session, document_id: int, unit_id: int | None,
                      version: int | None) -> ReturnView | None:
    """The return of ``document_id`` by ``unit_id`` (its ``version``; None: the latest sent there) as the
    sender's 处理退文 tells it, read from the sender's receipt; None if that delivery was not returned."""
    receipt = receipt_for(session, document_id, unit_id, version) if unit_id is not None else None
    if receipt is None or receipt.status != ReceiptStatus.RETURNED:
        return None
    person = session.get(Person, receipt.signed_by_id) if receipt.signed_by_id else None
    return ReturnView(session.get(Unit, receipt.unit_id).name, person.name if person else None, receipt.signed_at,
                      receipt.return_reason or "", receipt.version)

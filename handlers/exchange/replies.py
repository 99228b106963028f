"""Replies: what a recipient tells the sender (signed, returned, overdue), and applying one to the sender's receipt.

A recipient's process never writes the sender's rows: it hands a ``Reply`` to the transport that
reaches the sender (:func:`handlers.exchange.envelope.transport_for`). The local transport applies
it at once, in the recipient's transaction, as it starts the recipient's process in the
dispatch's; a transport to another installation would carry it there and apply it on arrival.
Applying a reply is idempotent: one applied before changes nothing and sends nothing again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db import is_sqlite
from engine.errors import Refused

from ..documents.models import Document
from .counters import count_answer
from .models import Receipt, ReceiptStatus

if TYPE_CHECKING:
    from engine.runtime import Runtime

__all__ = ["Reply", "ReplyKind", "apply_reply", "lock_document", "receipt_for"]
_LOCKED = "exchange.locked_documents"


class ReplyKind(enum.StrEnum):
    SIGNED = "signed"
    RETURNED = "returned"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Reply:
    """What a recipient tells the sender about one delivery (named by document, unit and version)."""

    document_id: int
    unit_id: int
    version: int | None      # None: the latest version sent to the unit (processes started before versions)
    kind: ReplyKind
    at: str                  # ISO time on the recipient's side
    person_id: int | None = None
    reason: str | None = None
    verification: dict | None = None   # the report the clerk saw before signing


def receipt_for(session: Session, document_id: int, unit_id: int, version: int | None) -> Receipt | None:
    """The receipt of one delivery (the latest version sent to the unit if ``version`` is None)."""
    query = select(Receipt).where(Receipt.document_id == document_id, Receipt.unit_id == unit_id)
    query = query.where(Receipt.version == version) if version is not None else \
        query.order_by(Receipt.version.desc()).limit(1)
    return session.scalar(query)


def lock_document(session: Session, document_id: int) -> Document | None:
    """The document, its row locked for the rest of the transaction (a second call costs nothing)."""
    locked = session.info.setdefault(_LOCKED, set())
    if document_id in locked:
        return session.get(Document, document_id)
    locked.add(document_id)
    return session.get(Document, document_id, with_for_update=not is_sqlite(session))


def apply_reply(runtime: Runtime, session: Session, reply: Reply) -> int:
    """Apply ``reply`` to the sender's receipt; tell the sender's instance of a return, and of the
    moment nobody is left to answer.

    The document row is locked first, so that of two last answers arriving together exactly one
    counts no pending receipt and sends 全部签收. Returns the receipt's id.
    """
    document = lock_document(session, reply.document_id)
    receipt = receipt_for(session, reply.document_id, reply.unit_id, reply.version)
    if document is None or receipt is None:
        raise Refused(f"没有公文 {reply.document_id} 发往单位 {reply.unit_id} 的签收记录")
    if reply.kind == ReplyKind.OVERDUE:
        if receipt.status == ReceiptStatus.PENDING and receipt.overdue_since is None:
            receipt.overdue_since = datetime.fromisoformat(reply.at)
        return receipt.id
    if receipt.status != ReceiptStatus.PENDING:
        return receipt.id
    receipt.status = ReceiptStatus(reply.kind.value)
    receipt.signed_by_id, receipt.signed_at = reply.person_id, datetime.fromisoformat(reply.at)
    receipt.verification = reply.verification
    count_answer(session, receipt)
    if reply.kind == ReplyKind.RETURNED:
        receipt.return_reason = reply.reason
        runtime.send_message(session, "退文", {"document_id": reply.document_id},
                             {"unit_id": reply.unit_id, "reason": reply.reason, "version": receipt.version})
    session.flush()
    pending = session.scalar(select(func.count()).select_from(Receipt).where(
        Receipt.document_id == reply.document_id, Receipt.status == ReceiptStatus.PENDING))
    if pending == 0:
        runtime.send_message(session, "全部签收", {"document_id": reply.document_id}, {"version": document.version})
    return receipt.id

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

from sqlalchemy import bindparam, func, select, update
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
# Every answer counts the receipts still pending: built once (building and keying a statement costs
# more CPU than its round trip).
_PENDING = select(func.count()).select_from(Receipt).where(
    Receipt.document_id == bindparam("document_id"), Receipt.status == ReceiptStatus.PENDING)


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
    if document is None:
        raise Refused(f"没有公文 {reply.document_id} 发往单位 {reply.unit_id} 的签收记录")
    receipt = _answer(session, reply) if reply.kind != ReplyKind.OVERDUE else None
    if receipt is None:  # overdue, already answered, or no such delivery
        receipt = receipt_for(session, reply.document_id, reply.unit_id, reply.version)
        if receipt is None:
            raise Refused(f"没有公文 {reply.document_id} 发往单位 {reply.unit_id} 的签收记录")
        if reply.kind == ReplyKind.OVERDUE and receipt.status == ReceiptStatus.PENDING \
                and receipt.overdue_since is None:
            receipt.overdue_since = datetime.fromisoformat(reply.at)
        return receipt.id
    count_answer(session, receipt)
    if reply.kind == ReplyKind.RETURNED:
        runtime.send_message(session, "退文", {"document_id": reply.document_id},
                             {"unit_id": reply.unit_id, "reason": reply.reason, "version": receipt.version})
    pending = session.scalar(_PENDING, {"document_id": reply.document_id})
    if pending == 0:
        runtime.send_message(session, "全部签收", {"document_id": reply.document_id}, {"version": document.version})
    return receipt.id


def _answer(session: Session, reply: Reply) -> Receipt | None:
    """The pending receipt a signature or a return answers, marked so; None if that delivery is not pending.

    One ``UPDATE … RETURNING`` (every recipient's sign-for runs it), not a read and then a write.
    """
    version = reply.version if reply.version is not None else (
        select(func.max(Receipt.version))
        .where(Receipt.document_id == reply.document_id, Receipt.unit_id == reply.unit_id).scalar_subquery())
    values = {"status": ReceiptStatus(reply.kind.value), "signed_by_id": reply.person_id,
              "signed_at": datetime.fromisoformat(reply.at)}
    if reply.verification is not None:  # a return has none: the column stays SQL NULL
        values["verification"] = reply.verification
    if reply.kind == ReplyKind.RETURNED:
        values["return_reason"] = reply.reason
    return session.scalar(
        update(Receipt).where(Receipt.document_id == reply.document_id, Receipt.unit_id == reply.unit_id,
                              Receipt.version == version, Receipt.status == ReceiptStatus.PENDING)
        .values(values).returning(Receipt),
        execution_options={"synchronize_session": False, "populate_existing": True})

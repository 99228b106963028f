"""The audit trail: an append-only chain of events, each hash covering the one before.

Code records events with :func:`record` anywhere inside a transaction; they are
chained and inserted just before that transaction commits, under a lock held only
for the few statements before the commit, so a chain exists even with many writers.
No code path updates or deletes an audit row, and the migration adds database
triggers that refuse it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from . import clock
from .db import Database, is_sqlite
from .models import AuditEvent

GENESIS = "0" * 64
_PENDING = "gongwen.audit_pending"
_CHAIN_LOCK = 0x6757_6175  # PostgreSQL advisory lock key for the chain head
# Every transaction that records an event sends these: built once, since building and keying a
# statement anew costs more of the client's CPU than its loopback round trip (issue 16).
_LOCK_CHAIN = text("SELECT pg_advisory_xact_lock(:k)")
_LAST_HASH = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
_INSERT = insert(AuditEvent.__table__)


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None = None,
    unit_id: int | None = None,
    instance_id: int | None = None,
    **detail: Any,
) -> None:
    """Queue an audit event; it is written with the transaction or not at all.

    ``detail`` says who did what to which thing (ids, numbers, counts, states), never the words of a
    document (title, body, opinions, reasons, instructions): under 三员分立 the auditor reads this
    trail and must not read document content.
    """
    session.info.setdefault(_PENDING, []).append(
        dict(action=action, actor_id=actor_id, unit_id=unit_id, instance_id=instance_id,
             detail=detail, at=clock.now())
    )


def refusal(db: Database, action: str, *, actor_id: int | None = None, unit_id: int | None = None,
            **detail: Any) -> None:
    """Record a refusal that matters to security in a transaction of its own.

    The request that was refused rolls back; the record of the refusal must not go with it.
    """
    with db.write() as session:
        record(session, action, actor_id=actor_id, unit_id=unit_id, **detail)


def _digest(prev_hash: str, at: datetime, action: str, actor_id, unit_id, instance_id, detail: dict) -> str:
    body = json.dumps(
        [prev_hash, at.isoformat(timespec="microseconds"), action, actor_id, unit_id, instance_id, detail],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def flush(session: Session) -> None:
    """Chain and insert the queued events; called by the session just before commit.

    SQLAlchemy also calls it when a savepoint is released; events wait for the real
    commit then, so the chain lock is held only for the last statements of a transaction.
    """
    if session.get_nested_transaction() is not None:
        return
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    if not is_sqlite(session):  # SQLite already serialises writers for the whole transaction
        session.execute(_LOCK_CHAIN, {"k": _CHAIN_LOCK})
    prev = session.scalar(_LAST_HASH) or GENESIS
    for event in pending:
        # Round-trip through JSON so the hash covers exactly what the database will hand back.
        event["detail"] = json.loads(json.dumps(event["detail"], ensure_ascii=False, default=str))
        event["prev_hash"] = prev
        event["hash"] = prev = _digest(prev, event["at"], event["action"], event["actor_id"], event["unit_id"],
                                       event["instance_id"], event["detail"])
    session.connection().execute(_INSERT, pending)


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None = None
    reason: str = ""

    @property
    def whole(self) -> bool:
        return self.broken_at is None


def verify(session: Session, batch: int = 5000) -> ChainReport:
    """Walk the chain from the first event and report the first broken link."""
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not events:
            return ChainReport(checked)
        for event in events:
            if event.prev_hash != prev:
                return ChainReport(checked, event.id, "它记录的上一条哈希与上一条事件不符（有事件被删除或改动）")
            expected = _digest(prev, event.at, event.action, event.actor_id, event.unit_id,
                               event.instance_id, event.detail)
            if event.hash != expected:
                return ChainReport(checked, event.id, "内容与哈希不符（事件被改动）")
            prev = event.hash
            checked += 1
            last_id = event.id
        session.expunge_all()

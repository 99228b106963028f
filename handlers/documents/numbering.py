"""发文字号: ``代字〔YYYY〕N号`` per issuer code and year, without gaps or duplicates.

The number is allocated inside the numbering step's transaction by one atomic
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` on the counter row, so concurrent allocations
queue on that row, and a step that rolls back gives its number back with it: nothing is skipped.
The year is the Asia/Shanghai calendar year.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Insert, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import Conflict, Refused
from engine.models import Unit
from engine.registry import HandlerContext, handler
from engine.text import clean

from .models import DocStatus, DocType, Document, NumberCounter


def format_number(code: str, year: int, seq: int, doc_type: DocType) -> str:
    """``连政办发〔2026〕107号``; orders (命令) are numbered ``第107号``."""
    if doc_type == DocType.ORDER:
        return f"第{seq}号"
    return f"{code}〔{year}〕{seq}号"


def allocate(session: Session, code: str, year: int) -> int:
    """The next sequence number for ``code`` in ``year``, taken for good when the transaction commits."""
    statement = _ALLOCATE[session.get_bind().dialect.name]
    return session.connection().execute(statement, {"code": code, "year": year}).scalar_one()


def _allocation(dialect_insert: Callable) -> Insert:
    """One statement: the year's first number creates the counter, later ones add to it (row locked).

    Built once per database kind (every sign-for allocates a 收文 number): building and keying a
    statement anew costs more CPU than its round trip.
    """
    table = NumberCounter.__table__
    return (dialect_insert(table).values(code=bindparam("code"), year=bindparam("year"), next_seq=2)
            .on_conflict_do_update(index_elements=[table.c.code, table.c.year],
                                   set_={"next_seq": table.c.next_seq + 1})
            .returning(table.c.next_seq - 1))


_ALLOCATE = {"sqlite": _allocation(sqlite_insert), "postgresql": _allocation(pg_insert)}


MAX_SEQ = 999_999


def set_next(session: Session, code: str, year: int, next_seq: int, *, actor_id: int | None = None) -> None:
    """Start numbering at ``next_seq`` (a mid-year start); a number already given out is never reused."""
    if not 1 <= next_seq <= MAX_SEQ:
        raise Refused(f"下一个文号应在 1 到 {MAX_SEQ} 之间")
    if not 2000 <= year <= clock.local_today().year + 1:
        raise Refused("年份应为 2000 年至明年之间")
    code = clean(code, field="机关代字", max_length=20)
    counter = session.get(NumberCounter, (code, year))
    used = session.scalar(select(Document.number_seq).where(Document.number_code == code, Document.number_year == year)
                          .order_by(Document.number_seq.desc()).limit(1)) or 0
    floor = max(used + 1, counter.next_seq if counter else 1)
    if next_seq < floor:
        raise Conflict(f"{code}〔{year}〕已用到第 {floor - 1} 号，下一个文号不能小于 {floor}")
    if counter is None:
        session.add(NumberCounter(code=code, year=year, next_seq=next_seq))
    else:
        counter.next_seq = next_seq
    audit.record(session, "numbering.set_next", actor_id=actor_id, code=code, year=year, next_seq=next_seq)


@handler("assign_number")
def assign_number(ctx: HandlerContext, document_id: int) -> dict:
    """Give the signed-off document the lead issuer's next number."""
    document = ctx.session.get(Document, document_id)
    if document.doc_number:
        return {"doc_number": document.doc_number}
    code = ctx.session.get(Unit, document.issuers[0].unit_id).issuer_code
    year = clock.local_today().year
    seq = allocate(ctx.session, code, year)
    document.number_code, document.number_year, document.number_seq = code, year, seq
    document.doc_number = format_number(code, year, seq, document.doc_type)
    document.status = DocStatus.NUMBERED
    ctx.instance.title = f"{document.title}（{document.doc_number}）"
    ctx.audit("document.number", document_id=document.id, doc_number=document.doc_number)
    return {"doc_number": document.doc_number}

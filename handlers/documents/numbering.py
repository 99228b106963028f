"""发文字号: ``代字〔YYYY〕N号`` per issuer code and year, without gaps or duplicates.

A unit numbers in its main series (``Unit.issuer_code``, e.g. 连政办发) and in the series it keeps
beside it (:class:`~.models.NumberSeries`: 函 连政办函, 明电 连政办发明电 …), each code with its own
counter. :func:`series_code` says which one a document takes.

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

from .models import DOC_TYPE_LABELS, DocStatus, DocType, Document, NumberCounter, NumberSeries


def format_number(code: str, year: int, seq: int, doc_type: DocType) -> str:
    """``连政办发〔2026〕107号``; orders (命令) are numbered ``第107号``."""
    if doc_type == DocType.ORDER:
        return f"第{seq}号"
    return f"{code}〔{year}〕{seq}号"


TOTAL = 0   # the counter year of a publication's 总期号, which no new year restarts


def format_issue(code: str, year: int, seq: int) -> str:
    """A publication's issue as it is cited: ``陕政通报2026年第3期``."""
    return f"{code}{year}年第{seq}期"


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


def unit_series(session: Session, unit_id: int) -> list[NumberSeries]:
    """The unit's active series beside its main one, in the order they were added."""
    return list(session.scalars(select(NumberSeries).where(NumberSeries.unit_id == unit_id, NumberSeries.active)
                                .order_by(NumberSeries.id)))


def _chosen(session: Session, document: Document, unit: Unit) -> NumberSeries | None:
    """The drafter's choice (``document.series_id``, one of ``unit``'s active series); else the series
    listing the document's 文种 (a 函 in the 函 series); else None, the unit's main series."""
    series = unit_series(session, unit.id)
    if document.series_id is not None:
        chosen = next((s for s in series if s.id == document.series_id), None)
        if chosen is None:
            raise Refused(f"所选发文字号系列不是{unit.name}的在用系列")
        return chosen
    return next((s for s in series if document.doc_type.value in s.doc_types), None)


def series_code(session: Session, document: Document) -> str:
    """The 机关代字 the document is numbered under, from its lead issuer's series (:func:`_chosen`)."""
    unit = session.get(Unit, document.issuers[0].unit_id)
    chosen = _chosen(session, document, unit)
    return chosen.code if chosen else unit.issuer_code


def document_series(session: Session, document: Document, unit_id: int) -> NumberSeries | None:
    """The series beside the main one that the document is numbered in, or will be with ``unit_id`` as its
    lead issuer; None for the main one. What the layout follows: a 明电 series is typeset as a telegram, a
    publication under its 刊头."""
    if document.number_code:
        return session.scalar(select(NumberSeries).where(NumberSeries.code == document.number_code))
    return _chosen(session, document, session.get(Unit, unit_id))


def add_series(session: Session, unit: Unit, name: str, code: str, doc_types: list[str] | None = None, *,
               telegram: bool = False, publication: bool = False, total_from: int = 1,
               actor_id: int | None = None) -> NumberSeries:
    """Give ``unit`` a series beside its main one; a code already in use anywhere is refused.

    ``publication``: an internal publication (内部刊物) called ``name``, whose first issue here is 总第
    ``total_from`` 期 (a publication older than Gongwen goes on counting)."""
    if telegram and publication:
        raise Refused("一个系列不能既是明传电报又是内部刊物")
    if not 1 <= total_from <= MAX_SEQ:
        raise Refused(f"总期号应在 1 到 {MAX_SEQ} 之间")
    name = clean(name, field="系列名称", max_length=20)
    code = clean(code, field="机关代字", max_length=20)
    doc_types = list(dict.fromkeys(doc_types or []))
    if unknown := [t for t in doc_types if t not in {d.value for d in DocType}]:
        raise Refused(f"不是文种：{'、'.join(unknown)}")
    if not unit.issuer_code:
        raise Refused(f"{unit.name}没有机关代字，不能另设发文字号系列")
    holder = (session.scalar(select(Unit.name).where(Unit.issuer_code == code))
              or session.scalar(select(Unit.name).join(NumberSeries, NumberSeries.unit_id == Unit.id)
                                .where(NumberSeries.code == code)))
    if holder:
        raise Conflict(f"机关代字 {code} 已由{holder}使用")
    taken = {t for s in unit_series(session, unit.id) for t in s.doc_types}
    if both := [DOC_TYPE_LABELS[DocType(t)] for t in doc_types if t in taken]:
        raise Conflict(f"{'、'.join(both)}已归入{unit.name}的另一系列")
    series = NumberSeries(unit_id=unit.id, name=name, code=code, doc_types=doc_types, telegram=telegram,
                          publication=publication)
    session.add(series)
    if publication and total_from > 1:
        session.add(NumberCounter(code=code, year=TOTAL, next_seq=total_from))
    session.flush()
    audit.record(session, "numbering.add_series", actor_id=actor_id, unit_id=unit.id, code=code, name=name)
    return series


def retire_series(session: Session, series: NumberSeries, *, actor_id: int | None = None) -> None:
    """Stop numbering in ``series``; its numbers stay given and its code stays taken. Retiring it twice is
    refused (a second click would record a second retirement)."""
    if not series.active:
        raise Conflict(f"发文字号系列 {series.code} 已经停用")
    series.active = False
    audit.record(session, "numbering.retire_series", actor_id=actor_id, unit_id=series.unit_id, code=series.code)


def last_given(session: Session, codes: list[str], year: int) -> dict[str, int]:
    """The last number given this ``year`` (or, with :data:`TOTAL`, a publication's last 总期号) per code of
    ``codes`` that has given one; one query, whatever the number of codes."""
    rows = session.execute(select(NumberCounter.code, NumberCounter.next_seq)
                           .where(NumberCounter.code.in_(codes), NumberCounter.year == year))
    return {code: next_seq - 1 for code, next_seq in rows if next_seq > 1}


@handler("assign_number")
def assign_number(ctx: HandlerContext, document_id: int) -> dict:
    """Give the signed-off document the next number of its series (:func:`series_code`)."""
    document = ctx.session.get(Document, document_id)
    if document.doc_number:
        return {"doc_number": document.doc_number}
    code = series_code(ctx.session, document)
    year = clock.local_today().year
    seq = allocate(ctx.session, code, year)
    document.number_code, document.number_year, document.number_seq = code, year, seq
    series = document_series(ctx.session, document, document.issuers[0].unit_id)
    if series is not None and series.publication:
        document.issue_total = allocate(ctx.session, code, TOTAL)
        document.doc_number = format_issue(code, year, seq)
    else:
        document.doc_number = format_number(code, year, seq, document.doc_type)
    document.status = DocStatus.NUMBERED
    ctx.instance.title = f"{document.title}（{document.doc_number}）"
    ctx.audit("document.number", document_id=document.id, doc_number=document.doc_number)
    return {"doc_number": document.doc_number}

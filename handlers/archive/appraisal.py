"""Archive search, and appraisal and destruction (鉴定/销毁) of items whose retention has run out.

Who: a unit's archivists search its archive and read its items; they propose, for an item whose retention
ran out (年度 + 保管期限 < this year), to keep it longer with a new retention or to destroy it, with a
reason; a leader of the unit other than the proposer approves or rejects. Nobody else reaches any of it:
another unit's people and the three administrators find no item (NotFound, as for a document).

Destruction erases the item's own files, the archived copy with its 归档章 and the 发文稿纸, after the
decision commits (the outbox's ``archive.erase``, at least once; erasing twice is harmless). The sealed
original is not the item's: the document's own file, read by every unit that received it and by their
archive items, so it stays. The audit chain holds hashes, never file contents, so it still verifies.
The approved proposal is the 销毁 record: 档号, title and retention copied into it, who proposed, who
approved, when and why; it is never deleted and the 销毁清册 lists it for ever. A kept item keeps its
档号 as stamped and carries the new retention beside it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.background import JobContext, consumer
from engine.errors import NotFound, Refused
from engine.messages import enqueue
from engine.models import Outbox, Person, Role
from engine.organisation import holders
from engine.text import clean

from ..documents.models import Document
from ..incoming.models import ExternalDocument, IncomingRecord
from ..notifications.tell import tell
from .models import AppraisalAction, AppraisalState, ArchiveAppraisal, ArchiveItem, Retention

NO_ITEM = "没有这件档案"
NO_APPRAISAL = "没有这条鉴定意见"
REASON_MAX = 500
SEARCH_LIMIT = 200


def archive_unit(session: Session, person_id: int, *roles: Role) -> int:
    """The unit whose archive the person works on as a holder of one of ``roles`` (active, in their own unit).

    NotFound for anyone else: people of no unit (the three administrators) and people without the role.
    """
    person = session.get(Person, person_id)
    if person is None or person.unit_id is None or \
            not any(person_id in holders(session, role, person.unit_id) for role in roles):
        raise NotFound(NO_ITEM)
    return person.unit_id


def _title() -> ColumnElement[str]:
    return func.coalesce(Document.title, ExternalDocument.title, "")


def _with_titles(query):
    """``query`` over items joined to their document's, or their external document's, title and number."""
    return query.select_from(ArchiveItem).outerjoin(Document, Document.id == ArchiveItem.document_id) \
        .outerjoin(IncomingRecord, IncomingRecord.instance_id == ArchiveItem.instance_id) \
        .outerjoin(ExternalDocument, ExternalDocument.id == IncomingRecord.external_document_id)


def _in_force() -> ColumnElement[str]:
    return func.coalesce(ArchiveItem.appraised_retention, ArchiveItem.retention)


def search(session: Session, unit_id: int, *, code: str = "", words: str = "", year: int | None = None,
           retention: Retention | None = None) -> list[tuple[ArchiveItem, str, str | None]]:
    """The unit's items matching every criterion given: part of the 档号, a word of the title or the 文号,
    the 年度, the retention in force. ``(item, title, 文号)``, newest first, at most ``SEARCH_LIMIT``."""
    query = _with_titles(select(ArchiveItem, _title(), func.coalesce(Document.doc_number,
                                                                      ExternalDocument.sender_number))) \
        .where(ArchiveItem.unit_id == unit_id)
    if code:
        query = query.where(ArchiveItem.archive_code.contains(code, autoescape=True))
    for word in words.split():
        query = query.where(or_(_title().contains(word, autoescape=True),
                                Document.doc_number.contains(word, autoescape=True)))
    if year is not None:
        query = query.where(ArchiveItem.year == year)
    if retention is not None:
        query = query.where(_in_force() == retention.value)
    rows = session.execute(query.order_by(ArchiveItem.year.desc(), ArchiveItem.archive_code.desc())
                           .limit(SEARCH_LIMIT)).all()
    return [(item, title, number) for item, title, number in rows]


def readable_item(session: Session, item_id: int | None, person_id: int) -> ArchiveItem:
    """The item if the person is an archivist of its unit; NotFound otherwise."""
    unit_id = archive_unit(session, person_id, Role.ARCHIVIST)
    item = session.get(ArchiveItem, item_id) if item_id is not None else None
    if item is None or item.unit_id != unit_id:
        raise NotFound(NO_ITEM)
    return item


def title_of(session: Session, item: ArchiveItem) -> str:
    return session.scalar(_with_titles(select(_title())).where(ArchiveItem.id == item.id)) or ""


def is_expired(item: ArchiveItem, today: date) -> bool:
    """Its retention in force has run out: 年度 + years < this year (never for 永久 or a destroyed item)."""
    years = item.kept_for.years
    return item.destroyed_at is None and years is not None and item.year + years < today.year


def _pending(session: Session, item_id: int) -> ArchiveAppraisal | None:
    return session.scalar(select(ArchiveAppraisal).where(ArchiveAppraisal.item_id == item_id,
                                                         ArchiveAppraisal.state == AppraisalState.PROPOSED))


def expired(session: Session, unit_id: int) -> list[tuple[ArchiveItem, str]]:
    """The unit's items due for appraisal (expired, not yet proposed on), oldest first, with their titles."""
    this_year = clock.local_today().year
    # 年度 + years < this year, per retention, so the database narrows a large archive to what has run out.
    ran_out = or_(*[(_in_force() == r.value) & (ArchiveItem.year < this_year - r.years) for r in Retention if r.years])
    query = _with_titles(select(ArchiveItem, _title())).where(
        ArchiveItem.unit_id == unit_id, ArchiveItem.destroyed_at.is_(None), ran_out,
        ~select(ArchiveAppraisal.id).where(ArchiveAppraisal.item_id == ArchiveItem.id,
                                           ArchiveAppraisal.state == AppraisalState.PROPOSED).exists())
    return [(item, title) for item, title in
            session.execute(query.order_by(ArchiveItem.year, ArchiveItem.archive_code)).all()]


def appraisals(session: Session, unit_id: int, *states: AppraisalState,
               action: AppraisalAction | None = None) -> list[ArchiveAppraisal]:
    """The unit's appraisals in ``states``, oldest first; ``action`` narrows to keeps or destructions."""
    query = select(ArchiveAppraisal).where(ArchiveAppraisal.unit_id == unit_id, ArchiveAppraisal.state.in_(states))
    if action is not None:
        query = query.where(ArchiveAppraisal.action == action)
    return list(session.scalars(query.order_by(ArchiveAppraisal.proposed_at, ArchiveAppraisal.id)))


def destruction_records(session: Session, unit_id: int) -> list[ArchiveAppraisal]:
    """销毁清册: every approved destruction of the unit, in the order they were approved."""
    return sorted(appraisals(session, unit_id, AppraisalState.APPROVED, action=AppraisalAction.DESTROY),
                  key=lambda a: (a.decided_at, a.id))


def propose(session: Session, item_id: int | None, person_id: int, action: str, new_retention: str | None,
            reason: str | None) -> ArchiveAppraisal:
    """An archivist's 鉴定意见 on an expired item: keep it with a longer retention, or destroy it.

    Refused (in words, nothing written) when the item is not expired, already has a proposal waiting, the
    action is not one offered, a kept item's retention is not longer than the one in force, or the reason
    is empty, too long or has control characters. The unit's leaders are told.
    """
    item = readable_item(session, item_id, person_id)
    today = clock.local_today()
    if not is_expired(item, today):
        raise Refused(f"{item.archive_code} 的保管期限（{item.kept_for.label}）尚未届满，不需鉴定")
    if _pending(session, item.id) is not None:
        raise Refused(f"{item.archive_code} 已有待审批的鉴定意见")
    if action not in {a.value for a in AppraisalAction}:
        raise Refused("鉴定结论应为“延长保管期限”或“销毁”")
    chosen = AppraisalAction(action)
    retention = None
    if chosen is AppraisalAction.KEEP:
        if new_retention not in {r.value for r in Retention}:
            raise Refused("延长保管期限时请选择新的保管期限")
        retention = Retention(new_retention)
        if retention.years is not None and item.year + retention.years < today.year:
            raise Refused(f"新的保管期限（{retention.label}）应长于已届满的期限，请选择更长的期限")
    elif new_retention:
        raise Refused("销毁时不设新的保管期限")
    appraisal = ArchiveAppraisal(
        item_id=item.id, unit_id=item.unit_id, archive_code=item.archive_code, title=title_of(session, item)[:300],
        retention=item.kept_for, action=chosen, new_retention=retention,
        reason=clean(reason, field="鉴定理由", max_length=REASON_MAX, lines=True), proposed_by_id=person_id,
        proposed_at=clock.now(), state=AppraisalState.PROPOSED)
    session.add(appraisal)
    session.flush()
    audit.record(session, "archive.appraisal_proposed", actor_id=person_id, unit_id=item.unit_id,
                 code=item.archive_code, appraisal_id=appraisal.id, proposal=chosen.value)
    tell(session, [p for p in holders(session, Role.LEADER, item.unit_id) if p != person_id],
         f"档案鉴定待审批：{item.archive_code}（{chosen.label}）", kind="archive_appraisal",
         reason="保管期限届满的档案鉴定", key=f"archive_appraisal:{appraisal.id}")
    return appraisal


def decide(session: Session, appraisal_id: int | None, person_id: int, approve: bool,
           note: str | None = None) -> ArchiveAppraisal:
    """A leader of the unit approves or rejects a proposal; the proposer never decides their own.

    Approving a keep sets the item's retention in force; approving a destruction marks the item destroyed
    and queues the erasing of its own files (after commit). The proposer is told.
    """
    appraisal = session.get(ArchiveAppraisal, appraisal_id) if appraisal_id is not None else None
    if appraisal is None or archive_unit(session, person_id, Role.LEADER) != appraisal.unit_id:
        raise NotFound(NO_APPRAISAL)
    if appraisal.state is not AppraisalState.PROPOSED:
        raise Refused(f"这条鉴定意见已于 {clock.local(appraisal.decided_at):%Y-%m-%d} 审批（{appraisal.state.label}）")
    if appraisal.proposed_by_id == person_id:
        raise Refused("提出鉴定意见的人不能审批自己的意见")
    appraisal.decision_note = clean(note, field="审批意见", max_length=REASON_MAX, required=False, lines=True)
    appraisal.state = AppraisalState.APPROVED if approve else AppraisalState.REJECTED
    appraisal.decided_by_id, appraisal.decided_at = person_id, clock.now()
    item = session.get(ArchiveItem, appraisal.item_id)
    if approve and appraisal.action is AppraisalAction.KEEP:
        item.appraised_retention = appraisal.new_retention
    elif approve:
        item.destroyed_at = appraisal.decided_at
        erase = [sha for sha in (item.copy_sha256, item.record_sha256) if sha]
        enqueue(session, "archive.erase", f"archive.erase:{item.id}", {"item_id": item.id, "files": erase})
    audit.record(session, "archive.destroyed" if approve and appraisal.action is AppraisalAction.DESTROY
                 else "archive.appraisal_decided", actor_id=person_id, unit_id=appraisal.unit_id,
                 code=appraisal.archive_code, appraisal_id=appraisal.id, approved=approve)
    tell(session, [appraisal.proposed_by_id],
         f"档案鉴定{'已批准' if approve else '未批准'}：{appraisal.archive_code}（{appraisal.action.label}）",
         kind="archive_appraisal", reason="档案鉴定审批结果", key=f"archive_appraisal_decided:{appraisal.id}")
    return appraisal


@consumer("archive.erase")
def erase_files(job: JobContext, session: Session, item: Outbox) -> None:
    """Erase a destroyed item's own files; a file already gone is no error (delivery is at least once)."""
    for sha256 in item.payload["files"]:
        job.files.erase(session, sha256)
    audit.record(session, "archive.files_erased", item_id=item.payload["item_id"], files=item.payload["files"])

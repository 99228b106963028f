"""Documents from outside Gongwen and on paper (外来文、纸质来文): registered by a clerk, then handled like any other.

Units without a typesetting and seal system send a scanned PDF and an editable file (txt, doc, wps);
paper documents from the central government, ministries and other provinces are scanned by the 机要
office. A clerk registers the scan, the editable file where given, the sender organ, its number, date,
urgency and a non-classified level; that starts the ordinary incoming process at its registration
point (``register_external`` in ``workflows/incoming.bpmn``), so routing, proposing, instructing,
handling, circulating and archiving are the same steps as for a document signed for.

The scan is made searchable and its text taken off the request path, by the sweep (every 30 s, or a
Celery worker): OCR of the scan gives the searchable PDF; the text is the editable file's when it
has words, else the OCR's. A failure leaves the document registered with a note in Chinese.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.background import JobContext, periodic
from engine.config import option
from engine.errors import Refused
from engine.files import FileStore
from engine.models import Role, RoleGrant
from engine.organisation import works_in
from engine.registry import instance_search
from engine.runtime import Runtime
from engine.text import clean

from ..documents.attachments import size_text
from ..documents.drafting import ensure_unclassified
from ..documents.models import CLASSIFICATIONS, Urgency
from .models import ExternalDocument, IncomingRecord, TextSource
from .text import EDITABLE_KINDS, SCAN_TYPES, TextFailed, as_pdf, editable_kind, editable_text, ocr, scan_type

log = logging.getLogger(__name__)

# The largest scan and editable file accepted, in bytes: a 30-page scan at 300 dpi fits.
EXTERNAL_MAX_BYTES = option("external_max_bytes", "GONGWEN_EXTERNAL_MAX_BYTES", int, 40 * 1024 * 1024)
# How many documents one sweep makes searchable: OCR takes seconds a page, the rest wait for the next.
_PER_SWEEP = 3
# An unexpected error (not OCR's or the editable file's own, which are noted at once) is tried again on the
# next sweeps, after the documents tried fewer times; after this many the document is left with a note.
MAX_TEXT_FAILURES = 3


@dataclass(frozen=True)
class Received:
    """A file as it came in: its bytes and the name its sender gave it (which tells .doc from .wps)."""

    content: bytes
    filename: str


def clerk_units(session: Session, person_id: int) -> list[int]:
    """The units in which the person is a clerk (收发员): where they may register a document from outside."""
    return sorted(set(session.scalars(select(RoleGrant.unit_id).where(RoleGrant.person_id == person_id,
                                                                        RoleGrant.role == Role.CLERK))))


def _file(upload: Received | None, what: str, max_bytes: int) -> Received | None:
    if upload is None or not upload.content:
        if upload is not None and upload.filename:
            raise Refused(f"{what}是空文件")
        return None
    if len(upload.content) > max_bytes:
        raise Refused(f"{what}太大（{size_text(len(upload.content))}），不能超过 {size_text(max_bytes)}")
    return upload


def _fields(values: dict[str, str]) -> dict:
    written = (values.get("written_on") or "").strip()
    try:
        written_on = date.fromisoformat(written) if written else None
    except ValueError:
        raise Refused("成文日期应为“2026-12-01”这样的日期") from None
    if written_on is not None and not (date(1949, 10, 1) <= written_on <= clock.local_today()):
        raise Refused("成文日期不能晚于今天，也不能早于1949年10月1日")
    try:
        urgency = Urgency(values.get("urgency") or "normal")
    except ValueError:
        raise Refused("紧急程度只能是平件、加急或特急") from None
    classification = (values.get("classification") or "").strip() or next(iter(CLASSIFICATIONS))
    ensure_unclassified(classification, gate="外来文登记")
    return {"title": clean(values.get("title"), field="标题", max_length=200),
            "sender_organ": clean(values.get("sender_organ"), field="来文机关", max_length=100),
            "sender_number": clean(values.get("sender_number"), field="来文字号", max_length=60, required=False)
            or None,
            "written_on": written_on, "urgency": urgency, "classification": classification}


def register_external(runtime: Runtime, session: Session, files: FileStore, *, person_id: int, unit_id: int,
                      values: dict[str, str], scan: Received | None, editable: Received | None = None,
                      paper: bool = False, max_bytes: int) -> ExternalDocument:
    """Register a document from outside for ``unit_id`` and start its handling; Refused (nothing saved) when
    the person is no clerk there, a field is wrong, or a file is missing, empty, too big or not what it says.

    ``values``: title, sender_organ, sender_number, written_on (ISO date), urgency, classification.
    The scan must be a PDF, PNG, JPEG or TIFF by its bytes; the editable file a .docx, .doc, .wps or .txt.
    """
    if unit_id not in clerk_units(session, person_id):
        raise Refused("只有本单位的收发员可以登记外来文")
    fields = _fields(values)
    scan = _file(scan, "扫描件", max_bytes)
    if scan is None:
        raise Refused("请上传来文的扫描件（PDF 或图片）")
    if (scan_media := scan_type(scan.content)) is None:
        raise Refused(f"扫描件只能是 {'、'.join(SCAN_TYPES.values())} 文件（按文件内容识别）")
    editable = _file(editable, "可编辑文档", max_bytes)
    kind = editable_kind(editable.content, editable.filename) if editable else None
    if editable is not None and kind is None:
        raise Refused(f"可编辑文档只能是 {'、'.join(EDITABLE_KINDS.values())} 文件（按文件内容识别）")
    now = clock.now()
    external = ExternalDocument(
        unit_id=unit_id, paper=paper, **fields, scan_sha256=files.put(session, scan.content, scan_media),
        scan_media_type=scan_media, editable_sha256=files.put(session, editable.content, "application/octet-stream")
        if editable else None, editable_kind=kind, registered_by_id=person_id, registered_at=now)
    session.add(external)
    session.flush()
    external.instance_id = runtime.start(
        "incoming", owning_unit_id=unit_id, initiator_id=person_id, title=external.title,
        priority=external.urgency.rank, session=session,
        data={"document_id": None, "external_document_id": external.id,
              "arrival": {"title": external.title, "urgency": external.urgency.value}})
    audit.record(session, "external.register", actor_id=person_id, unit_id=unit_id, instance_id=external.instance_id,
                 external_document_id=external.id, paper=paper, editable_kind=kind)
    return external


def extract_text(job: JobContext, external_id: int) -> None:
    """Make one registered document searchable and take its text, outside any transaction; write what came of it.

    Harmless twice: a document whose text is done is left alone.
    """
    with job.db.session() as session:
        external = session.get(ExternalDocument, external_id)
        if external is None or external.text_done_at is not None:
            return
        scan = job.files.get(external.scan_sha256), external.scan_media_type
        editable = (job.files.get(external.editable_sha256), external.editable_kind) \
            if external.editable_sha256 else None
    notes, searchable, text, source = [], None, None, None
    if editable is not None:
        try:
            text, source = editable_text(*editable) or None, TextSource(editable[1])
        except TextFailed as err:
            notes.append(str(err))
    try:
        searchable, recognised = ocr(*scan)
        if not text:
            text, source = recognised or None, TextSource.OCR
    except TextFailed as err:
        notes.append(str(err))
    if not text and not notes:
        notes.append("扫描件中没有识别出文字")
    with job.db.write() as session:
        external = session.get(ExternalDocument, external_id)
        if external.text_done_at is not None:
            return
        external.searchable_sha256 = job.files.put(session, searchable, "application/pdf") if searchable else None
        external.text, external.text_source = text, source if text else None
        external.text_note = "；".join(notes)[:300] or None
        external.text_done_at = clock.now()
        audit.record(session, "external.text", unit_id=external.unit_id, instance_id=external.instance_id,
                     external_document_id=external.id, source=external.text_source, failed=bool(notes))


@periodic(every=timedelta(seconds=30))
def extract_pending(job: JobContext) -> None:
    """The sweep's part: make the oldest registered documents without their text searchable."""
    with job.db.session() as session:
        pending = list(session.scalars(select(ExternalDocument.id).where(ExternalDocument.text_done_at.is_(None))
                                       .order_by(ExternalDocument.text_failures, ExternalDocument.id)
                                       .limit(_PER_SWEEP)))
    for external_id in pending:
        try:
            extract_text(job, external_id)
        except Exception:  # one bad file must not hold up the others
            log.exception("text of external document %s failed", external_id)
            _count_failure(job, external_id)


def _count_failure(job: JobContext, external_id: int) -> None:
    """One more unexpected failure; at :data:`MAX_TEXT_FAILURES` the document is left without its text, with a
    note, instead of being tried every sweep for ever."""
    with job.db.write() as session:
        external = session.get(ExternalDocument, external_id)
        external.text_failures += 1
        if external.text_failures < MAX_TEXT_FAILURES:
            return
        external.text_note = f"文字提取出错 {external.text_failures} 次，已停止；扫描件仍可查看，请系统管理员查看日志"
        external.text_done_at = clock.now()
        audit.record(session, "external.text", unit_id=external.unit_id, instance_id=external.instance_id,
                     external_document_id=external.id, source=None, failed=True)


def archival_pdf(files: FileStore, external: ExternalDocument) -> bytes:
    """What is archived of a document from outside: its searchable scan, else the scan as registered, as a PDF."""
    if external.searchable_sha256:
        return files.get(external.searchable_sha256)
    return as_pdf(files.get(external.scan_sha256), external.scan_media_type)


def external_for_instance(session: Session, instance_id: int) -> ExternalDocument | None:
    """The document from outside an incoming instance handles, if it handles one."""
    return session.scalar(select(ExternalDocument).where(ExternalDocument.instance_id == instance_id))


def can_read_external(session: Session, external: ExternalDocument, person_id: int) -> bool:
    """Whether a person may see a document from outside: they work in the unit that registered it.

    Administrators' roles reach no business document.
    """
    return works_in(session, person_id, {external.unit_id})


@instance_search
def external_matching(text: str):
    """Incoming instances of documents from outside whose text (OCR'd or from the editable file), title,
    sender organ or number contains ``text``."""
    return select(ExternalDocument.instance_id).where(or_(
        ExternalDocument.text.contains(text), ExternalDocument.sender_organ.contains(text),
        ExternalDocument.sender_number.contains(text)))


def incoming_number(session: Session, external: ExternalDocument) -> str | None:
    """The 收文号 the register gave it, once registered."""
    return session.scalar(select(IncomingRecord.incoming_number)
                          .where(IncomingRecord.external_document_id == external.id))

"""The document as laid out: the red-header layout of a document, its preview, typesetting, corrections."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Refused
from engine.files import FileStore
from engine.models import Person, StoredFile, Unit, UnitKind
from engine.registry import HandlerContext, handler

from .drafting import recipients, unit_names
from .models import DocStatus, DocType, Document, NumberSeries, Urgency
from .numbering import document_series
from .paper import assign_copies
from .revisions import paragraphs, record_completed
from .typesetting import RENDERERS
from .typesetting.binding import image_as_pdf
from .typesetting.redhead import RedHeadDocument

# The official form documents are issued in; an OFD renderer would be chosen here.
OUTPUT_FORMAT = "pdf"
_NAME_ONLY = {DocType.LETTER, DocType.MINUTES}  # 信函 and 纪要 carry the organ's name without "文件"


def _printing_office(session: Session, unit: Unit) -> Unit:
    if unit.kind == UnitKind.OFFICE:
        return unit
    office = session.scalar(select(Unit).where(Unit.parent_id == unit.id, Unit.kind == UnitKind.OFFICE))
    return office or unit


def _bound(session: Session, files: FileStore | None, document: Document) -> list[bytes | str | None]:
    """The attachments, by position, as the renderer binds them after the body (GB/T 9704 7.3.7)
    so that the seal covers them: PDFs as they are, images as a page, texts typeset as 附件 pages;
    OFD and Word files stay separate files. Nothing without a file store."""
    if files is None:
        return []
    bound: list[bytes | str | None] = []
    for attachment in document.attachments:
        media_type = session.get(StoredFile, attachment.sha256).media_type
        if media_type == "application/pdf":
            bound.append(files.get(attachment.sha256))
        elif media_type.startswith("image/"):
            bound.append(image_as_pdf(files.get(attachment.sha256)))
        elif media_type == "text/plain":
            bound.append(_decoded(files.get(attachment.sha256)))
        else:
            bound.append(None)
    return bound


def _decoded(content: bytes) -> str:
    """A text attachment's characters: UTF-8, else GB 18030, the two encodings it was accepted in."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("gb18030")


def _form(session: Session, document: Document, series: NumberSeries | None) -> dict:
    """What a 明电 or a publication's series changes in the layout: the head, and what it shows."""
    if series is not None and series.telegram:
        # 签批盘号: the leaders who signed it off, known once they have
        signers = [session.get(Person, i.signed_off_by_id).name for i in document.issuers if i.signed_off_by_id]
        return {"form": "telegram", "signers": signers}
    if series is not None and series.publication:
        issue = f"第{document.number_seq}期（总第{document.issue_total}期）" if document.issue_total else ""
        return {"form": "publication", "issuer_marks": [series.name], "issue": issue}
    return {}


def layout(session: Session, document: Document, issuer_ids: list[int] | None = None,
           attachments: list[str] | None = None, files: FileStore | None = None) -> RedHeadDocument:
    """The document as the renderer sees it (for a preview, a draft not yet saved): a red-header 文件,
    or a 明传电报 or a publication's issue by its series; with ``files``, its PDF attachments are bound
    into it. A document with 份数 keeps the 份号 line free for the copies' stamps (``paper``)."""
    units = [session.get(Unit, i) for i in (issuer_ids or [i.unit_id for i in document.issuers])]
    form = _form(session, document, document_series(session, document, units[0].id))
    suffix = "" if document.doc_type in _NAME_ONLY else "文件"
    bound = _bound(session, files, document) if attachments is None else []
    attachments = [a.name for a in document.attachments] if attachments is None else attachments
    values = dict(
        issuer_marks=[f"{u.name}{suffix}" for u in units],
        doc_number=document.doc_number or "",
        title=document.title,
        main_to=document.main_to_text,
        body=list(document.body),
        signing_organs=[u.name for u in units],
        date=document.signing_date or clock.local_today(),
        attachments=attachments,
        attachment_files=bound,
        copy_number="" if document.print_run else document.copy_number,
        urgency=document.urgency.mark,
        signers=list(document.signers),
        note=document.note,
        cc=document.cc_text or None,
        printed_by=_printing_office(session, units[0]).name,
        printed_on=document.printed_on or clock.local_today(),
    )
    return RedHeadDocument(**{**values, **form})


def preview(session: Session, document: Document, values: dict) -> bytes:
    """The red-header PDF of a draft as the drafter has filled it in so far; nothing is saved."""
    main_to = recipients(session, values.get("main_to", []), values.get("main_to_lists", []),
                         document.issuing_unit_id)
    cc = recipients(session, values.get("cc", []), values.get("cc_lists", []), document.issuing_unit_id)
    draft = Document(doc_type=DocType(values["doc_type"]), urgency=Urgency(values.get("urgency", "normal")),
                     title=values.get("title") or "（标题）", main_to_text=unit_names(session, main_to),
                     cc_text=unit_names(session, cc), body=[p for p in values.get("body", "").splitlines() if p],
                     note=values.get("note") or None, signers=[], copy_number=None, doc_number=None,
                     series_id=values.get("series_id"), print_run=values.get("print_run") or 0)
    issuers = list(dict.fromkeys([document.issuing_unit_id, *values.get("co_issuers", [])]))
    return RENDERERS[OUTPUT_FORMAT].render(layout(session, draft, issuers, [a.name for a in document.attachments])).pdf


@handler("typeset")
def typeset(ctx: HandlerContext, document_id: int) -> dict:
    """Render the numbered document in its official form (the GB/T 9704 PDF: 文件, 明传电报 or a publication's
    issue) and store it; a document with 份数 gets its copies' 份号."""
    document = ctx.session.get(Document, document_id)
    if document.direction.value == "upward" and not document.signers:
        raise Refused("上行文须标注签发人，但没有签发记录")
    document.printed_on = clock.local_today()
    renderer = RENDERERS[OUTPUT_FORMAT]
    rendered = renderer.render(layout(ctx.session, document, files=ctx.files))
    document.pdf_sha256 = ctx.files.put(ctx.session, rendered.pdf, renderer.media_type)
    document.seal_boxes = [asdict(box) for box in rendered.seal_boxes]
    document.status = DocStatus.TYPESET
    assign_copies(ctx.session, document)
    ctx.audit("document.typeset", document_id=document.id, pdf=document.pdf_sha256, pages=rendered.pages)
    return {"pdf": document.pdf_sha256, "pages": rendered.pages}


@handler("apply_correction")
def apply_correction(ctx: HandlerContext, document_id: int, correction: dict) -> dict:
    """Proofreading found errors in the wording: correct title and body, keep number and recipients."""
    document = ctx.session.get(Document, document_id)
    document.title = correction["title"].strip()
    document.body = paragraphs(correction["body"])
    document.updated_at = clock.now()
    record_completed(ctx, document)  # 留痕 keeps the corrected wording as a revision too
    ctx.audit("document.correct", document_id=document.id, actor_id=correction.get("completed_by"))
    return {"corrected_at": ctx.now().isoformat()}

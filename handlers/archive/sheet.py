"""The 发文稿纸 of an own outgoing document as an A4 PDF for its archive item.

The same record as the print page (``web/printing.py``, ``print/sign_off.html``): the document's particulars
and every sign-off, countersign, review and proofreading opinion with 姓名（职务）, date and time and the
handwritten signature, from the same rows (``handlers.opinions.trail.SIGN_OFF_ROWS``). It is drawn once, when
the item is archived, and kept by its hash: the record of how the unit worked the document as it stood then.
Fonts are the documents' own TrueType faces, embedded, so the package's usability check passes.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Table, TableStyle
from sqlalchemy.orm import Session

from engine import clock
from engine.files import FileStore
from engine.models import Department, Person

from ..documents.models import CLASSIFICATIONS, Document
from ..documents.typesetting.fonts import load_fonts
from ..opinions.trail import SIGN_OFF_ROWS, TrailEntry, opinion_trail, sheet_rows

_RED = colors.Color(0.8, 0, 0)


def _when(entry: TrailEntry) -> str:
    return clock.local(entry.step.completed_at).strftime("%Y-%m-%d %H:%M")


def _opinions(entries: list[TrailEntry], files: FileStore, style: ParagraphStyle) -> list:
    """Each opinion: the decision and words, then 姓名（职务） and when, and the signature drawn with it."""
    cell: list = []
    for e in entries:
        words = "。".join(w for w in (e.decision, e.said) if w)
        cell.append(Paragraph(escape(words) or "—", style))
        cell.append(Paragraph(f"{escape(e.who)}　{_when(e)}", ParagraphStyle("by", parent=style, alignment=2)))
        if e.signature:
            picture = Image(io.BytesIO(files.get(e.signature)))
            scale = min(40 * mm / picture.imageWidth, 12 * mm / picture.imageHeight)
            picture.drawWidth, picture.drawHeight = picture.imageWidth * scale, picture.imageHeight * scale
            picture.hAlign = "RIGHT"
            cell.append(picture)
    return cell or [Paragraph("", style)]


def sign_off_sheet(session: Session, files: FileStore, document: Document) -> bytes:
    """The 发文稿纸 of ``document`` (an outgoing one with its process) as a one- or two-page A4 PDF."""
    fonts = load_fonts()
    body = ParagraphStyle("body", fontName=fonts.fangsong, fontSize=11, leading=15, wordWrap="CJK")
    head = ParagraphStyle("head", parent=body, textColor=_RED)
    title = ParagraphStyle("title", fontName=fonts.hei, fontSize=20, leading=28, alignment=1, textColor=_RED,
                           spaceAfter=6 * mm)
    trail = opinion_trail(session, document.instance_id)
    issuers = [i.unit.name for i in document.issuers]
    drafter = session.get(Person, document.drafter_id)
    department = session.get(Department, document.drafting_department_id) if document.drafting_department_id \
        else None
    drafted = f"{department.name} " if department else ""
    drafted += drafter.name + (f"（{drafter.job_title}）" if drafter.job_title else "")
    drafted += f"　{_when(trail[0])}" if trail else ""

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text or ""), style)

    rows = [[p("发文字号", head), p(document.doc_number or ""), p("密级", head),
             p(CLASSIFICATIONS.get(document.classification, document.classification))],
            [p("紧急程度", head), p(document.urgency.label), p("成文日期", head),
             p(str(document.signing_date or ""))]]
    rows += [[p(label, head), _opinions(entries, files, body), "", ""]
             for label, entries in sheet_rows(trail, SIGN_OFF_ROWS)]
    rows += [[p(label, head), p(value), "", ""] for label, value in (
        ("发文机关", "、".join(issuers)), ("拟稿", drafted), ("标题", document.title),
        ("主送", document.main_to_text), ("抄送", document.cc_text))]
    table = Table(rows, colWidths=[24 * mm, 63 * mm, 24 * mm, 63 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.6, _RED), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               *[("SPAN", (1, r), (3, r)) for r in range(2, len(rows))]]))
    buffer = io.BytesIO()
    name = issuers[0] if issuers else ""
    SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=20 * mm,
                      bottomMargin=20 * mm, title=f"{name}发文稿纸：{document.title}", invariant=1
                      ).build([p(f"{name}发文稿纸", title), table])
    return buffer.getvalue()

"""Archiving (归档) under DA/T 22: archive codes, the archive step and the archived copy.

The item (件) is the unit of archiving. Its archive code is
``全宗号-WS·年度-保管期限-机构代码-件号`` (e.g. ``Z109-WS·2026-Y-BGS-0001``); item numbers are
allocated like document numbers, so there are no gaps. The archived copy is the sealed
PDF with the archive stamp (全宗号, 年度, 件号, 机构, 保管期限, 页数) in the top margin of its
first page, added as the appearance of an archive timestamp in an incremental update: the
sealed bytes are its unchanged prefix, so every seal in it still verifies.

Packages and the four-properties check are :mod:`handlers.archive.packages`.
"""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.config import Settings
from engine.models import Department, Unit
from engine.registry import HandlerContext, handler

from ..documents.models import Document
from ..documents.numbering import allocate
from ..documents.typesetting.fonts import load_fonts
from ..incoming.external import archival_pdf
from ..incoming.models import ExternalDocument, IncomingRecord
from ..seals.pades import archive_timestamp
from ..seals.register import long_term_material, timestamper
from .models import ArchiveItem, Retention
from .sheet import sign_off_sheet

CODE = re.compile(r"^(?P<fonds>[A-Za-z0-9]+)-WS·(?P<year>\d{4})-(?P<retention>Y|D30|D10)-(?P<org>[A-Za-z0-9]+)-"
                  r"(?P<number>\d{4})$")


def fonds_of(unit: Unit) -> str:
    return unit.fonds_code or f"Z{unit.id:03d}"


# The 归档章 is a 2 × 3 grid of 16 × 6 mm cells, its top 8 mm below the page's top edge.
_CELL_W, _CELL_H, _TOP = 16 * mm, 6 * mm, 8 * mm
_LINE = 0.6


def stamp_picture(fields: list[tuple[str, str]]) -> bytes:
    """The 归档章 in red: a one-page PDF exactly the size of the 2 × 3 grid of ``(label, value)`` cells."""
    font = load_fonts().song
    width, height = 3 * _CELL_W + _LINE, 2 * _CELL_H + _LINE
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=(width, height), initialFontName=font, invariant=1)
    c.setStrokeColorRGB(0.85, 0, 0)
    c.setFillColorRGB(0.85, 0, 0)
    c.setLineWidth(_LINE)
    for i, (label, value) in enumerate(fields):
        col, row = i % 3, i // 3
        x, y = _LINE / 2 + col * _CELL_W, _LINE / 2 + (1 - row) * _CELL_H
        c.rect(x, y, _CELL_W, _CELL_H)
        c.setFont(font, 5)
        c.drawString(x + 1 * mm, y + _CELL_H - 2.2 * mm, label)
        c.setFont(font, 7)
        c.drawCentredString(x + _CELL_W / 2, y + 1.2 * mm, value)
    c.save()
    return buffer.getvalue()


def stamp_fields(item: ArchiveItem, org_name: str) -> list[tuple[str, str]]:
    return [("全宗号", item.fonds_code), ("年度", str(item.year)), ("件号", f"{item.item_number:04d}"),
            ("机构", org_name), ("保管期限", item.retention.label), ("页数", str(item.pages))]


def archived_copy(session: Session, settings: Settings, sealed_pdf: bytes, fields: list[tuple[str, str]]) -> bytes:
    """The sealed PDF, unchanged, plus the 归档章 centred in its first page's top margin (PAdES B-LTA).

    The stamp is the visible appearance of an archive (document) timestamp added as an
    incremental update, with today's certificates and CRLs in the DSS: every seal keeps
    verifying, and the timestamp proves the whole file, seals and validation data included,
    existed when it was archived.
    """
    page = PdfReader(io.BytesIO(sealed_pdf)).pages[0]
    page_width, page_top = float(page.mediabox.width), float(page.mediabox.top)
    width, height = 3 * _CELL_W + _LINE, 2 * _CELL_H + _LINE
    left, top = (page_width - width) / 2, page_top - _TOP
    return archive_timestamp(sealed_pdf, timestamper=timestamper(session, settings), stamp_pdf=stamp_picture(fields),
                             page=0, box=(left, top - height, left + width, top), field_name="Archive-1",
                             long_term=long_term_material(session))


@handler("archive_document")
def archive_document(ctx: HandlerContext, document_id: int | None, archiving: dict) -> dict:
    """The archivist chose the retention: give the item its code and make the stamped archived copy.

    ``document_id`` None: the incoming record's external document, whose copy is its searchable scan.
    In an incoming process the 机构 is the lead department; in the issuing unit's own archiving of an
    outgoing document (no incoming record) it is the drafting department, and the item keeps the
    document's 发文稿纸 as a PDF besides.
    """
    document = ctx.session.get(Document, document_id) if document_id is not None else None
    unit = ctx.session.get(Unit, ctx.owning_unit_id)
    record = ctx.session.scalar(select(IncomingRecord).where(IncomingRecord.instance_id == ctx.instance_id))
    department_id = record.lead_department_id if record else document.drafting_department_id
    department = ctx.session.get(Department, department_id) if department_id else None
    retention = Retention(archiving["retention"])
    org = (department.code if department and department.code else "BGS")
    year = ((document and document.signing_date) or clock.local_today()).year
    fonds = fonds_of(unit)
    number = allocate(ctx.session, f"档:{fonds}:{retention.value}:{org}", year)
    sealed = ctx.files.get(document.sealed_sha256) if document is not None else \
        archival_pdf(ctx.files, ctx.session.get(ExternalDocument, record.external_document_id))
    item = ArchiveItem(unit_id=unit.id, document_id=document_id, instance_id=ctx.instance_id, fonds_code=fonds,
                       year=year, retention=retention, org_code=org, item_number=number,
                       archive_code=f"{fonds}-WS·{year}-{retention.value}-{org}-{number:04d}",
                       pages=len(PdfReader(io.BytesIO(sealed)).pages), copy_sha256="",
                       archived_at=ctx.now(), archived_by_id=archiving["completed_by"])
    copy = archived_copy(ctx.session, ctx.settings, sealed,
                         stamp_fields(item, department.name if department else unit.name))
    item.copy_sha256 = ctx.files.put(ctx.session, copy, "application/pdf")
    if record is None:
        item.record_sha256 = ctx.files.put(ctx.session, sign_off_sheet(ctx.session, ctx.files, document),
                                           "application/pdf")
    ctx.session.add(item)
    if record is not None:
        record.archived_at = item.archived_at
    ctx.audit("archive.item", actor_id=archiving["completed_by"], document_id=document_id, code=item.archive_code)
    return {"archive_code": item.archive_code}

"""The receiving unit's register of received documents (收文登记)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, str_enum

from ..documents.models import Urgency

UNARCHIVED = text("handled_at IS NOT NULL AND archived_at IS NULL")
UNIT_SERIES, BOX_SERIES = text("department_id IS NULL"), text("department_id IS NOT NULL")


class IncomingRecord(Base):
    """A received document in the receiving unit's register (收文登记)."""

    __tablename__ = "incoming_record"
    __table_args__ = (
        # 收文号 without gaps or twins: the unit's series, and each department box's (handlers.forwarding.boxes)
        Index("uq_incoming_record_unit_seq", "unit_id", "year", "seq", unique=True,
              sqlite_where=UNIT_SERIES, postgresql_where=UNIT_SERIES),
        Index("uq_incoming_record_box_seq", "department_id", "year", "seq", unique=True,
              sqlite_where=BOX_SERIES, postgresql_where=BOX_SERIES),
        Index("ix_incoming_record_unit_registered", "unit_id", "registered_at"),  # supervision: a period's register
        # and its handled documents, archived or not; both cover what the figures read, or SQLite looks
        # each row up in the table (and, without the archive time, prefers the first to the second)
        Index("ix_incoming_record_unit_handled", "unit_id", "handled_at", "archived_at"),
        # supervision's backlog: handled, not yet archived
        Index("ix_incoming_record_unarchived", "unit_id", "handled_at", "archived_at", sqlite_where=UNARCHIVED,
              postgresql_where=UNARCHIVED),
        # a Gongwen document signed for (with its receipt), or a document from outside registered by hand
        CheckConstraint("(document_id IS NULL) <> (external_document_id IS NULL)", name="incoming_record_one_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("receipt.id"))
    external_document_id: Mapped[int | None] = mapped_column(ForeignKey("external_document.id"), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))  # registered in its box
    incoming_number: Mapped[str] = mapped_column(String(40))
    registered_at: Mapped[datetime] = mapped_column()
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    assisting_department_ids: Mapped[list] = mapped_column(JSON, default=list)
    handle_due: Mapped[datetime | None] = mapped_column()
    handled_at: Mapped[datetime | None] = mapped_column()
    result: Mapped[str | None] = mapped_column(Text)
    reply_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    archived_at: Mapped[datetime | None] = mapped_column()  # the archive item's time, kept here for supervision


class TextSource(enum.StrEnum):
    """Where an external document's text came from: OCR of its scan, or its editable file."""

    OCR = "ocr"
    DOCX = "docx"
    DOC = "doc"
    WPS = "wps"
    TXT = "txt"

    @property
    def label(self) -> str:
        return {"ocr": "扫描件文字识别（OCR）", "docx": "可编辑文档（DOCX）", "doc": "可编辑文档（DOC）",
                "wps": "可编辑文档（WPS）", "txt": "可编辑文档（TXT）"}[self.value]


class ExternalDocument(Base):
    """A document from outside Gongwen (a unit without a typesetting and seal system) or on paper (scanned by
    the 机要 office), registered by a clerk: the scan, the editable file where given, and their text.

    Not a :class:`Document`: its sender has no unit here and it carries no electronic seal. Only
    non-classified documents are registered (``classification`` is one of ``CLASSIFICATIONS``).
    """

    __tablename__ = "external_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)   # the registering (receiving) unit
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    sender_organ: Mapped[str] = mapped_column(String(100))         # 来文机关, as text
    sender_number: Mapped[str | None] = mapped_column(String(60))  # 来文字号
    written_on: Mapped[date | None] = mapped_column()               # 成文日期
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency, "urgency"))
    classification: Mapped[str] = mapped_column(String(10))
    paper: Mapped[bool] = mapped_column(default=False)              # a paper original, scanned here
    scan_sha256: Mapped[str] = mapped_column(String(64))
    scan_media_type: Mapped[str] = mapped_column(String(60))
    editable_sha256: Mapped[str | None] = mapped_column(String(64))
    editable_kind: Mapped[str | None] = mapped_column(String(8))    # docx, doc, wps, txt
    searchable_sha256: Mapped[str | None] = mapped_column(String(64))  # the scan with its OCR text layer (PDF)
    text: Mapped[str | None] = mapped_column(Text)
    text_source: Mapped[TextSource | None] = mapped_column(str_enum(TextSource, "text_source"))
    text_note: Mapped[str | None] = mapped_column(String(300))     # why OCR or extraction failed, in Chinese
    text_done_at: Mapped[datetime | None] = mapped_column()        # None: extraction still to run
    text_failures: Mapped[int] = mapped_column(default=0, server_default="0")  # unexpected errors so far
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    registered_at: Mapped[datetime] = mapped_column()

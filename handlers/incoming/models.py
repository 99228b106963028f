"""The receiving unit's register of received documents (收文登记)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base

UNARCHIVED = text("handled_at IS NOT NULL AND archived_at IS NULL")


class IncomingRecord(Base):
    """A received document in the receiving unit's register (收文登记)."""

    __tablename__ = "incoming_record"
    __table_args__ = (
        UniqueConstraint("unit_id", "year", "seq"),
        Index("ix_incoming_record_unit_registered", "unit_id", "registered_at"),  # supervision: a period's register
        # and its handled documents, archived or not; both cover what the figures read, or SQLite looks
        # each row up in the table (and, without the archive time, prefers the first to the second)
        Index("ix_incoming_record_unit_handled", "unit_id", "handled_at", "archived_at"),
        # supervision's backlog: handled, not yet archived
        Index("ix_incoming_record_unarchived", "unit_id", "handled_at", "archived_at", sqlite_where=UNARCHIVED,
              postgresql_where=UNARCHIVED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipt.id"))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    incoming_number: Mapped[str] = mapped_column(String(40))
    registered_at: Mapped[datetime] = mapped_column()
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    assisting_department_ids: Mapped[list] = mapped_column(JSON, default=list)
    handle_due: Mapped[datetime | None] = mapped_column()
    handled_at: Mapped[datetime | None] = mapped_column()
    result: Mapped[str | None] = mapped_column(Text)
    reply_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    archived_at: Mapped[datetime | None] = mapped_column()  # the archive item's time, kept here for supervision

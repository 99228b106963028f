"""The sender's side of an exchange: one receipt per recipient and version, and the sign-for windows."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, str_enum


class ReceiptStatus(enum.StrEnum):
    PENDING = "pending"
    SIGNED = "signed"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return {"pending": "待签收", "signed": "已签收", "returned": "已退回"}[self.value]


class Receipt(Base):
    """One recipient of one version of a dispatched document; the receiver's instance keeps it current."""

    __tablename__ = "receipt"
    __table_args__ = (
        UniqueConstraint("document_id", "unit_id", "version"),
        # Supervision reads a unit's receipts of a period, and those still waiting past their deadline.
        Index("ix_receipt_unit_dispatched", "unit_id", "dispatched_at"),
        Index("ix_receipt_pending_due", "unit_id", "due_at",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    copy: Mapped[bool] = mapped_column(Boolean, default=False)        # 抄送 rather than 主送
    status: Mapped[ReceiptStatus] = mapped_column(str_enum(ReceiptStatus, "receipt_status"))
    incoming_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    dispatched_at: Mapped[datetime] = mapped_column()
    signed_at: Mapped[datetime | None] = mapped_column()
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    return_reason: Mapped[str | None] = mapped_column(String(500))
    due_at: Mapped[datetime | None] = mapped_column()          # sign-for deadline
    overdue_since: Mapped[datetime | None] = mapped_column()
    last_chased_at: Mapped[datetime | None] = mapped_column()
    verification: Mapped[dict | None] = mapped_column(JSON)     # the report shown at sign-for


class DeadlineRule(Base):
    """How long a unit has to sign for a document of one urgency; an administrator edits these."""

    __tablename__ = "deadline_rule"

    urgency: Mapped[str] = mapped_column(String(20), primary_key=True)
    amount: Mapped[float] = mapped_column()
    measure: Mapped[str] = mapped_column(String(20))  # working_days | working_hours | hours

"""The sender's side of an exchange: one receipt per recipient and version, and the sign-for windows."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, str_enum


class ReceiptStatus(enum.StrEnum):
    PENDING = "pending"
    SIGNED = "signed"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return {"pending": "待签收", "signed": "已签收", "returned": "已退回"}[self.value]


class SignClass(enum.StrEnum):
    """Which of the notices' clocks a receipt runs on: 平件 within a working day, 急件 at once in
    office hours, 急件 arriving after hours within two hours (``deadlines.sign_for_window``)."""

    NORMAL = "normal"
    URGENT = "urgent"
    AFTER_HOURS = "after_hours"

    @property
    def label(self) -> str:
        return {"normal": "平件", "urgent": "急件", "after_hours": "非工作时间急件"}[self.value]


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
    sign_class: Mapped[SignClass] = mapped_column(str_enum(SignClass, "sign_class"), default=SignClass.NORMAL)
    overdue_since: Mapped[datetime | None] = mapped_column()
    last_chased_at: Mapped[datetime | None] = mapped_column()
    verification: Mapped[dict | None] = mapped_column(JSON)     # the report shown at sign-for


class ReceiptDay(Base):
    """A unit's receipts of one sign-for class dispatched on one day (Beijing time), counted as they are
    dispatched and answered (``handlers.exchange.counters``): supervision reads these, not the receipts."""

    __tablename__ = "receipt_day"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sign_class: Mapped[SignClass] = mapped_column(str_enum(SignClass, "sign_class"), primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    due: Mapped[int] = mapped_column(Integer, default=0, server_default="0")          # with a deadline
    signed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    on_time: Mapped[int] = mapped_column(Integer, default=0, server_default="0")      # signed by the deadline
    returned: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sign_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")  # total, of the signed
    worst_sign_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")


class SentDay(Base):
    """The documents a unit dispatched on one day (Beijing time) as their lead issuer, and how many of them
    went to so large a share of all units that the clerk was asked to confirm (wide), counted by dispatch."""

    __tablename__ = "sent_day"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    wide: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DeadlineRule(Base):
    """How long a unit has to sign for a document of one urgency; an administrator edits these."""

    __tablename__ = "deadline_rule"

    urgency: Mapped[str] = mapped_column(String(20), primary_key=True)
    amount: Mapped[float] = mapped_column()
    measure: Mapped[str] = mapped_column(String(20))  # working_days | working_hours | hours

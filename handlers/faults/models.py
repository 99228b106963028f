"""Fault reports (故障报告): what broke in which unit and when, who arranges the repair by when, and which of the
documents dispatched to the unit meanwhile have gone on paper."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, str_enum


class FaultKind(enum.StrEnum):
    """What failed, in the words of Yan'an Art 13 (网络系统、电子印章及配套设备)."""

    NETWORK = "network"
    TERMINAL = "terminal"
    SEAL_KEY = "seal_key"
    CERTIFICATE = "certificate"

    @property
    def label(self) -> str:
        return {"network": "网络", "terminal": "终端", "seal_key": "印章密钥", "certificate": "证书"}[self.value]


class FaultReport(Base):
    """One fault of ``unit_id``, reported to the 网信办 ``desk_unit_id``; open until ``repaired_at``.

    ``late`` is fixed at the report (more than one working day after ``started_at``); ``due_at`` is five working
    days after the report. ``instance_id`` is its ``fault`` process, whose steps write the arrangement, the
    repair with the working days it took (``repair_days``, counted then, so pages and figures agree), and
    ``reminded_at`` / ``escalated_at`` when its timers have told people. At most one fault of a kind is open
    per unit.
    """

    __tablename__ = "fault_report"
    __table_args__ = (Index("uq_fault_report_open", "unit_id", "kind", unique=True,
                            postgresql_where=text("repaired_at IS NULL"), sqlite_where=text("repaired_at IS NULL")),
                      Index("ix_fault_report_unit_started", "unit_id", "started_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    kind: Mapped[FaultKind] = mapped_column(str_enum(FaultKind, "fault_kind"))
    description: Mapped[str] = mapped_column(String(1000))
    started_at: Mapped[datetime] = mapped_column()
    reported_at: Mapped[datetime] = mapped_column()
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    late: Mapped[bool] = mapped_column(default=False)                 # 迟报: after one working day
    desk_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)   # the 网信办
    due_at: Mapped[datetime] = mapped_column()                         # repair deadline
    arranged_at: Mapped[datetime | None] = mapped_column()
    arranged_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    contractor: Mapped[str | None] = mapped_column(String(100))       # 保障单位 that repairs
    reminded_at: Mapped[datetime | None] = mapped_column()
    escalated_at: Mapped[datetime | None] = mapped_column()
    repaired_at: Mapped[datetime | None] = mapped_column()
    repaired_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    repair_note: Mapped[str | None] = mapped_column(String(500))
    repair_days: Mapped[int | None] = mapped_column()   # repaired on this working day after the report's (day 0)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))


class PaperCopy(Base):
    """A document dispatched to a faulty unit (its ``receipt``) that the dispatching office sent on paper."""

    __tablename__ = "fault_paper_copy"
    __table_args__ = (UniqueConstraint("fault_id", "receipt_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fault_id: Mapped[int] = mapped_column(ForeignKey("fault_report.id"))
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipt.id"))
    sent_at: Mapped[datetime] = mapped_column()
    sent_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))

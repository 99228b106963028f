"""Archived items (件) under DA/T 22, and their appraisal (鉴定) and destruction (销毁)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, str_enum


class Retention(enum.StrEnum):
    PERMANENT = "Y"     # 永久
    YEARS_30 = "D30"
    YEARS_10 = "D10"

    @property
    def label(self) -> str:
        return {"Y": "永久", "D30": "30年", "D10": "10年"}[self.value]

    @property
    def years(self) -> int | None:
        """How many years an item is kept after its 年度; None: for ever."""
        return {"Y": None, "D30": 30, "D10": 10}[self.value]


class ArchiveItem(Base):
    """One archived item (件) under DA/T 22: 全宗号-WS·年度-保管期限-机构代码-件号."""

    __tablename__ = "archive_item"
    __table_args__ = (
        UniqueConstraint("fonds_code", "year", "retention", "org_code", "item_number"),
        Index("ix_archive_item_unit_document", "unit_id", "document_id"),  # supervision: is this one archived?
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))  # None: an external document's
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    fonds_code: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    retention: Mapped[Retention] = mapped_column(str_enum(Retention, "retention"))
    org_code: Mapped[str] = mapped_column(String(20))
    item_number: Mapped[int] = mapped_column(Integer)
    archive_code: Mapped[str] = mapped_column(String(80), unique=True)
    pages: Mapped[int] = mapped_column(Integer)
    copy_sha256: Mapped[str] = mapped_column(String(64))   # the archived copy with its stamp
    # The exported package's manifest hash, kept apart from the package it vouches for.
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    archived_at: Mapped[datetime] = mapped_column()
    archived_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    # An own outgoing document's 发文稿纸 (who drafted, reviewed, signed off, with opinions and times) as a PDF.
    record_sha256: Mapped[str | None] = mapped_column(String(64))
    # The retention an appraisal set (keep longer); the 档号 stays as stamped, so its class keeps no gap.
    appraised_retention: Mapped[Retention | None] = mapped_column(str_enum(Retention, "retention"))
    destroyed_at: Mapped[datetime | None] = mapped_column()

    @property
    def kept_for(self) -> Retention:
        """The retention in force: the appraisal's if there was one, else the one the archivist chose."""
        return self.appraised_retention or self.retention


class AppraisalAction(enum.StrEnum):
    KEEP = "keep"         # 继续保存 with a longer retention
    DESTROY = "destroy"   # 销毁

    @property
    def label(self) -> str:
        return {"keep": "延长保管期限", "destroy": "销毁"}[self.value]


class AppraisalState(enum.StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {"proposed": "待领导审批", "approved": "已批准", "rejected": "未批准"}[self.value]


class ArchiveAppraisal(Base):
    """An archivist's proposal for an expired item and a leader's decision on it.

    An approved destruction is the 销毁 record kept for ever: it copies the item's 档号, title and
    retention, because the item's files are erased and nothing else of it may be read again.
    """

    __tablename__ = "archive_appraisal"
    __table_args__ = (Index("ix_archive_appraisal_unit_state", "unit_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_item.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    archive_code: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(300))
    retention: Mapped[Retention] = mapped_column(str_enum(Retention, "retention"))  # in force when proposed
    action: Mapped[AppraisalAction] = mapped_column(str_enum(AppraisalAction, "appraisal_action"))
    new_retention: Mapped[Retention | None] = mapped_column(str_enum(Retention, "retention"))
    reason: Mapped[str] = mapped_column(Text)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    proposed_at: Mapped[datetime] = mapped_column()
    state: Mapped[AppraisalState] = mapped_column(str_enum(AppraisalState, "appraisal_state"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_note: Mapped[str | None] = mapped_column(Text)

"""Archived items (件) under DA/T 22."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, str_enum


class Retention(enum.StrEnum):
    PERMANENT = "Y"     # 永久
    YEARS_30 = "D30"
    YEARS_10 = "D10"

    @property
    def label(self) -> str:
        return {"Y": "永久", "D30": "30年", "D10": "10年"}[self.value]


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

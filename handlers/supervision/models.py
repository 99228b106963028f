"""Supervision's one table: each supervising office's own wording of its bulletin (通报)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class BulletinTemplate(Base):
    """The body template a unit's 督查员 edited; without a row the default in ``bulletin.py`` holds."""

    __tablename__ = "bulletin_template"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    updated_at: Mapped[datetime] = mapped_column()

"""The 常用意见 table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base

MAX_LENGTH = 200  # a phrase picked from a list, not a whole opinion


class SavedOpinion(Base):
    """A phrase offered above every opinion box: a person's own (``person_id``) or a unit's default for all
    its people (``unit_id``), never both."""

    __tablename__ = "saved_opinion"
    __table_args__ = (CheckConstraint("(person_id IS NULL) <> (unit_id IS NULL)", name="ck_saved_opinion_owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    text: Mapped[str] = mapped_column(String(MAX_LENGTH))
    created_at: Mapped[datetime] = mapped_column()

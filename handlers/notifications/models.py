"""What a person has been told in the app."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class Notification(Base):
    """Something a person is told in the app: a reminder, an escalation, an arrival."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_person", "person_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    kind: Mapped[str] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(String(500), default="")
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    created_at: Mapped[datetime] = mapped_column()
    read_at: Mapped[datetime | None] = mapped_column()

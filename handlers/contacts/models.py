"""The duty-contact register (收发文联系人): who answers for a unit's documents, with history."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, str_enum


class Duty(enum.StrEnum):
    LEADER_IN_CHARGE = "leader_in_charge"   # 分管领导
    PRINCIPAL = "principal"                 # 主要负责人
    CLERK = "clerk"                         # 收发文人员 (one or two on document duty)

    @property
    def label(self) -> str:
        return {"leader_in_charge": "分管领导", "principal": "主要负责人", "clerk": "收发文人员"}[self.value]


class DutyContact(Base):
    """One person on one duty for a unit from ``since``; ``until`` set when replaced or removed.

    Rows are never changed after they end: the current register is the rows without ``until``,
    the history is all of them.
    """

    __tablename__ = "duty_contact"
    __table_args__ = (Index("ix_duty_contact_current", "unit_id", "duty",
                            postgresql_where=text("until IS NULL"), sqlite_where=text("until IS NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    duty: Mapped[Duty] = mapped_column(str_enum(Duty, "duty"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))  # when the contact has an account
    name: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(50))          # 职务
    mobile: Mapped[str] = mapped_column(String(20))
    since: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))        # why the contact was entered
    until: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    recorded_at: Mapped[datetime] = mapped_column()

"""Handover records (交接): what a person who retires, moves or is frozen passes on, to whom, confirmed by whom."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, str_enum


class Occasion(enum.StrEnum):
    RETIRE = "retire"
    MOVE = "move"
    FREEZE = "freeze"

    @property
    def label(self) -> str:
        return {"retire": "退休", "move": "调动", "freeze": "离岗（账号冻结）"}[self.value]


class ItemKind(enum.StrEnum):
    TASK = "task"                   # an open or claimed task: reassigned to the successor on sign-off
    CERTIFICATE = "certificate"     # their personal signing certificate: ends with them, not passed on
    SEAL = "seal"                   # a seal of the unit they keep as 印章管理员
    CONTACT = "contact"             # their row in the duty-contact register: the office replaces it

    @property
    def label(self) -> str:
        return {"task": "待办事项", "certificate": "个人签名证书", "seal": "保管的电子印章",
                "contact": "收发文联系人登记"}[self.value]


class Handover(Base):
    """One handover of ``person_id``'s work in ``unit_id`` to ``successor_id``, signed off by ``leader_id``.

    Kept for good once signed off. At most one is open per person. ``instance_id`` is its ``handover`` process,
    whose tasks (the two confirmations, the sign-off) reach the people in their inbox; the record stays the
    source of truth for the list and who confirmed when.
    """

    __tablename__ = "handover"
    __table_args__ = (Index("uq_handover_open", "person_id", unique=True,
                            postgresql_where=text("signed_off_at IS NULL"),
                            sqlite_where=text("signed_off_at IS NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    successor_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)   # the 分管领导 who signs off
    occasion: Mapped[Occasion] = mapped_column(str_enum(Occasion, "handover_occasion"))
    started_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    started_at: Mapped[datetime] = mapped_column()
    person_confirmed_at: Mapped[datetime | None] = mapped_column()
    successor_confirmed_at: Mapped[datetime | None] = mapped_column()
    signed_off_at: Mapped[datetime | None] = mapped_column()
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))

    items: Mapped[list[HandoverItem]] = relationship(order_by="HandoverItem.id", back_populates="handover")


class HandoverItem(Base):
    """One thing on a handover record: its kind, the row it names (a task id, a certificate, a seal, a
    register row) and what it is in words a system administrator may read (a step and process name, a
    serial, a seal's name, a duty), never a document title."""

    __tablename__ = "handover_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handover.id"), index=True)
    kind: Mapped[ItemKind] = mapped_column(str_enum(ItemKind, "handover_item_kind"))
    ref: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(300))
    passed_on: Mapped[bool] = mapped_column(default=False)   # a task: reassigned to the successor

    handover: Mapped[Handover] = relationship(back_populates="items")

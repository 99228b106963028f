"""What a person has been told, how they want to be told, and every text message sent."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, str_enum


class Notification(Base):
    """Something a person is told in the app: a reminder, an escalation, an arrival."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_person", "person_id", "read_at"),
        Index("ix_notification_kind_created", "kind", "created_at"),  # supervision: a period's duty-watch reminders
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    kind: Mapped[str] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(String(500), default="")
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    created_at: Mapped[datetime] = mapped_column()
    read_at: Mapped[datetime | None] = mapped_column()
    # Urgent notices (特急 arrivals, overdue sign-for) go out on every channel at once, day or night.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class ChannelChoice(Base):
    """A person's choice of a channel for non-urgent notices; without a row the channel's default holds."""

    __tablename__ = "channel_choice"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)


class TextStatus(enum.StrEnum):
    QUEUED = "queued"            # waiting in the outbox (at night: for the morning)
    SENT = "sent"                # accepted by the gateway
    DELIVERED = "delivered"      # the delivery report says it reached the phone
    FAILED = "failed"            # the gateway refused it, or the report says it did not arrive
    NO_GATEWAY = "no_gateway"    # no gateway configured: recorded, shown, not sent
    SWITCHED_OFF = "switched_off"  # the paying county has texting switched off: in-app only

    @property
    def label(self) -> str:
        return {"queued": "待发送", "sent": "已提交网关", "delivered": "已送达", "failed": "发送失败",
                "no_gateway": "未发送：未配置短信网关", "switched_off": "未发送：该县（区）已关闭短信"}[self.value]


class TextMessage(Base):
    """One text to one mobile number, kept for delivery reports, the cost report and supervision."""

    __tablename__ = "text_message"
    __table_args__ = (
        Index("ix_text_message_payer_created", "payer_unit_id", "created_at"),
        Index("ix_text_message_unit_created", "unit_id", "created_at"),  # supervision: a period's texts per unit
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)   # idempotency: one text per key
    number: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(50))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))      # when sent to an account
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))                # the unit reached
    payer_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))          # who pays (county or city)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id"))
    segments: Mapped[int] = mapped_column(Integer)
    cost: Mapped[Decimal] = mapped_column(Numeric(10, 4))                      # 元
    status: Mapped[TextStatus] = mapped_column(str_enum(TextStatus, "text_status"))
    created_at: Mapped[datetime] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()
    report: Mapped[str | None] = mapped_column(String(200))  # the gateway's last delivery report or error


class TextingOff(Base):
    """A county (or any paying unit) that asked for texting to be switched off for its units."""

    __tablename__ = "texting_off"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    since: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(String(200))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

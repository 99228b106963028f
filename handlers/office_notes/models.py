"""The office's informal notes beside 公文: announcements (公告) with who has read them, mail between people
(站内邮件) with read receipts, and phone notices (电话通知记录) routed to the person who must act."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TypedDict

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, str_enum


class FileRef(TypedDict):
    """An attachment kept with a note: the stored file's hash, the name it was uploaded under, its size."""

    sha256: str
    filename: str
    size: int


class Announcement(Base):
    """One 公告 by ``author_id`` of ``unit_id`` to the units in ``audience`` (its own unit, or units below it)."""

    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    files: Mapped[list[FileRef]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime] = mapped_column()

    audience: Mapped[list[AnnouncementUnit]] = relationship(order_by="AnnouncementUnit.unit_id")


class AnnouncementUnit(Base):
    """A unit whose people an announcement is for: found by unit for each reader's list."""

    __tablename__ = "announcement_unit"

    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True, index=True)


class AnnouncementRead(Base):
    """When a person first opened an announcement; the author's reader list is made of these."""

    __tablename__ = "announcement_read"

    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True, index=True)
    read_at: Mapped[datetime] = mapped_column()


class Mail(Base):
    """One 站内邮件 from ``sender_id``; its recipients and their read receipts are ``MailRecipient`` rows."""

    __tablename__ = "mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    subject: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    files: Mapped[list[FileRef]] = mapped_column(JSON, default=list)
    sent_at: Mapped[datetime] = mapped_column()

    recipients: Mapped[list[MailRecipient]] = relationship(order_by="MailRecipient.person_id")


class MailRecipient(Base):
    """A recipient of a mail and when they first opened it (the sender's read receipt)."""

    __tablename__ = "mail_recipient"
    __table_args__ = (UniqueConstraint("mail_id", "person_id", name="uq_mail_recipient"),
                      Index("ix_mail_recipient_person", "person_id", "mail_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("mail.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    read_at: Mapped[datetime | None] = mapped_column()


class Direction(enum.StrEnum):
    RECEIVED = "received"   # a call that came in: 来电
    MADE = "made"           # a call the unit made: 去电

    @property
    def label(self) -> str:
        return {"received": "来电", "made": "去电"}[self.value]


class PhoneNotice(Base):
    """A phone notice received or made, recorded by a clerk of ``unit_id`` and routed to ``assignee_id``, who
    must act by ``due_at``; ``instance_id`` is its ``phone_notice`` process, ``done_*`` what they did."""

    __tablename__ = "phone_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, "phone_direction"))
    other_unit: Mapped[str] = mapped_column(String(100))    # the unit on the other end of the line
    other_person: Mapped[str] = mapped_column(String(50))
    other_phone: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    called_at: Mapped[datetime] = mapped_column()
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    recorded_at: Mapped[datetime] = mapped_column()
    assignee_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    due_at: Mapped[datetime] = mapped_column()
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    done_at: Mapped[datetime | None] = mapped_column()
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    done_note: Mapped[str | None] = mapped_column(Text)

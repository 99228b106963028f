"""The tables of meetings: the meeting, one invitation per unit (or, inside a unit, per person) and the
attendees a unit's reply slip names."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, str_enum


class MeetingKind(enum.StrEnum):
    UNITS = "units"          # 会议通知 to other units, answered by each unit's 回执
    INTERNAL = "internal"    # 内部会议: to people of the organiser's unit, each confirming or excusing

    @property
    def label(self) -> str:
        return {"units": "会议通知", "internal": "内部会议"}[self.value]


class MeetingStatus(enum.StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"open": "正常", "cancelled": "已取消"}[self.value]


class Answer(enum.StrEnum):
    PENDING = "pending"
    ATTEND = "attend"        # a unit names its attendees; a person confirms
    DECLINE = "decline"      # a unit refuses, a person excuses themselves, with a reason

    def label(self, kind: MeetingKind) -> str:
        if self == Answer.PENDING:
            return "未回复"
        if kind == MeetingKind.UNITS:
            return "参加" if self == Answer.ATTEND else "不参加"
        return "确认参加" if self == Answer.ATTEND else "请假"


class Meeting(Base):
    """A meeting organised by ``unit_id``. ``revision`` counts the changes of time or place: an answer given
    for an earlier revision is kept, and the unit is asked to confirm it."""

    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    kind: Mapped[MeetingKind] = mapped_column(str_enum(MeetingKind, "meeting_kind"))
    status: Mapped[MeetingStatus] = mapped_column(str_enum(MeetingStatus, "meeting_status"))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    place: Mapped[str] = mapped_column(String(200))
    agenda: Mapped[str] = mapped_column(Text)
    attendance: Mapped[str] = mapped_column(String(200))     # who should attend, e.g. 分管负责同志1名
    reply_by: Mapped[datetime] = mapped_column()
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column()
    changed_at: Mapped[datetime | None] = mapped_column()
    cancelled_at: Mapped[datetime | None] = mapped_column()
    cancel_reason: Mapped[str | None] = mapped_column(String(500))

    invitations: Mapped[list[Invitation]] = relationship(order_by="Invitation.id", back_populates="meeting")


class Invitation(Base):
    """The meeting as one unit (``person_id`` None) or one person of the organiser's unit receives it, and its
    answer. Written only by the organiser's side and by :func:`handlers.meetings.service.record_answer`."""

    __tablename__ = "meeting_invitation"
    __table_args__ = (UniqueConstraint("meeting_id", "unit_id", "person_id", name="uq_meeting_invitation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    answer: Mapped[Answer] = mapped_column(str_enum(Answer, "meeting_answer"), default=Answer.PENDING)
    reason: Mapped[str | None] = mapped_column(String(500))
    answered_at: Mapped[datetime | None] = mapped_column()
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    answered_revision: Mapped[int | None] = mapped_column()   # the meeting's revision the answer was given for
    late: Mapped[bool] = mapped_column(default=False)           # 迟报: the first answer came after reply_by
    reminded_at: Mapped[datetime | None] = mapped_column()

    meeting: Mapped[Meeting] = relationship(back_populates="invitations")
    attendees: Mapped[list[Attendee]] = relationship(order_by="Attendee.id", cascade="all, delete-orphan")

    @property
    def to_confirm(self) -> bool:
        """Answered, but for a time or place the organiser has changed since."""
        return self.answered_revision is not None and self.answered_revision < self.meeting.revision


class Attendee(Base):
    """One person a unit's reply slip names: name, 职务 and mobile."""

    __tablename__ = "meeting_attendee"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("meeting_invitation.id"), index=True)
    name: Mapped[str] = mapped_column(String(30))
    job_title: Mapped[str] = mapped_column(String(50))
    mobile: Mapped[str] = mapped_column(String(11))


class ReplySlipDay(Base):
    """A unit's reply slips to other units' meetings, by day (Beijing time): how many meetings reached it on the
    day (``invited``, by the day sent) and how many of its slips were sent in time or late (by the day
    answered; a slip counts once, at its first answer). Counted as it happens (``handlers.meetings.service``,
    ``steps``) so that supervision could read it without the invitations."""

    __tablename__ = "meeting_reply_day"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    invited: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    on_time: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    late: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

"""Meetings with reply slips: ``meeting`` (time, place, agenda, reply deadline, changes, cancellation),
``meeting_invitation`` (one per invited unit or, for an internal meeting, person, with its answer) and
``meeting_attendee`` (the people a unit's reply slip names); ``meeting_reply_day`` counts each unit's meetings
received and slips sent in time or late, by day

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 00:45:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, engine.db.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("meeting_kind", "units", "internal"), nullable=False),
        sa.Column("status", _enum("meeting_status", "open", "cancelled"), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        _time("starts_at"),
        _time("ends_at"),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("agenda", sa.Text(), nullable=False),
        sa.Column("attendance", sa.String(length=200), nullable=False),
        _time("reply_by"),
        sa.Column("revision", sa.Integer(), nullable=False),
        _time("created_at"),
        _time("changed_at", True),
        _time("cancelled_at", True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["organiser_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_meeting_unit_id", "meeting", ["unit_id"])
    op.create_table(
        "meeting_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("answer", _enum("meeting_answer", "pending", "attend", "decline"), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        _time("answered_at", True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_revision", sa.Integer(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        _time("reminded_at", True),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"]),
        sa.ForeignKeyConstraint(["answered_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "unit_id", "person_id", name="uq_meeting_invitation"),
    )
    op.create_index("ix_meeting_invitation_meeting_id", "meeting_invitation", ["meeting_id"])
    op.create_index("ix_meeting_invitation_unit_id", "meeting_invitation", ["unit_id"])
    op.create_index("ix_meeting_invitation_person_id", "meeting_invitation", ["person_id"])
    op.create_table(
        "meeting_attendee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("job_title", sa.String(length=50), nullable=False),
        sa.Column("mobile", sa.String(length=11), nullable=False),
        sa.ForeignKeyConstraint(["invitation_id"], ["meeting_invitation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_meeting_attendee_invitation_id", "meeting_attendee", ["invitation_id"])
    op.create_table(
        "meeting_reply_day",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in ("invited", "on_time", "late")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("unit_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("meeting_reply_day")
    op.drop_index("ix_meeting_attendee_invitation_id", table_name="meeting_attendee")
    op.drop_table("meeting_attendee")
    op.drop_index("ix_meeting_invitation_person_id", table_name="meeting_invitation")
    op.drop_index("ix_meeting_invitation_unit_id", table_name="meeting_invitation")
    op.drop_index("ix_meeting_invitation_meeting_id", table_name="meeting_invitation")
    op.drop_table("meeting_invitation")
    op.drop_index("ix_meeting_unit_id", table_name="meeting")
    op.drop_table("meeting")

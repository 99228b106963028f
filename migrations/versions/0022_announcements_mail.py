"""The office's notes beside 公文: ``announcement`` with the units it went to (``announcement_unit``) and who read
it (``announcement_read``); ``mail`` with its recipients and read receipts (``mail_recipient``); and
``phone_notice``, a call recorded and routed to whoever must act

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 00:45:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, engine.db.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "announcement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        _when("published_at"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["author_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_announcement_unit_id", "announcement", ["unit_id"])
    op.create_index("ix_announcement_author_id", "announcement", ["author_id"])
    op.create_table(
        "announcement_unit",
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["announcement_id"], ["announcement.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("announcement_id", "unit_id"),
    )
    op.create_index("ix_announcement_unit_unit_id", "announcement_unit", ["unit_id"])
    op.create_table(
        "announcement_read",
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        _when("read_at"),
        sa.ForeignKeyConstraint(["announcement_id"], ["announcement.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("announcement_id", "person_id"),
    )
    op.create_index("ix_announcement_read_person_id", "announcement_read", ["person_id"])
    op.create_table(
        "mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        _when("sent_at"),
        sa.ForeignKeyConstraint(["sender_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mail_sender_id", "mail", ["sender_id"])
    op.create_table(
        "mail_recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        _when("read_at", nullable=True),
        sa.ForeignKeyConstraint(["mail_id"], ["mail.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mail_id", "person_id", name="uq_mail_recipient"),
    )
    op.create_index("ix_mail_recipient_person", "mail_recipient", ["person_id", "mail_id"])
    op.create_table(
        "phone_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.Enum("received", "made", name="phone_direction", native_enum=False, length=32),
                  nullable=False),
        sa.Column("other_unit", sa.String(length=100), nullable=False),
        sa.Column("other_person", sa.String(length=50), nullable=False),
        sa.Column("other_phone", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        _when("called_at"),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        _when("recorded_at"),
        sa.Column("assignee_id", sa.Integer(), nullable=False),
        _when("due_at"),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        _when("done_at", nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("done_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["assignee_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"]),
        sa.ForeignKeyConstraint(["done_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_phone_notice_unit_id", "phone_notice", ["unit_id"])
    op.create_index("ix_phone_notice_assignee_id", "phone_notice", ["assignee_id"])


def downgrade() -> None:
    op.drop_index("ix_phone_notice_assignee_id", table_name="phone_notice")
    op.drop_index("ix_phone_notice_unit_id", table_name="phone_notice")
    op.drop_table("phone_notice")
    op.drop_index("ix_mail_recipient_person", table_name="mail_recipient")
    op.drop_table("mail_recipient")
    op.drop_index("ix_mail_sender_id", table_name="mail")
    op.drop_table("mail")
    op.drop_index("ix_announcement_read_person_id", table_name="announcement_read")
    op.drop_table("announcement_read")
    op.drop_index("ix_announcement_unit_unit_id", table_name="announcement_unit")
    op.drop_table("announcement_unit")
    op.drop_index("ix_announcement_author_id", table_name="announcement")
    op.drop_index("ix_announcement_unit_id", table_name="announcement")
    op.drop_table("announcement")

"""Fault reports (Yan'an Art 13): ``fault_report`` (what failed in which unit, when, late or not, the 网信办's
repair deadline, reminders, escalation and repair) and ``fault_paper_copy`` (documents dispatched to a faulty unit
that went on paper)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 00:45:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = engine.db.UtcDateTime(timezone=True)
    op.create_table(
        "fault_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("network", "terminal", "seal_key", "certificate", name="fault_kind",
                                  native_enum=False, length=32), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("started_at", when, nullable=False),
        sa.Column("reported_at", when, nullable=False),
        sa.Column("reported_by_id", sa.Integer(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("desk_unit_id", sa.Integer(), nullable=False),
        sa.Column("due_at", when, nullable=False),
        sa.Column("arranged_at", when, nullable=True),
        sa.Column("arranged_by_id", sa.Integer(), nullable=True),
        sa.Column("contractor", sa.String(length=100), nullable=True),
        sa.Column("reminded_at", when, nullable=True),
        sa.Column("escalated_at", when, nullable=True),
        sa.Column("repaired_at", when, nullable=True),
        sa.Column("repaired_by_id", sa.Integer(), nullable=True),
        sa.Column("repair_note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["reported_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["desk_unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["arranged_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["repaired_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_fault_report_desk_unit_id", "fault_report", ["desk_unit_id"])
    op.create_index("ix_fault_report_unit_started", "fault_report", ["unit_id", "started_at"])
    op.create_index("uq_fault_report_open", "fault_report", ["unit_id", "kind"], unique=True,
                    postgresql_where=sa.text("repaired_at IS NULL"), sqlite_where=sa.text("repaired_at IS NULL"))
    op.create_table(
        "fault_paper_copy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fault_id", sa.Integer(), nullable=False),
        sa.Column("receipt_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", when, nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["fault_id"], ["fault_report.id"]),
        sa.ForeignKeyConstraint(["receipt_id"], ["receipt.id"]),
        sa.ForeignKeyConstraint(["sent_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fault_id", "receipt_id"),
    )


def downgrade() -> None:
    op.drop_table("fault_paper_copy")
    op.drop_index("uq_fault_report_open", table_name="fault_report")
    op.drop_index("ix_fault_report_unit_started", table_name="fault_report")
    op.drop_index("ix_fault_report_desk_unit_id", table_name="fault_report")
    op.drop_table("fault_report")

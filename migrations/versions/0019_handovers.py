"""Handover records when a person retires, moves or is frozen: ``handover`` (who hands over to whom, who confirmed,
who signed off) and ``handover_item`` (each task, certificate, seal and register row on the record)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 22:15:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handover",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("successor_id", sa.Integer(), nullable=False),
        sa.Column("leader_id", sa.Integer(), nullable=False),
        sa.Column("occasion", sa.Enum("retire", "move", "freeze", name="handover_occasion", native_enum=False,
                                      length=32), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=False),
        sa.Column("started_at", engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("person_confirmed_at", engine.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("successor_confirmed_at", engine.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("signed_off_at", engine.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["successor_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["leader_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["started_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handover_unit_id", "handover", ["unit_id"])
    op.create_index("ix_handover_successor_id", "handover", ["successor_id"])
    op.create_index("ix_handover_leader_id", "handover", ["leader_id"])
    op.create_index("uq_handover_open", "handover", ["person_id"], unique=True,
                    postgresql_where=sa.text("signed_off_at IS NULL"), sqlite_where=sa.text("signed_off_at IS NULL"))
    op.create_table(
        "handover_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handover_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("task", "certificate", "seal", "contact", name="handover_item_kind",
                                  native_enum=False, length=32), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("passed_on", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["handover_id"], ["handover.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handover_item_handover_id", "handover_item", ["handover_id"])


def downgrade() -> None:
    op.drop_index("ix_handover_item_handover_id", table_name="handover_item")
    op.drop_table("handover_item")
    op.drop_index("uq_handover_open", table_name="handover")
    op.drop_index("ix_handover_leader_id", table_name="handover")
    op.drop_index("ix_handover_successor_id", table_name="handover")
    op.drop_index("ix_handover_unit_id", table_name="handover")
    op.drop_table("handover")

"""Archive appraisal and destruction (鉴定/销毁), and an own outgoing document's 发文稿纸 in its archive item:
``archive_item`` gains ``record_sha256`` (the 发文稿纸 PDF), ``appraised_retention`` (a longer retention an
appraisal set) and ``destroyed_at``; ``archive_appraisal`` holds each proposal and decision, and an approved
destruction is the 销毁 record that stays

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08 00:45:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def _retention(name: str) -> sa.Column:
    return sa.Column(name, sa.Enum("Y", "D30", "D10", name="retention", native_enum=False, length=32), nullable=True)


def upgrade() -> None:
    with op.batch_alter_table("archive_item") as batch:
        batch.add_column(sa.Column("record_sha256", sa.String(length=64), nullable=True))
        batch.add_column(_retention("appraised_retention"))
        batch.add_column(sa.Column("destroyed_at", engine.db.UtcDateTime(timezone=True), nullable=True))
    op.create_table(
        "archive_appraisal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("archive_code", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("retention", sa.Enum("Y", "D30", "D10", name="retention", native_enum=False, length=32),
                  nullable=False),
        sa.Column("action", sa.Enum("keep", "destroy", name="appraisal_action", native_enum=False, length=32),
                  nullable=False),
        _retention("new_retention"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("proposed_at", engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.Enum("proposed", "approved", "rejected", name="appraisal_state", native_enum=False,
                                   length=32), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", engine.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["archive_item.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["proposed_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["decided_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_archive_appraisal_item_id", "archive_appraisal", ["item_id"])
    op.create_index("ix_archive_appraisal_unit_state", "archive_appraisal", ["unit_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_archive_appraisal_unit_state", table_name="archive_appraisal")
    op.drop_index("ix_archive_appraisal_item_id", table_name="archive_appraisal")
    op.drop_table("archive_appraisal")
    with op.batch_alter_table("archive_item") as batch:
        batch.drop_column("destroyed_at")
        batch.drop_column("appraised_retention")
        batch.drop_column("record_sha256")

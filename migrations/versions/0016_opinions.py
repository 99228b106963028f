"""常用意见 and people's 职务: the ``saved_opinion`` table (a person's own phrases and a unit's defaults) and
``person.job_title``, shown beside the name in opinion trails and on the print pages. Handwritten signatures
need no table: a step keeps its signature's SHA-256 in its own form data, the PNG in the file store.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 21:10:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("job_title", sa.String(length=50), nullable=True))
    op.create_table(
        "saved_opinion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("created_at", engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(person_id IS NULL) <> (unit_id IS NULL)", name="ck_saved_opinion_owner"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_saved_opinion_person_id", "saved_opinion", ["person_id"])
    op.create_index("ix_saved_opinion_unit_id", "saved_opinion", ["unit_id"])


def downgrade() -> None:
    op.drop_index("ix_saved_opinion_unit_id", table_name="saved_opinion")
    op.drop_index("ix_saved_opinion_person_id", table_name="saved_opinion")
    op.drop_table("saved_opinion")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("job_title")

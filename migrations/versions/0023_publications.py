"""Publications, 份数/份号 and paper recipients: a number series may be an internal publication (内部刊物,
numbered 第N期 per year and 总第M期), a document records its 总期号, its print run (份数) and the recipients
marked 纸质, and each paper copy's 份号 with the recipient it went to.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 00:45:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("number_series", schema=None) as batch_op:
        batch_op.add_column(sa.Column("publication", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("print_run", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("paper_to", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("issue_total", sa.Integer(), nullable=True))
    op.create_table(
        "paper_copy",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("copy_number", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("printed_at", engine.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("printed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.ForeignKeyConstraint(["printed_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("document_id", "copy_number"),
    )


def downgrade() -> None:
    op.drop_table("paper_copy")
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_column("issue_total")
        batch_op.drop_column("paper_to")
        batch_op.drop_column("print_run")
    with op.batch_alter_table("number_series", schema=None) as batch_op:
        batch_op.drop_column("publication")

"""External documents count the unexpected failures of their text extraction (``text_failures``), so that one
that always fails is left with a note after a few sweeps instead of being tried for ever ahead of the others

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-08 01:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("external_document") as batch:
        batch.add_column(sa.Column("text_failures", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("external_document") as batch:
        batch.drop_column("text_failures")

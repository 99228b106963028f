"""The signer's format and algorithm recorded with each sealed file (and each earlier sealed version).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 20:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_TABLES = ('document', 'document_version')


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('sealed_format', sa.String(length=20), nullable=True))
            batch_op.add_column(sa.Column('seal_algorithm', sa.String(length=40), nullable=True))
    # Every file sealed before this revision was sealed by the PAdES / ECDSA P-256 signer.
    for table in _TABLES:
        op.execute(f"UPDATE {table} SET sealed_format = 'PAdES', seal_algorithm = 'ECDSA-P256-SHA256' "
                   "WHERE sealed_sha256 IS NOT NULL")


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('seal_algorithm')
            batch_op.drop_column('sealed_format')

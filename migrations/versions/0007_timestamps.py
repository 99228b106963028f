"""Timestamps and revocation as of a date: the time-stamping authority, and when a seal's key was last trusted.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 22:45:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'timestamp_authority',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('ca_id', sa.Integer(), nullable=False),
        sa.Column('certificate_pem', sa.Text(), nullable=False),
        sa.Column('key_blob', sa.LargeBinary(), nullable=False),
        sa.Column('valid_to', engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['ca_id'], ['certificate_authority.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('seal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invalid_since', engine.db.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('seal', schema=None) as batch_op:
        batch_op.drop_column('invalid_since')
    op.drop_table('timestamp_authority')

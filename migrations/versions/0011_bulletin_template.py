"""Supervision: each supervising office's bulletin body template.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 16:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'bulletin_template',
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=False),
        sa.Column('updated_at', engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id']),
        sa.ForeignKeyConstraint(['updated_by_id'], ['person.id']),
        sa.PrimaryKeyConstraint('unit_id'),
    )


def downgrade() -> None:
    op.drop_table('bulletin_template')

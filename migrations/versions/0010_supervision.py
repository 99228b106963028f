"""Supervision: each person's logins per day, and the indexes the period figures read by.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 14:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_day',
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('logins', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id']),
        sa.PrimaryKeyConstraint('person_id', 'day'),
    )
    op.create_index('ix_login_day_day_unit', 'login_day', ['day', 'unit_id'])


def downgrade() -> None:
    op.drop_index('ix_login_day_day_unit', table_name='login_day')
    op.drop_table('login_day')

"""Reaching people: mobile and mail of accounts, channel choices, text messages and their cost,
counties with texting off, the duty-contact register, inbox looks, and the outbox's back-off.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 05:30:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None
CURRENT = "until IS NULL"


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mobile', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(length=200), nullable=True))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_before', engine.db.UtcDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgent', sa.Boolean(), server_default='0', nullable=False))
    op.create_table(
        'channel_choice',
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.PrimaryKeyConstraint('person_id', 'channel'),
    )
    op.create_table(
        'text_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column('kind', sa.String(length=50), nullable=False),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('payer_unit_id', sa.Integer(), nullable=False),
        sa.Column('notification_id', sa.Integer(), nullable=True),
        sa.Column('segments', sa.Integer(), nullable=False),
        sa.Column('cost', sa.Numeric(precision=10, scale=4), nullable=False),
        sa.Column('status', sa.Enum('queued', 'sent', 'delivered', 'failed', 'no_gateway', 'switched_off',
                                    name='text_status', native_enum=False, length=32), nullable=False),
        sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('sent_at', engine.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('delivered_at', engine.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('report', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['notification_id'], ['notification.id']),
        sa.ForeignKeyConstraint(['payer_unit_id'], ['unit.id']),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    with op.batch_alter_table('text_message', schema=None) as batch_op:
        batch_op.create_index('ix_text_message_payer_created', ['payer_unit_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_text_message_unit_id'), ['unit_id'], unique=False)
    op.create_table(
        'texting_off',
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('since', engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['by_id'], ['person.id']),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id']),
        sa.PrimaryKeyConstraint('unit_id'),
    )
    op.create_table(
        'duty_contact',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('duty', sa.Enum('leader_in_charge', 'principal', 'clerk', name='duty', native_enum=False,
                                  length=32), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=50), nullable=False),
        sa.Column('title', sa.String(length=50), nullable=False),
        sa.Column('mobile', sa.String(length=20), nullable=False),
        sa.Column('since', sa.Date(), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('until', sa.Date(), nullable=True),
        sa.Column('end_reason', sa.String(length=200), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['person.id']),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('duty_contact', schema=None) as batch_op:
        batch_op.create_index('ix_duty_contact_current', ['unit_id', 'duty'], unique=False,
                              postgresql_where=sa.text(CURRENT), sqlite_where=sa.text(CURRENT))
    op.create_table(
        'inbox_look',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('at', engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('inbox_look', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_look_person_at', ['person_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbox_look_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    op.drop_table('inbox_look')
    op.drop_table('duty_contact')
    op.drop_table('texting_off')
    op.drop_table('text_message')
    op.drop_table('channel_choice')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('urgent')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('not_before')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('email')
        batch_op.drop_column('mobile')

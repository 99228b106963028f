"""Supervision: indexes for a unit's rows of a period, measured by bench/supervision.py at Pingliang's scale.

Each unit-only index gives way to one on the unit and the time the figures filter by (it still serves
lookups by unit alone); receipts waiting past their deadline get a partial index, archive items one by
unit and document, notices one by kind and time. On SQLite with a quarter and its predecessor
(285,597 receipts, 1.65 million texts a quarter) one quarter's figures went from about 100 s to 9 s.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 15:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")
# (table, the unit-only index it had, the new index, its columns)
BY_UNIT_AND_TIME = (
    ('receipt', 'ix_receipt_unit_id', 'ix_receipt_unit_dispatched', ['unit_id', 'dispatched_at']),
    ('incoming_record', 'ix_incoming_record_unit_id', 'ix_incoming_record_unit_registered',
     ['unit_id', 'registered_at']),
    ('document', 'ix_document_issuing_unit_id', 'ix_document_issuer_created', ['issuing_unit_id', 'created_at']),
    ('archive_item', 'ix_archive_item_unit_id', 'ix_archive_item_unit_document', ['unit_id', 'document_id']),
    ('text_message', 'ix_text_message_unit_id', 'ix_text_message_unit_created', ['unit_id', 'created_at']),
    ('inbox_look', 'ix_inbox_look_unit_id', 'ix_inbox_look_unit_at', ['unit_id', 'at']),
)


def upgrade() -> None:
    for table, old, new, columns in BY_UNIT_AND_TIME:
        op.create_index(new, table, columns)
        op.drop_index(old, table_name=table)
    op.create_index('ix_receipt_pending_due', 'receipt', ['unit_id', 'due_at'], postgresql_where=PENDING,
                    sqlite_where=PENDING)
    op.create_index('ix_notification_kind_created', 'notification', ['kind', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_notification_kind_created', table_name='notification')
    op.drop_index('ix_receipt_pending_due', table_name='receipt', postgresql_where=PENDING, sqlite_where=PENDING)
    for table, old, new, columns in BY_UNIT_AND_TIME:
        op.create_index(old, table, columns[:1])
        op.drop_index(new, table_name=table)

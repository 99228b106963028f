"""Documents: issuers, attachments, numbers, receipts, versions, seals and CAs, the incoming register, archive.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 21:36:37.435935
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deadline_rule',
    sa.Column('urgency', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.Double(), nullable=False),
    sa.Column('measure', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('urgency')
    )
    op.create_table('number_counter',
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('next_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', 'year')
    )
    op.create_table('stored_file',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('certificate_authority',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('certificate_pem', sa.Text(), nullable=False),
    sa.Column('key_blob', sa.LargeBinary(), nullable=False),
    sa.Column('crl_number', sa.Integer(), nullable=False),
    sa.Column('crl_der', sa.LargeBinary(), nullable=True),
    sa.Column('crl_published_at', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['certificate_authority.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('unit_id')
    )
    op.create_table('distribution_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_unit_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('unit_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['owner_unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('distribution_list', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_list_owner_unit_id'), ['owner_unit_id'], unique=False)

    op.create_table('seal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('ca_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('diameter_mm', sa.Double(), nullable=False),
    sa.Column('image_pdf', sa.LargeBinary(), nullable=False),
    sa.Column('certificate_pem', sa.Text(), nullable=False),
    sa.Column('serial', sa.String(length=64), nullable=False),
    sa.Column('key_blob', sa.LargeBinary(), nullable=False),
    sa.Column('valid_from', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('valid_to', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('active', 'revoked', 'superseded', name='seal_status', native_enum=False, length=32), nullable=False),
    sa.Column('revoked_at', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('revoke_reason', sa.String(length=20), nullable=True),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ca_id'], ['certificate_authority.id'], ),
    sa.ForeignKeyConstraint(['replaces_id'], ['seal.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('seal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seal_unit_id'), ['unit_id'], unique=False)

    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('issuing_unit_id', sa.Integer(), nullable=False),
    sa.Column('drafter_id', sa.Integer(), nullable=False),
    sa.Column('drafting_department_id', sa.Integer(), nullable=True),
    sa.Column('doc_type', sa.Enum('resolution', 'decision', 'order', 'communique', 'announcement', 'public_notice', 'opinion', 'notice', 'circular', 'report', 'request', 'reply', 'motion', 'letter', 'minutes', name='doc_type', native_enum=False, length=32), nullable=False),
    sa.Column('direction', sa.Enum('upward', 'downward', 'parallel', name='direction', native_enum=False, length=32), nullable=False),
    sa.Column('urgency', sa.Enum('normal', 'urgent', 'extra_urgent', name='urgency', native_enum=False, length=32), nullable=False),
    sa.Column('classification', sa.String(length=20), nullable=False),
    sa.Column('copy_number', sa.String(length=6), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('main_to', sa.JSON(), nullable=False),
    sa.Column('main_to_text', sa.Text(), nullable=False),
    sa.Column('cc', sa.JSON(), nullable=False),
    sa.Column('cc_text', sa.Text(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('signers', sa.JSON(), nullable=False),
    sa.Column('signing_date', sa.Date(), nullable=True),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('printed_by', sa.String(length=100), nullable=False),
    sa.Column('printed_on', sa.Date(), nullable=True),
    sa.Column('important', sa.Boolean(), nullable=False),
    sa.Column('one_matter', sa.Boolean(), nullable=False),
    sa.Column('doc_number', sa.String(length=60), nullable=True),
    sa.Column('number_code', sa.String(length=20), nullable=True),
    sa.Column('number_year', sa.Integer(), nullable=True),
    sa.Column('number_seq', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('drafting', 'reviewing', 'returned', 'awaiting_sign_off', 'signed_off', 'numbered', 'typeset', 'sealed', 'dispatched', 'revoked', 'repealed', name='doc_status', native_enum=False, length=32), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('sealed_sha256', sa.String(length=64), nullable=True),
    sa.Column('seal_boxes', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('reply_to_id', sa.Integer(), nullable=True),
    sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['drafter_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['drafting_department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ),
    sa.ForeignKeyConstraint(['issuing_unit_id'], ['unit.id'], ),
    sa.ForeignKeyConstraint(['reply_to_id'], ['document.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number_code', 'number_year', 'number_seq')
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_doc_number'), ['doc_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_issuing_unit_id'), ['issuing_unit_id'], unique=False)

    op.create_table('archive_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('fonds_code', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('retention', sa.Enum('Y', 'D30', 'D10', name='retention', native_enum=False, length=32), nullable=False),
    sa.Column('org_code', sa.String(length=20), nullable=False),
    sa.Column('item_number', sa.Integer(), nullable=False),
    sa.Column('archive_code', sa.String(length=80), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('copy_sha256', sa.String(length=64), nullable=False),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=True),
    sa.Column('archived_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('archived_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['archived_by_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('archive_code'),
    sa.UniqueConstraint('fonds_code', 'year', 'retention', 'org_code', 'item_number')
    )
    with op.batch_alter_table('archive_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_archive_item_unit_id'), ['unit_id'], unique=False)

    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['sha256'], ['stored_file.sha256'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_document_id'), ['document_id'], unique=False)

    op.create_table('document_issuer',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('signed_off_by_id', sa.Integer(), nullable=True),
    sa.Column('signed_off_at', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('seal_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['seal_id'], ['seal.id'], ),
    sa.ForeignKeyConstraint(['signed_off_by_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('document_id', 'unit_id')
    )
    op.create_table('document_version',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('sealed_sha256', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.PrimaryKeyConstraint('document_id', 'version')
    )
    op.create_table('receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('copy', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'signed', 'returned', name='receipt_status', native_enum=False, length=32), nullable=False),
    sa.Column('incoming_instance_id', sa.Integer(), nullable=True),
    sa.Column('dispatched_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('signed_at', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.Column('return_reason', sa.String(length=500), nullable=True),
    sa.Column('due_at', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('overdue_since', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_chased_at', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('verification', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['incoming_instance_id'], ['process_instance.id'], ),
    sa.ForeignKeyConstraint(['signed_by_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('document_id', 'unit_id', 'version')
    )
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipt_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receipt_unit_id'), ['unit_id'], unique=False)

    op.create_table('incoming_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('incoming_number', sa.String(length=40), nullable=False),
    sa.Column('registered_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('lead_department_id', sa.Integer(), nullable=True),
    sa.Column('assisting_department_ids', sa.JSON(), nullable=False),
    sa.Column('handle_due', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('handled_at', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('reply_document_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ),
    sa.ForeignKeyConstraint(['lead_department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipt.id'], ),
    sa.ForeignKeyConstraint(['reply_document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id'),
    sa.UniqueConstraint('unit_id', 'year', 'seq')
    )
    with op.batch_alter_table('incoming_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incoming_record_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incoming_record_unit_id'), ['unit_id'], unique=False)

    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code', sa.String(length=20), nullable=True))

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fonds_code', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('principal_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_unit_principal_id_person', 'person', ['principal_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_constraint('fk_unit_principal_id_person', type_='foreignkey')
        batch_op.drop_column('principal_id')
        batch_op.drop_column('fonds_code')

    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.drop_column('code')

    with op.batch_alter_table('incoming_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incoming_record_unit_id'))
        batch_op.drop_index(batch_op.f('ix_incoming_record_document_id'))

    op.drop_table('incoming_record')
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipt_unit_id'))
        batch_op.drop_index(batch_op.f('ix_receipt_document_id'))

    op.drop_table('receipt')
    op.drop_table('document_version')
    op.drop_table('document_issuer')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_document_id'))

    op.drop_table('attachment')
    with op.batch_alter_table('archive_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archive_item_unit_id'))

    op.drop_table('archive_item')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_issuing_unit_id'))
        batch_op.drop_index(batch_op.f('ix_document_instance_id'))
        batch_op.drop_index(batch_op.f('ix_document_doc_number'))

    op.drop_table('document')
    with op.batch_alter_table('seal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seal_unit_id'))

    op.drop_table('seal')
    with op.batch_alter_table('distribution_list', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distribution_list_owner_unit_id'))

    op.drop_table('distribution_list')
    op.drop_table('certificate_authority')
    op.drop_table('stored_file')
    op.drop_table('number_counter')
    op.drop_table('deadline_rule')

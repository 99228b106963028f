"""Personal signing certificates (个人签名证书) and the signatures on 签发 and 批示 opinions.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 23:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None
IN_FORCE = "status IN ('requested', 'active', 'suspended')"


def upgrade() -> None:
    op.create_table(
        'personal_certificate',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('ca_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.Enum('requested', 'declined', 'active', 'suspended', 'revoked',
                                    name='certificate_status', native_enum=False, length=32), nullable=False),
        sa.Column('serial', sa.String(length=64), nullable=True),
        sa.Column('certificate_pem', sa.Text(), nullable=True),
        sa.Column('key_blob', sa.LargeBinary(), nullable=True),
        sa.Column('requested_at', engine.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('issued_at', engine.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('valid_to', engine.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('suspended_at', engine.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', engine.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('reason', sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(['ca_id'], ['certificate_authority.id']),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('personal_certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_personal_certificate_person_id'), ['person_id'], unique=False)
        batch_op.create_index('uq_personal_certificate_in_force', ['person_id'], unique=True,
                              postgresql_where=sa.text(IN_FORCE), sqlite_where=sa.text(IN_FORCE))
    op.create_table(
        'opinion_signature',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Uuid(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('certificate_id', sa.Integer(), nullable=False),
        sa.Column('payload', sa.LargeBinary(), nullable=False),
        sa.Column('signature', sa.LargeBinary(), nullable=False),
        sa.Column('signed_at', engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['certificate_id'], ['personal_certificate.id']),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id']),
        sa.ForeignKeyConstraint(['task_id'], ['task.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('task_id'),
    )
    with op.batch_alter_table('opinion_signature', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opinion_signature_instance_id'), ['instance_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('opinion_signature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opinion_signature_instance_id'))
    op.drop_table('opinion_signature')
    with op.batch_alter_table('personal_certificate', schema=None) as batch_op:
        batch_op.drop_index('uq_personal_certificate_in_force', postgresql_where=sa.text(IN_FORCE),
                            sqlite_where=sa.text(IN_FORCE))
        batch_op.drop_index(batch_op.f('ix_personal_certificate_person_id'))
    op.drop_table('personal_certificate')

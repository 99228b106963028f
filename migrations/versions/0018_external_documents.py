"""Documents from outside Gongwen and on paper: the scan, the editable file, their text.

``external_document`` holds what a clerk registered (sender organ as text, 来文字号, 成文日期, urgency, a
non-classified level, the scan, the editable file, the searchable PDF and the text with where it came
from); a row of the 收文登记 points at a Gongwen document or at one of these, exactly one; an archived
item of an external document has no Gongwen document.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 22:15:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "external_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("sender_organ", sa.String(length=100), nullable=False),
        sa.Column("sender_number", sa.String(length=60), nullable=True),
        sa.Column("written_on", sa.Date(), nullable=True),
        sa.Column("urgency", sa.Enum("normal", "urgent", "extra_urgent", name="urgency", native_enum=False,
                                     length=32), nullable=False),
        sa.Column("classification", sa.String(length=10), nullable=False),
        sa.Column("paper", sa.Boolean(), nullable=False),
        sa.Column("scan_sha256", sa.String(length=64), nullable=False),
        sa.Column("scan_media_type", sa.String(length=60), nullable=False),
        sa.Column("editable_sha256", sa.String(length=64), nullable=True),
        sa.Column("editable_kind", sa.String(length=8), nullable=True),
        sa.Column("searchable_sha256", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("text_source", sa.Enum("ocr", "docx", "doc", "wps", "txt", name="text_source", native_enum=False,
                                         length=32), nullable=True),
        sa.Column("text_note", sa.String(length=300), nullable=True),
        sa.Column("text_done_at", engine.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("registered_by_id", sa.Integer(), nullable=False),
        sa.Column("registered_at", engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"]),
        sa.ForeignKeyConstraint(["registered_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id"),
    )
    with op.batch_alter_table("external_document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_external_document_unit_id"), ["unit_id"], unique=False)
    with op.batch_alter_table("incoming_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_document_id", sa.Integer(), nullable=True))
        batch_op.alter_column("document_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("receipt_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_unique_constraint("uq_incoming_record_external_document_id", ["external_document_id"])
        batch_op.create_foreign_key("fk_incoming_record_external_document_id_external_document", "external_document",
                                    ["external_document_id"], ["id"])
        batch_op.create_check_constraint("incoming_record_one_source",
                                         "(document_id IS NULL) <> (external_document_id IS NULL)")
    with op.batch_alter_table("archive_item", schema=None) as batch_op:
        batch_op.alter_column("document_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("archive_item", schema=None) as batch_op:
        batch_op.alter_column("document_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("incoming_record", schema=None) as batch_op:
        batch_op.drop_constraint("incoming_record_one_source", type_="check")
        batch_op.drop_constraint("fk_incoming_record_external_document_id_external_document", type_="foreignkey")
        batch_op.drop_constraint("uq_incoming_record_external_document_id", type_="unique")
        batch_op.alter_column("receipt_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("document_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("external_document_id")
    with op.batch_alter_table("external_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_external_document_unit_id"))
    op.drop_table("external_document")

"""Forwarding (转发) and departments' own exchange boxes (处室收文箱).

``forward`` links a covering notice to the document it forwards (and the sealed file it carries);
``department_box`` is a department's box with its 收文号 prefix; ``box_delivery`` says which department's box
receives a unit's copy of a document. ``incoming_record.department_id`` names the box a record was registered in,
and the register's unique numbers become one series per unit plus one per department box.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08 00:45:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

UNIT_SERIES, BOX_SERIES = sa.text("department_id IS NULL"), sa.text("department_id IS NOT NULL")
# SQLite's copy of the table knows the old unique constraint by no name: batch mode names it by this convention.
_NAMED = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def _old_unique() -> str:
    return "uq_incoming_record_unit_id_year_seq" if op.get_bind().dialect.name == "sqlite" else \
        "incoming_record_unit_id_year_seq_key"


def upgrade() -> None:
    op.create_table(
        "forward",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("original_id", sa.Integer(), nullable=False),
        sa.Column("sealed_sha256", sa.String(length=64), nullable=False),
        sa.Column("forwarded_by_id", sa.Integer(), nullable=False),
        sa.Column("forwarded_at", engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.ForeignKeyConstraint(["original_id"], ["document.id"]),
        sa.ForeignKeyConstraint(["sealed_sha256"], ["stored_file.sha256"]),
        sa.ForeignKeyConstraint(["forwarded_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("document_id"),
    )
    op.create_index("ix_forward_original_id", "forward", ["original_id"])
    op.create_table(
        "department_box",
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("opened_at", engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.PrimaryKeyConstraint("department_id"),
    )
    op.create_table(
        "box_delivery",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["department_id"], ["department_box.department_id"]),
        sa.PrimaryKeyConstraint("document_id", "unit_id"),
    )
    with op.batch_alter_table("incoming_record", naming_convention=_NAMED) as batch:
        batch.add_column(sa.Column("department_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_incoming_record_department_id", "department", ["department_id"], ["id"])
        batch.drop_constraint(_old_unique(), type_="unique")
    op.create_index("uq_incoming_record_unit_seq", "incoming_record", ["unit_id", "year", "seq"], unique=True,
                    sqlite_where=UNIT_SERIES, postgresql_where=UNIT_SERIES)
    op.create_index("uq_incoming_record_box_seq", "incoming_record", ["department_id", "year", "seq"], unique=True,
                    sqlite_where=BOX_SERIES, postgresql_where=BOX_SERIES)


def downgrade() -> None:
    op.drop_index("uq_incoming_record_box_seq", table_name="incoming_record")
    op.drop_index("uq_incoming_record_unit_seq", table_name="incoming_record")
    with op.batch_alter_table("incoming_record", naming_convention=_NAMED) as batch:
        batch.drop_constraint("fk_incoming_record_department_id", type_="foreignkey")
        batch.drop_column("department_id")
        batch.create_unique_constraint(_old_unique(), ["unit_id", "year", "seq"])
    op.drop_table("box_delivery")
    op.drop_table("department_box")
    op.drop_index("ix_forward_original_id", table_name="forward")
    op.drop_table("forward")

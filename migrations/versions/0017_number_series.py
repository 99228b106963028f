"""Number series beside a unit's main one: 函 (连政办函), 明电 (连政办发明电), 字 …, each with its own code
and counter, and the series a drafter chose for a document.

Every unit whose main code ends in 发 (连政办发) is given its 函 series (连政办函) for the 函 it writes,
where no unit holds that code yet: until now a 函 was numbered in the main series.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 21:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "number_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("doc_types", sa.JSON(), nullable=False),
        sa.Column("telegram", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("number_series", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_number_series_unit_id"), ["unit_id"], unique=False)
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("series_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_document_series_id_number_series", "number_series", ["series_id"], ["id"])

    connection = op.get_bind()
    taken = {code for (code,) in connection.execute(sa.text("SELECT issuer_code FROM unit WHERE issuer_code IS NOT NULL"))}
    series = sa.table("number_series", sa.column("unit_id"), sa.column("name"), sa.column("code"),
                      sa.column("doc_types", sa.JSON()), sa.column("telegram"), sa.column("active"))
    rows = [{"unit_id": unit_id, "name": "函", "code": code[:-1] + "函", "doc_types": ["letter"],
             "telegram": False, "active": True}
            for unit_id, code in connection.execute(sa.text(
                "SELECT id, issuer_code FROM unit WHERE issuer_code LIKE '%发' ORDER BY id"))
            if code[:-1] + "函" not in taken]
    if rows:
        op.bulk_insert(series, rows)


def downgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_constraint("fk_document_series_id_number_series", type_="foreignkey")
        batch_op.drop_column("series_id")
    with op.batch_alter_table("number_series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_number_series_unit_id"))
    op.drop_table("number_series")

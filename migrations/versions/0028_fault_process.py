"""The fault process: ``fault_report.instance_id``, the ``fault`` process (workflows/fault.bpmn) that carries the
网信办's steps, its reminder and its escalation; ``fault_report.repair_days``, the working days a repair took,
counted when it is recorded so that the supervision figures sum them in one grouped query

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-08 01:25:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fault_report") as batch:
        batch.add_column(sa.Column("instance_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("repair_days", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_fault_report_instance_id_process_instance", "process_instance",
                                 ["instance_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("fault_report") as batch:
        batch.drop_constraint("fk_fault_report_instance_id_process_instance", type_="foreignkey")
        batch.drop_column("repair_days")
        batch.drop_column("instance_id")

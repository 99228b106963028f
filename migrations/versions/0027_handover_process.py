"""A handover runs as the ``handover`` process: the record names its instance (``handover.instance_id``), whose
tasks put the two confirmations and the 分管领导's sign-off in the people's inboxes

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08 01:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handover") as batch:
        batch.add_column(sa.Column("instance_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_handover_instance_id_process_instance", "process_instance",
                                 ["instance_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("handover") as batch:
        batch.drop_constraint("fk_handover_instance_id_process_instance", type_="foreignkey")
        batch.drop_column("instance_id")

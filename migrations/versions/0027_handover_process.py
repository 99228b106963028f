"""Placeholder for the handover process: filled in by its change.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08 01:15:00
"""

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

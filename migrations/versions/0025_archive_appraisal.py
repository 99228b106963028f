"""Placeholder for archive appraisal: filled in by its change.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08 00:45:00
"""

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

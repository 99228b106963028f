"""Handover records when a person retires, moves or is frozen (filled by the handover work)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 22:15:00
"""

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

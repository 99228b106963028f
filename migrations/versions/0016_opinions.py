"""常用意见, handwritten signatures kept with opinions and people's 职务 (filled by the opinions work)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 21:10:00
"""

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

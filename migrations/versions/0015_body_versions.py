"""留痕: every version of a document's body, with who changed it at which step (filled by the tracked-changes work)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 21:10:00
"""

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""留痕: every version of a document's body, with who changed it at which step

``document_revision`` keeps each version of a document's title and body: the draft as submitted, a
reviewer's or signing leader's change, a proofreading correction. Documents drafted before it get their
current wording as revision 1, by their drafter, so later changes have a text to be compared with.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 21:10:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    revisions = op.create_table(
        'document_revision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Uuid(), nullable=True),
        sa.Column('step', sa.String(length=100), nullable=False),
        sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['document.id']),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('document_id', 'number'),
    )
    documents = sa.table('document', sa.column('id', sa.Integer), sa.column('title', sa.String),
                         sa.column('body', sa.JSON), sa.column('drafter_id', sa.Integer),
                         sa.column('updated_at', engine.db.UtcDateTime(timezone=True)))
    after = 0
    while drafted := op.get_bind().execute(sa.select(documents).where(documents.c.title != '', documents.c.id > after)
                                           .order_by(documents.c.id).limit(1000)).all():
        op.bulk_insert(revisions, [{'document_id': d.id, 'number': 1, 'title': d.title, 'body': '\n'.join(d.body),
                                    'person_id': d.drafter_id, 'task_id': None, 'step': '拟稿',
                                    'created_at': d.updated_at} for d in drafted])
        after = drafted[-1].id


def downgrade() -> None:
    op.drop_table('document_revision')

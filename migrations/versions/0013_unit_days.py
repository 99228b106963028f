"""Supervision at a city's scale: each unit's day counters, and when a received document was archived.

``unit_day`` holds what a unit's people did each day (logins, people who logged in, looks at the
inbox, the duty watch's reminders, texts and what the accepted ones cost), added to by the
transactions that do them; ``incoming_record.archived_at`` repeats the archive item's time, so the
archive rate and the backlog are read from the register alone. Both are filled from the rows
already there. bench/supervision.py measured the counts they replace at 2.9 s (texts) and 2.4 s
(logins) a quarter on PostgreSQL at Pingliang's scale.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 16:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

UNARCHIVED = sa.text("handled_at IS NOT NULL AND archived_at IS NULL")
COUNTERS = ("logins", "person_days", "looks", "watch_reminders", "texts", "text_segments", "text_cost")


def _day(column: str) -> str:
    """The Beijing date of a stored UTC time."""
    if op.get_bind().dialect.name == "sqlite":
        return f"date({column}, '+8 hours')"
    return f"CAST(({column} AT TIME ZONE 'Asia/Shanghai') AS DATE)"


def upgrade() -> None:
    op.create_table(
        'unit_day',
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), server_default='0', nullable=False) for name in COUNTERS[:-1]),
        sa.Column('text_cost', sa.Numeric(precision=12, scale=4), server_default='0', nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id']),
        sa.PrimaryKeyConstraint('unit_id', 'day'),
    )
    with op.batch_alter_table('incoming_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', engine.db.UtcDateTime(timezone=True), nullable=True))
    op.create_index('ix_incoming_record_unit_handled', 'incoming_record', ['unit_id', 'handled_at'])
    op.create_index('ix_incoming_record_unarchived', 'incoming_record', ['unit_id'], sqlite_where=UNARCHIVED,
                    postgresql_where=UNARCHIVED)

    op.execute("""
        UPDATE incoming_record SET archived_at = (
            SELECT min(archive_item.archived_at) FROM archive_item
            WHERE archive_item.unit_id = incoming_record.unit_id
              AND archive_item.document_id = incoming_record.document_id)
        WHERE handled_at IS NOT NULL""")
    watch, accepted = "('duty_watch', 'half_day_watch')", "('sent', 'delivered')"
    zeros = {name: "0" for name in COUNTERS}

    def part(source: str, unit: str, day: str, where: str = "", **values: str) -> str:
        columns = ", ".join(values.get(name, zeros[name]) + f" AS {name}" for name in COUNTERS)
        return f"SELECT {unit} AS unit_id, {day} AS day, {columns} FROM {source} {where}"

    parts = " UNION ALL ".join((
        part("login_day", "unit_id", "day", "WHERE unit_id IS NOT NULL", logins="logins", person_days="1"),
        part("inbox_look", "unit_id", _day("at"), "WHERE unit_id IS NOT NULL", looks="1"),
        part("notification JOIN person ON person.id = notification.person_id", "person.unit_id",
             _day("notification.created_at"), f"WHERE notification.kind IN {watch} AND person.unit_id IS NOT NULL",
             watch_reminders="1"),
        part("text_message", "unit_id", _day("created_at"), "WHERE status <> 'switched_off'", texts="1",
             text_segments=f"CASE WHEN status IN {accepted} THEN segments ELSE 0 END",
             text_cost=f"CASE WHEN status IN {accepted} THEN cost ELSE 0 END"),
    ))
    sums = ", ".join(f"sum({name})" for name in COUNTERS)
    op.execute(f"INSERT INTO unit_day (unit_id, day, {', '.join(COUNTERS)}) "
               f"SELECT unit_id, day, {sums} FROM ({parts}) AS counted GROUP BY unit_id, day")


def downgrade() -> None:
    op.drop_index('ix_incoming_record_unarchived', table_name='incoming_record', sqlite_where=UNARCHIVED,
                  postgresql_where=UNARCHIVED)
    op.drop_index('ix_incoming_record_unit_handled', table_name='incoming_record')
    with op.batch_alter_table('incoming_record', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
    op.drop_table('unit_day')

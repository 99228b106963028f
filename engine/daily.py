"""Each unit's day in counters (UnitDay), added to in the transaction of what they count.

Reports over a quarter read a thousand units' ninety days here instead of millions of logins, looks
and texts. A counter is only ever added to (a negative amount takes back what was counted too early),
so concurrent transactions never lose each other's counts: the row is upserted with ``x = x + n``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from . import clock
from .models import UnitDay

COUNTERS = ("logins", "person_days", "looks", "watch_reminders", "texts", "text_segments", "text_cost")


def add_to_day(session: Session, unit_id: int | None, day: date | datetime, **counts: int | Decimal) -> None:
    """Add ``counts`` (names from :data:`COUNTERS`) to ``unit_id``'s row for ``day`` (a Beijing date, or a
    moment whose Beijing date is meant); nothing for a person of no unit."""
    if unit_id is None or not any(counts.values()):
        return
    unknown = set(counts) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown day counters {sorted(unknown)}")
    if isinstance(day, datetime):
        day = clock.local(day).date()
    table = UnitDay.__table__
    dialect_insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    statement = dialect_insert(table).values(unit_id=unit_id, day=day, **counts)
    session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.unit_id, table.c.day],
        set_={name: table.c[name] + amount for name, amount in counts.items()}))

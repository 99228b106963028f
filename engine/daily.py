"""Counters by unit and day, added to in the transaction of what they count.

Reports over a quarter read a thousand units' ninety days of counters instead of millions of
logins, looks, texts and receipts. A counter is only ever added to (a negative amount takes back
what was counted too early), so concurrent transactions never lose each other's counts: each row
is upserted with ``x = x + n`` (or ``x = greatest(x, n)`` for a maximum). The engine keeps its own
(``UnitDay``); a domain keeps its counters in its own table with :func:`add_counts`.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Insert, Table, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from . import clock
from .models import UnitDay

COUNTERS = ("logins", "person_days", "looks", "watch_reminders", "texts", "text_segments", "text_cost")


def local_day(day: date | datetime) -> date:
    """The Beijing date a counter row is kept under: ``day`` itself, or a moment's Beijing date."""
    return clock.local(day).date() if isinstance(day, datetime) else day


def add_counts(session: Session, table: Table, keys: Sequence[str], rows: Sequence[Mapping[str, object]],
               maxima: Collection[str] = ()) -> None:
    """Add each row's counters to ``table``'s row of the same ``keys``, creating it if missing; the columns
    named in ``maxima`` keep the greater value instead of the sum. Every row names the same counters.

    Rows must not repeat a key (PostgreSQL updates a row once per statement): sum them first.
    """
    if not rows:
        return
    counters = tuple(name for name in rows[0] if name not in keys)
    statement = _upsert(table, tuple(keys), counters, frozenset(maxima), session.get_bind().dialect.name)
    session.execute(statement, list(rows))


@functools.cache
def _upsert(table: Table, keys: tuple[str, ...], counters: tuple[str, ...], maxima: frozenset[str],
            dialect: str) -> Insert:
    """The upsert of one table's counters, built once: a statement with its values inline is compiled
    again at every call (0.4 ms a sign-for, 17 ms a dispatch batch of 200); this one is cached."""
    sqlite = dialect == "sqlite"
    statement = (sqlite_insert if sqlite else pg_insert)(table)
    greatest = func.max if sqlite else func.greatest   # SQLite's max() of two arguments is the scalar one
    return statement.on_conflict_do_update(
        index_elements=[table.c[key] for key in keys],
        set_={name: (greatest(table.c[name], statement.excluded[name]) if name in maxima
                     else table.c[name] + statement.excluded[name]) for name in counters})


def add_to_day(session: Session, unit_id: int | None, day: date | datetime, **counts: int | Decimal) -> None:
    """Add ``counts`` (names from :data:`COUNTERS`) to ``unit_id``'s row for ``day`` (a Beijing date, or a
    moment whose Beijing date is meant); nothing for a person of no unit."""
    if unit_id is None or not any(counts.values()):
        return
    unknown = set(counts) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown day counters {sorted(unknown)}")
    add_counts(session, UnitDay.__table__, ("unit_id", "day"),
               [{"unit_id": unit_id, "day": local_day(day), **counts}])

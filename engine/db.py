"""Database engines and sessions.

SQLite runs in WAL mode with foreign keys on; SQLAlchemy's own transaction
handling is switched off in the driver so that Gongwen can ``BEGIN IMMEDIATE`` for a
step (the SQLite form of a per-instance lock) and use savepoints around handlers.
PostgreSQL needs nothing special.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import DateTime, Engine, Enum, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator):
    """An aware UTC datetime on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Gongwen stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {datetime: UtcDateTime}


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for ``url`` with Gongwen's connection settings applied."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # WAL with NORMAL never corrupts the database; a power cut may lose the last commits.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            mode = "BEGIN IMMEDIATE" if conn.get_execution_options().get("immediate") else "BEGIN"
            conn.exec_driver_sql(mode)

        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def is_sqlite(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "sqlite"


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that takes SQLite's write lock at once (``BEGIN IMMEDIATE``).

        Steps use it so that two writers never both read, then both fail to write.
        On PostgreSQL it is an ordinary transaction; rows are locked explicitly.
        """
        with self.sessions() as session, session.begin():
            session.connection(execution_options={"immediate": True})
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def str_enum(cls: type[enum.Enum], name: str) -> Enum:
    """A column for a string enum, stored as its values in a VARCHAR (no native database enum)."""
    return Enum(cls, name=name, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])

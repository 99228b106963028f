"""Alembic environment: runs against the URL Gongwen is configured with."""

from alembic import context
from sqlalchemy import pool

import handlers  # noqa: F401  (every domain registers its tables on Base.metadata)
from engine.db import Base, make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = make_engine(url, poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection) -> None:
    # SQLite alters a table by copying it and dropping the old one (batch mode). With foreign keys
    # enforced, dropping a table other rows refer to fails (a downgrade of document, say), so they are
    # off while migrating, as Alembic advises, and checked before they are on again.
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # on the driver's connection: SQLite ignores the pragma inside the BEGIN SQLAlchemy would open
        connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
            raise RuntimeError(f"migrating left rows pointing at nothing: {broken[:5]}")
    finally:
        if sqlite:
            connection.rollback()  # ends what the check began; the migrations committed their own
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")


run_migrations_online()

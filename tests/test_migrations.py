"""The Alembic history builds exactly the tables the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import engine.models  # noqa: F401  (fills the metadata)
from engine.db import Base


def test_the_migrations_build_exactly_the_models(database_url):
    connectable = create_engine(database_url)
    with connectable.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    connectable.dispose()
    assert differences == []

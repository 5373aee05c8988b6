"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import scholia.core.models  # noqa: F401  (registers the tables)
from scholia.core.db import migration_status
from scholia.core.runtime import Runtime


def test_migrations_match_the_models(runtime: Runtime) -> None:
    with runtime.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == [], "write a migration for these model changes"


def test_the_test_database_is_at_the_newest_migration(runtime: Runtime) -> None:
    assert migration_status(runtime.engine).is_current

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


def test_upgrading_makes_existing_users_members_of_existing_projects(runtime: Runtime) -> None:
    """Before 0010 everyone saw every project with their account's roles; after it, each
    non-admin user is a member of each project with their highest role, so nothing breaks."""
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import insert, text

    from scholia.core.db import _alembic_config, upgrade
    from scholia.core.models import Project, User

    engine = runtime.engine
    command.downgrade(_alembic_config(engine), "0008")
    when = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        for n, roles in enumerate([["annotator"], ["reviewer", "manager"], ["admin"]], 1):
            connection.execute(
                insert(User.__table__),  # type: ignore[attr-defined]
                {
                    "id": n,
                    "username": f"u{n}",
                    "display_name": f"u{n}",
                    "roles": roles,
                    "pseudonym": f"ann-{n}",
                    "is_active": True,
                    "created_at": when,
                },
            )
        for p in (1, 2):
            connection.execute(
                insert(Project.__table__),  # type: ignore[attr-defined]
                {
                    "id": p,
                    "name": "P",
                    "description": "",
                    "modality": "image",
                    "annotation_types": [],
                    "settings": {},
                    "created_by": 3,
                    "created_at": when,
                },
            )
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT project_id, user_id, role FROM project_member ORDER BY 1, 2")
        ).all()
    assert [tuple(r) for r in rows] == [
        (1, 1, "annotator"),
        (1, 2, "manager"),
        (2, 1, "annotator"),
        (2, 2, "manager"),
    ]

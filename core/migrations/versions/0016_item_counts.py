"""item counts kept by triggers; grid indexes to sort by name and by last change

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

The grid's tabs and chips showed exact ``COUNT``s over the project's items on every load,
which grows with the project (about 150 ms at 1M items). ``item_count`` holds +1/-1 rows
written by triggers on ``item`` and ``item_category`` in the writer's own transaction, so
summing them is exact and costs what the number of changes since the last fold costs. The
triggers only insert: concurrent writers never wait on a counter row. The table starts with
one folded row per key, counted from the existing rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADD = "INSERT INTO item_count (project_id, facet, key, n) VALUES "

# (trigger name, event, table, condition, rows added); NEW/OLD as in both dialects.
TRIGGERS = [
    ("item_count_insert", "INSERT", "item", None, ["(NEW.project_id, 'status', NEW.status, 1)"]),
    (
        "item_count_status",
        "UPDATE",
        "item",
        "OLD.status <> NEW.status",
        [
            "(OLD.project_id, 'status', OLD.status, -1)",
            "(NEW.project_id, 'status', NEW.status, 1)",
        ],
    ),
    ("item_count_delete", "DELETE", "item", None, ["(OLD.project_id, 'status', OLD.status, -1)"]),
    (
        "item_category_count_insert",
        "INSERT",
        "item_category",
        None,
        ["(NEW.project_id, 'category', CAST(NEW.category_id AS VARCHAR(64)), 1)"],
    ),
    (
        "item_category_count_delete",
        "DELETE",
        "item_category",
        None,
        ["(OLD.project_id, 'category', CAST(OLD.category_id AS VARCHAR(64)), -1)"],
    ),
]


def upgrade() -> None:
    op.create_index("ix_item_project_name", "item", ["project_id", "name", "id"])
    op.create_index("ix_item_project_updated", "item", ["project_id", "updated_at", "id"])
    op.create_table(
        "item_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_item_count_project", "item_count", ["project_id", "facet", "key"])
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, event, table, when, rows in TRIGGERS:
        if postgres:
            row = "NEW" if event != "DELETE" else "OLD"
            body = f"{ADD}{', '.join(rows)};"
            if when:
                body = f"IF {when} THEN {body} END IF;"
            op.execute(
                f"CREATE FUNCTION scholia_{name}() RETURNS trigger AS $$ BEGIN {body} "
                f"RETURN {row}; END; $$ LANGUAGE plpgsql"
            )
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event}"
                f"{' OF status' if event == 'UPDATE' else ''} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION scholia_{name}()"
            )
        else:
            condition = f" WHEN {when}" if when else ""
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event}"
                f"{' OF status' if event == 'UPDATE' else ''} ON {table}{condition} "
                f"BEGIN {ADD}{', '.join(rows)}; END"
            )
    op.execute(
        "INSERT INTO item_count (project_id, facet, key, n) "
        "SELECT project_id, 'status', status, count(*) FROM item GROUP BY project_id, status"
    )
    op.execute(
        "INSERT INTO item_count (project_id, facet, key, n) "
        "SELECT project_id, 'category', CAST(category_id AS VARCHAR(64)), count(*) "
        "FROM item_category GROUP BY project_id, category_id"
    )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, _, table, _, _ in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}{f' ON {table}' if postgres else ''}")
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS scholia_{name}()")
    op.drop_index("ix_item_count_project", table_name="item_count")
    op.drop_table("item_count")
    op.drop_index("ix_item_project_updated", table_name="item")
    op.drop_index("ix_item_project_name", table_name="item")

"""append-only against REPLACE: refuse an insert whose key already exists

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

On SQLite ``INSERT OR REPLACE`` (and ``REPLACE INTO``) removes the row holding a conflicting key
and writes the new one, without firing the DELETE triggers of the first migration (SQLite fires
them only with ``PRAGMA recursive_triggers``, a per-connection setting nobody can be made to
use). So a payload or an audit action could be rewritten in place. A BEFORE INSERT trigger on
each append-only table refuses a row whose primary key or unique key is already taken, whatever
the conflict clause.

PostgreSQL has no REPLACE; ``INSERT … ON CONFLICT DO UPDATE`` fires the BEFORE UPDATE trigger
on the existing row, which the first migration already refuses, and ``ON CONFLICT DO NOTHING``
changes nothing. tests/test_append_only.py checks both databases.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "annotation": (("id",), ("annotator_id", "client_op_id"), ("supersedes_id",)),
    "audit_event": (("id",),),
}
"""Every append-only table with its primary key and unique keys: a REPLACE on any of them
would remove the row that holds it."""


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, keys in KEYS.items():
        # A NULL never equals anything, so rows without a client_op_id or supersedes_id
        # (which the unique constraints allow many of) pass, as they should.
        taken = " OR ".join(
            "EXISTS (SELECT 1 FROM {table} WHERE {match})".format(
                table=table, match=" AND ".join(f"{column} = NEW.{column}" for column in key)
            )
            for key in keys
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only_replace BEFORE INSERT ON {table} "
            f"WHEN {taken} BEGIN "
            f"SELECT RAISE(ABORT, 'INSERT over an existing row of {table} refused: the table is "
            "append-only; write a new row with a new key instead'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in KEYS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_replace")

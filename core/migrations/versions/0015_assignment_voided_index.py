"""assignment: a partial index of the voided slots

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

The quality signals count annotations "not from a voided slot". Voided slots are few, so
asking for them through an index of their own is cheaper than joining every annotation to its
slot (a hash of a million slots on PostgreSQL, a lookup per annotation on SQLite).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VOIDED = sa.text("voided_at IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_assignment_voided",
        "assignment",
        ["item_id", "id"],
        sqlite_where=VOIDED,
        postgresql_where=VOIDED,
    )


def downgrade() -> None:
    op.drop_index("ix_assignment_voided", table_name="assignment")

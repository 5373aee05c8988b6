"""dataset version progress: items written so far, the total, and when it last moved

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

A build runs in the background (the server) or in another process (``scholia export``); it
writes its progress on the version's row a few times a second, so any page or API request can
show it, and a ``building`` row whose ``progress_at`` stopped moving is one a crash left behind.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from scholia.core.models.types import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dataset_version") as batch_op:
        batch_op.add_column(
            sa.Column("progress_items", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("total_items", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("progress_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dataset_version") as batch_op:
        batch_op.drop_column("progress_at")
        batch_op.drop_column("total_items")
        batch_op.drop_column("progress_items")

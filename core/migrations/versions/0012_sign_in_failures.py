"""sign-in failures: refused password sign-ins, counted to throttle password guessing

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Each refused sign-in keeps the username typed and the client address; ``core/throttle.py``
counts them over a window per account and per address. Stored in the database so the count
holds across server processes and restarts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from scholia.core.models.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_sign_in_failure_username_failed_at", "sign_in_failure", ["username", "failed_at"]
    )
    op.create_index(
        "ix_sign_in_failure_address_failed_at", "sign_in_failure", ["address", "failed_at"]
    )


def downgrade() -> None:
    op.drop_table("sign_in_failure")

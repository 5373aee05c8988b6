"""queue seeds: each annotator's queue is a seeded shuffle

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

Production items used to be handed out in ascending id order, so a gold item (drawn at
random) stood out by its id. Each annotator's queue in a project is now ordered by a hash of a
secret per-annotator seed and the item id; the seed is kept here so the order is stable.
Claims as leases need no column: a slot's ``claimed_at`` is when the lease began.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queue_seed",
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("annotator_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "annotator_id"),
    )


def downgrade() -> None:
    op.drop_table("queue_seed")

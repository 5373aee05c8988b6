"""item_category: the categories each item's current annotations use

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Derived from annotations (see ``scholia.core.annotations``); it makes per-category counts and
category filters an index lookup instead of a scan of JSON payloads.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "item_category",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.PrimaryKeyConstraint("item_id", "category_id"),
    )
    op.create_index(
        "ix_item_category_project", "item_category", ["project_id", "category_id", "item_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_item_category_project", table_name="item_category")
    op.drop_table("item_category")

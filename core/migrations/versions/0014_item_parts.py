"""item_part: items made of several parts (files with roles, inline records)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

An item of a modality that declares part roles (a point cloud frame's points, cameras and
calibration; a text record) keeps each part here: a stored file by content hash, or inline
JSON. Items of one file have no rows here and are unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "item_part",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("data", JSON, nullable=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("media_type", sa.String(length=128), nullable=False),
        sa.Column("meta", JSON, nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.ForeignKeyConstraint(["content_hash"], ["blob.sha256"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "role"),
    )


def downgrade() -> None:
    op.drop_table("item_part")

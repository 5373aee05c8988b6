"""expansions: container files (videos) turned into items (frames) by a resumable job

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

A video uploaded to an image project is kept in the store and expanded into frame items in the
background; the job's row holds its options, the video's probed metadata and its progress, so
it can be retried. The items carry where they came from in ``item.provenance``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from scholia.core.models.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "expansion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column(
            "source_sha256", sa.String(length=64), sa.ForeignKey("blob.sha256"), nullable=False
        ),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("modality", sa.String(length=64), nullable=False),
        sa.Column("options", JSON, nullable=False),
        sa.Column("options_key", sa.String(length=64), nullable=False),
        sa.Column("meta", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("existing", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("progress_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "source_sha256", "options_key"),
    )


def downgrade() -> None:
    op.drop_table("expansion")

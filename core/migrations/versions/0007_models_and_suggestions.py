"""models registry, suggestions' uncertainty, annotators' decisions, batch suggestion jobs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

A project registers models (backend, file or URL, the labels they were trained on); their
suggestions keep the top candidates and three uncertainty measures for active learning; each
annotator's decision on a suggestion feeds the outcome log; batch jobs keep their progress and
a cursor to resume from.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from scholia.core.models.types import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=False),
        sa.Column("backend", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("annotation_type", sa.String(length=64), nullable=False),
        sa.Column("categories", JSON, nullable=False),
        sa.Column("labels_hash", sa.String(length=64), nullable=False),
        sa.Column("config", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("activated_at", UTCDateTime(), nullable=True),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "name", "version"),
    )
    with op.batch_alter_table("suggestion") as batch_op:
        batch_op.add_column(sa.Column("model_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("alternatives", JSON, nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("least_confidence", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("margin", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("entropy", sa.Float(), nullable=True))
        batch_op.create_foreign_key("fk_suggestion_model_id", "model", ["model_id"], ["id"])
        batch_op.create_index("ix_suggestion_model_status", ["model_id", "status"])
    with op.batch_alter_table("suggestion") as batch_op:
        batch_op.alter_column("alternatives", server_default=None)
    op.create_table(
        "suggestion_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suggestion_id", sa.Uuid(), sa.ForeignKey("suggestion.id"), nullable=False),
        sa.Column("annotator_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("annotation_id", sa.Uuid(), sa.ForeignKey("annotation.id"), nullable=True),
        sa.Column("independent", sa.Boolean(), nullable=False),
        sa.Column("agreement", sa.Float(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("suggestion_id", "annotator_id"),
    )
    op.create_table(
        "suggestion_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("model_id", sa.Integer(), sa.ForeignKey("model.id"), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("item_ids", JSON, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("suggested", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("failures", JSON, nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("progress_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("suggestion_job")
    op.drop_table("suggestion_decision")
    with op.batch_alter_table("suggestion") as batch_op:
        batch_op.drop_index("ix_suggestion_model_status")
        batch_op.drop_constraint("fk_suggestion_model_id", type_="foreignkey")
        for column in ("entropy", "margin", "least_confidence", "alternatives", "model_id"):
            batch_op.drop_column(column)
    op.drop_table("model")

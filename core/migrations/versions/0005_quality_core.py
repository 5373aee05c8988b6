"""quality core: gold answers and results, calibration attempts, suspensions, voided slots

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Gold items get their expected answers; each annotator's answer on one is scored; new
annotators may have to pass a calibration set; an annotator whose rolling gold accuracy falls
below the project's threshold is suspended, and the slots of their recent work are voided
(``assignment.voided_at``) so the items go back into the queue for someone else.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from scholia.core.models.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "gold_answer",
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("item.id"), nullable=False),
        sa.Column("annotation_type", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("adjudication_id", sa.Integer(), sa.ForeignKey("adjudication.id")),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "annotation_type"),
    )
    op.create_index("ix_gold_answer_project_id", "gold_answer", ["project_id"])
    op.create_table(
        "calibration_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("annotator_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("item_ids", JSON, nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_calibration_attempt_annotator_id", "calibration_attempt", ["annotator_id"]
    )
    op.create_table(
        "gold_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("item.id"), nullable=False),
        sa.Column("annotator_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("annotation_id", sa.Uuid(), sa.ForeignKey("annotation.id"), nullable=False),
        sa.Column("agreement", sa.Float(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column(
            "calibration_attempt_id", sa.Integer(), sa.ForeignKey("calibration_attempt.id")
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("annotation_id"),
    )
    op.create_index(
        "ix_gold_result_annotator", "gold_result", ["project_id", "annotator_id", "id"]
    )
    op.create_table(
        "suspension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("annotator_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sa.Column("suspended_by", sa.Integer(), sa.ForeignKey("user_account.id")),
        sa.Column("suspended_at", UTCDateTime(), nullable=False),
        sa.Column("lifted_at", UTCDateTime(), nullable=True),
        sa.Column("lifted_by", sa.Integer(), sa.ForeignKey("user_account.id")),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_suspension_annotator_id", "suspension", ["annotator_id"])
    with op.batch_alter_table("assignment") as batch_op:
        batch_op.add_column(sa.Column("voided_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("void_reason", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignment") as batch_op:
        batch_op.drop_column("void_reason")
        batch_op.drop_column("voided_at")
    op.drop_table("suspension")
    op.drop_table("gold_result")
    op.drop_table("calibration_attempt")
    op.drop_table("gold_answer")

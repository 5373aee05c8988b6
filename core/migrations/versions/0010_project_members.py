"""project members: per-project roles; every existing user joins every existing project

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Until now every signed-in user saw every project, with their account's roles. From here a
user sees only the projects they are a member of (admins: all). So that nothing breaks on
upgrade, each existing non-admin user becomes a member of each existing project with their
highest non-admin account role; admins need no membership.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from scholia.core.models.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RANK = ("manager", "adjudicator", "reviewer", "annotator")
"""Highest first: the role an existing user keeps in every project."""


def upgrade() -> None:
    op.create_table(
        "project_member",
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("added_by", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "user_id"),
    )
    op.create_index("ix_project_member_user_id", "project_member", ["user_id"])
    connection = op.get_bind()
    users = connection.execute(sa.text("SELECT id, roles FROM user_account")).all()
    project_ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM project"))]
    if not users or not project_ids:
        return
    import json
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    member = sa.table(
        "project_member",
        sa.column("project_id", sa.Integer()),
        sa.column("user_id", sa.Integer()),
        sa.column("role", sa.String()),
        sa.column("added_at", UTCDateTime()),
    )
    rows: list[dict[str, object]] = []
    for user_id, roles in users:
        held = json.loads(roles) if isinstance(roles, str) else list(roles or [])
        role = next((r for r in RANK if r in held), None)
        if role is None:
            continue  # admins only, or no role at all
        rows.extend(
            {"project_id": p, "user_id": user_id, "role": role, "added_at": now}
            for p in project_ids
        )
    if rows:
        op.bulk_insert(member, rows)


def downgrade() -> None:
    op.drop_index("ix_project_member_user_id", table_name="project_member")
    op.drop_table("project_member")

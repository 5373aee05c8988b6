"""users: when each account last signed in, for the admins' Users page

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

Admins deciding whom to deactivate want to see who still signs in. Accounts that have not
signed in since this migration show no date ("not known").
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from scholia.core.models.types import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("last_sign_in_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("last_sign_in_at")

"""item grid: an index for the unfiltered grid's keyset pages

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

``(project_id, id)`` lets the grid read the first or the last page of a project (ascending
or descending id) as one short index range, whatever the project's size. Filtered pages use
``ix_item_project_status_id`` and ``ix_item_category_project``.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_item_project_id", "item", ["project_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_item_project_id", table_name="item")

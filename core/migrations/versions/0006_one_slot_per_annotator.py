"""one slot per annotator per item, enforced by the database

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Gold items get slots on demand, one per annotator who draws them; two requests of the same
annotator at the same moment must not give them two slots on one item (nor can claims on an
item with overlap). Open slots have no annotator, and NULLs never collide.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assignment") as batch_op:
        batch_op.create_unique_constraint(
            "uq_assignment_one_per_annotator", ["item_id", "annotator_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("assignment") as batch_op:
        batch_op.drop_constraint("uq_assignment_one_per_annotator", type_="unique")

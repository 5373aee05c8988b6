"""An item's annotations as lines of revisions: a correction supersedes the revision it
corrects, and the current annotations are the latest revision of each line (nobody superseded
it; a withdrawal ends its line).

Kept apart from ``annotations`` (which writes them) so readers such as gold, labeling and the
item pages need nothing of the submission path.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from .models import Annotation, AnnotationSource

__all__ = ["current_annotations"]


def _current_statement() -> Any:
    superseded = select(Annotation.supersedes_id).where(
        col(Annotation.item_id) == bindparam("item_id"), col(Annotation.supersedes_id).is_not(None)
    )
    return (
        select(Annotation)
        .where(
            col(Annotation.item_id) == bindparam("item_id"),
            col(Annotation.id).not_in(superseded),
            col(Annotation.source) != AnnotationSource.withdrawal,
        )
        .order_by(col(Annotation.created_at))
    )


_CURRENT = _current_statement()
"""Built once: every submission reads it."""


def current_annotations(session: Session, item_id: int) -> list[Annotation]:
    """The latest revision of each line of annotations on an item (those nobody superseded)."""
    return list(session.exec(_CURRENT, params={"item_id": item_id}))

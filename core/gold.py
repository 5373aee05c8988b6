"""Gold items (honeypots): items with a known answer, mixed into annotators' queues.

An annotator's answer on a gold item is scored against the gold answer with the annotation
type's own pairwise agreement measure (the plugin's), so any type with an ``agreement`` can be
used for gold. Whether an item is gold is never sent to an annotator.
"""

from __future__ import annotations

import msgspec
from sqlmodel import Session, select

from .models import Annotation, GoldAnswer, GoldResult, Item
from .plugins import Plugins
from .projects import get_project, settings_of

__all__ = ["record_answer"]


def record_answer(
    session: Session, plugins: Plugins, item: Item, annotation: Annotation
) -> GoldResult | None:
    """Score ``annotation`` (just submitted on gold ``item``) against its gold answer; None
    when the item has no gold answer for that type, or the type has no agreement measure."""
    answer = session.exec(
        select(GoldAnswer).where(
            GoldAnswer.item_id == item.id, GoldAnswer.annotation_type == annotation.annotation_type
        )
    ).first()
    kind = plugins.annotation_types.get(annotation.annotation_type)
    if answer is None or kind is None or kind.agreement is None:
        return None
    settings = settings_of(get_project(session, item.project_id))
    agreement = float(
        kind.agreement(
            msgspec.convert(annotation.payload, kind.payload),
            msgspec.convert(answer.payload, kind.payload),
        )
    )
    assert item.id is not None
    result = GoldResult(
        project_id=item.project_id,
        item_id=item.id,
        annotator_id=annotation.annotator_id,
        annotation_id=annotation.id,
        agreement=agreement,
        correct=agreement >= settings.gold.correct_at,
    )
    session.add(result)
    session.flush()
    return result

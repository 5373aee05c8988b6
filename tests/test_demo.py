"""The demo sets itself up once, with quality work already in to look at."""

from __future__ import annotations

from sqlmodel import col, select

from scholia.core import counts
from scholia.core.models import Item, Project
from scholia.core.runtime import Runtime
from scholia.server.demo import DEMO_PROJECT, QUALITY_PROJECT, set_up_demo


def test_the_demo_has_a_double_labeled_project_with_cases_to_adjudicate(runtime: Runtime) -> None:
    first = set_up_demo(runtime, image_count=3)
    again = set_up_demo(runtime, image_count=3)
    assert first.password is not None and again.password is None  # created once
    with runtime.session() as session:
        found = {p.name: p for p in session.exec(select(Project))}
        assert set(found) == {DEMO_PROJECT, QUALITY_PROJECT}
        quality = found[QUALITY_PROJECT]
        states = counts.status_counts(session, [quality.id])[quality.id]  # type: ignore[list-item]
        gold = session.exec(
            select(Item).where(col(Item.project_id) == quality.id, col(Item.is_gold))
        ).all()
    assert quality.settings["overlap"] == 2
    assert states["adjudication"] == 2 and states["approved"] == 6 and states["labeled"] == 2
    assert len(gold) == 3

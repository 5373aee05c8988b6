"""The demo sets itself up once, with quality work already in to look at."""

from __future__ import annotations

from sqlmodel import col, select

from scholia.core import counts
from scholia.core.models import Item, Project, Suggestion
from scholia.core.runtime import Runtime
from scholia.server.api.models import outcomes_out
from scholia.server.demo import DEMO_PROJECT, MODEL_PROJECT, QUALITY_PROJECT, set_up_demo


def test_the_demo_has_a_double_labeled_project_with_cases_to_adjudicate(runtime: Runtime) -> None:
    first = set_up_demo(runtime, image_count=3)
    again = set_up_demo(runtime, image_count=3)
    assert first.password is not None and again.password is None  # created once
    with runtime.session() as session:
        found = {p.name: p for p in session.exec(select(Project))}
        assert set(found) == {DEMO_PROJECT, QUALITY_PROJECT, MODEL_PROJECT}
        quality = found[QUALITY_PROJECT]
        states = counts.status_counts(session, [quality.id])[quality.id]  # type: ignore[list-item]
        gold = session.exec(
            select(Item).where(col(Item.project_id) == quality.id, col(Item.is_gold))
        ).all()
    assert quality.settings["overlap"] == 2
    assert states["adjudication"] == 2 and states["approved"] == 6 and states["labeled"] == 2
    assert len(gold) == 3


def test_the_demo_has_a_model_whose_suggestions_wait_least_sure_first(runtime: Runtime) -> None:
    set_up_demo(runtime, image_count=3)
    with runtime.session() as session:
        assisted = session.exec(select(Project).where(col(Project.name) == MODEL_PROJECT)).one()
        assert assisted.id is not None
        (log,) = outcomes_out(session, runtime, assisted.id)
        pending = session.exec(
            select(Suggestion).where(
                col(Suggestion.project_id) == assisted.id, col(Suggestion.status) == "pending"
            )
        ).all()
    assert (log.status, log.suggestions, log.accepted, log.corrected) == ("active", 18, 2, 1)
    assert len(pending) == 15
    assert assisted.settings["suggestions"]["order"] == "least_confidence"

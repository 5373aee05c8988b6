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


def test_the_colour_demo_draws_each_swatch_and_category_in_its_own_colour(
    runtime: Runtime,
) -> None:
    from collections import Counter

    from PIL import Image, ImageStat

    from scholia.core.models import Category, Item

    set_up_demo(runtime, image_count=3)
    with runtime.session() as session:
        assisted = session.exec(select(Project).where(col(Project.name) == MODEL_PROJECT)).one()
        categories = session.exec(
            select(Category).where(col(Category.project_id) == assisted.id)
        ).all()
        swatches = session.exec(select(Item).where(col(Item.project_id) == assisted.id)).all()
    channel = {"red": 0, "green": 1, "blue": 2}
    for category in categories:  # the "red" category is drawn red, not blue
        rgb = [int(category.color[i : i + 2], 16) for i in (1, 3, 5)]
        assert rgb.index(max(rgb)) == channel[category.name], (category.name, category.color)
    dominant = Counter()
    for swatch in swatches:
        mean = ImageStat.Stat(
            Image.open(runtime.store.path(swatch.content_hash)).convert("RGB")
        ).mean
        first, second = sorted(mean, reverse=True)[:2]
        assert first > 1.5 * second, (swatch.name, mean)  # plainly one colour, not a blend
        dominant[mean.index(first)] += 1
    assert dominant == Counter({0: 6, 1: 6, 2: 6})

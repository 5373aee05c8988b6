"""Active learning: the queue hands out the items the active model is least sure of first,
by the project's measure (least confidence, margin, entropy), and keeps item order by default
or without an active model."""

from __future__ import annotations

import colorsys
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from scholia.core import items, lifecycle, model_registry, prelabeling, projects, queue, suggestions
from scholia.core.contributions import Candidate
from scholia.core.models import Item, Model, Project, User
from scholia.core.runtime import Runtime
from scholia_image.colour_model import colour_image, train_colour_classifier

from .conftest import seed

NAMES = ("red", "chartreuse", "cyan", "violet")  # the colour model's hues 0, 1/4, 1/2, 3/4
# Each strategy has its own most uncertain item (scores are the model's four probabilities):
DISTRIBUTIONS = {
    "sure": (0.97, 0.01, 0.01, 0.01),
    "torn": (0.45, 0.45, 0.10, 0.0),  # margin: the best two are tied
    "flat": (0.28, 0.24, 0.24, 0.24),  # entropy: closest to uniform
    "low": (0.27, 0.26, 0.26, 0.21),  # least confidence: the lowest top score
}
FIRST = {"margin": "torn", "entropy": "flat", "least_confidence": "low"}


def _project(runtime: Runtime, tmp_path: Path) -> tuple[User, Project, dict[str, Item], Model]:
    owner, project, first = seed(runtime, annotation_types=("classification",), categories=NAMES)
    path = tmp_path / "four.onnx"
    config = train_colour_classifier(path, NAMES)["config"]
    made: dict[str, Item] = {}
    with runtime.session() as session:
        project = session.get(Project, project.id)  # type: ignore[assignment]
        assert project is not None and owner.id is not None
        for n, name in enumerate(DISTRIBUTIONS):
            made[name] = items.ingest(
                session,
                runtime.store,
                runtime.plugins,
                project,
                name=f"{name}.png",
                source=io.BytesIO(_png((40 * n, 90, 200), n)),
                actor_id=owner.id,
            ).item
        model = model_registry.register(
            session,
            runtime.plugins,
            runtime.predictors,
            project.id or 0,
            name="four",
            version="1",
            backend="onnx-classifier",
            source=str(path),
            annotation_type="classification",
            categories=list(NAMES),
            config=config,
            actor_id=owner.id,
        )
        model_registry.activate(session, model, owner.id)
    # The seed item was made first: it is skipped so the four are all that is left.
    with runtime.session() as session:
        lifecycle.transition(session, first.id or 0, "in_progress", actor_id=owner.id)
        lifecycle.transition(session, first.id or 0, "skipped", actor_id=owner.id)
    return owner, project, made, model


def _png(rgb: tuple[int, int, int], seed_value: int) -> bytes:
    buffer = io.BytesIO()
    colour_image(rgb, (32, 32), seed=seed_value).save(buffer, "PNG")
    return buffer.getvalue()


def _hue(hue: float) -> tuple[int, int, int]:
    red, green, blue = colorsys.hsv_to_rgb(hue, 1.0, 1.0)
    return round(red * 255), round(green * 255), round(blue * 255)


def _store(runtime: Runtime, model: Model, made: dict[str, Item]) -> None:
    """The model's word on each item, as four probabilities over its categories."""
    with runtime.session() as session:
        ids = [int(i) for i, _ in model.categories]
        found = [
            (
                made[name].id or 0,
                [
                    Candidate(payload={"category_ids": [category]}, score=score)
                    for category, score in zip(ids, scores, strict=True)
                ],
            )
            for name, scores in DISTRIBUTIONS.items()
        ]
        suggestions.store(session, model, found, top_k=3)


def _order(runtime: Runtime, project: Project, order: str, owner: User) -> None:
    with runtime.session() as session:
        projects.update_settings(
            session,
            runtime.plugins,
            project.id or 0,
            {"suggestions": {"order": order}},
            actor_id=owner.id or 0,
        )


def _claims(runtime: Runtime, project: Project, annotator: User) -> list[str]:
    claimed = []
    for _ in range(4):
        with runtime.session() as session:
            item = queue.claim_next(session, project.id or 0, annotator.id or 0)
            assert item is not None
            claimed.append(item.name.removesuffix(".png"))
            queue.skip(session, item, annotator.id or 0)
    return claimed


@pytest.mark.parametrize("strategy", ["least_confidence", "margin", "entropy"])
def test_the_most_uncertain_item_comes_first_under_each_strategy(
    runtime: Runtime, make_user: Callable[..., User], tmp_path: Path, strategy: str
) -> None:
    owner, project, made, model = _project(runtime, tmp_path)
    _store(runtime, model, made)
    _order(runtime, project, strategy, owner)
    claimed = _claims(runtime, project, make_user("annotator"))
    assert claimed[0] == FIRST[strategy]
    assert claimed[-1] == "sure"
    with runtime.reading() as session:
        measured = {
            name: getattr(suggestions.current(session, item.id or 0, "classification"), strategy)
            for name, item in made.items()
        }
    assert claimed == sorted(measured, key=lambda name: -measured[name])


def test_default_order_is_the_annotators_shuffle_whatever_the_model_thinks(
    runtime: Runtime, make_user: Callable[..., User], tmp_path: Path
) -> None:
    _, project, made, model = _project(runtime, tmp_path)
    _store(runtime, model, made)
    claimed = _claims(runtime, project, make_user("annotator"))
    assert sorted(claimed) == sorted(DISTRIBUTIONS)


def test_without_an_active_model_the_order_setting_falls_back_to_the_shuffle(
    runtime: Runtime, make_user: Callable[..., User], tmp_path: Path
) -> None:
    owner, project, made, model = _project(runtime, tmp_path)
    _store(runtime, model, made)
    _order(runtime, project, "entropy", owner)
    with runtime.session() as session:
        stored = session.get(Model, model.id)
        assert stored is not None
        model_registry.retire(session, stored, owner.id or 0)
    assert sorted(_claims(runtime, project, make_user("annotator"))) == sorted(DISTRIBUTIONS)


def test_a_real_model_puts_an_ambiguous_image_first(
    runtime: Runtime, make_user: Callable[..., User], tmp_path: Path
) -> None:
    """Through the ONNX model itself: a patch between two colours is where it hesitates."""
    owner, project, _, model = _project(runtime, tmp_path)
    with runtime.session() as session:
        project_row = session.get(Project, project.id)
        assert project_row is not None and owner.id is not None
        between = items.ingest(
            session,
            runtime.store,
            runtime.plugins,
            project_row,
            name="between.png",
            source=io.BytesIO(_png(_hue(0.5 / len(NAMES)), 9)),  # halfway between two
            actor_id=owner.id,
        ).item
        pure = items.ingest(
            session,
            runtime.store,
            runtime.plugins,
            project_row,
            name="pure.png",
            source=io.BytesIO(_png(_hue(0.0), 10)),  # the model's first colour
            actor_id=owner.id,
        ).item
    prelabeling.suggest(runtime, model.id or 0, [between.id or 0, pure.id or 0])
    _order(runtime, project, "least_confidence", owner)
    with runtime.session() as session:
        first = queue.claim_next(session, project.id or 0, make_user("annotator").id or 0)
    assert first is not None and first.name == "between.png"

"""The demo: a demo admin, a project, and sample images drawn locally (nothing downloaded)."""

from __future__ import annotations

import io
import random
import secrets
from dataclasses import dataclass

from PIL import Image, ImageDraw
from sqlmodel import Session, col, select

from scholia.core import (
    gold,
    identity,
    items,
    model_registry,
    prelabeling,
    projects,
    review,
    suggestions,
)
from scholia.core.annotations import accept_suggestion, submit
from scholia.core.contributions import PrelabelBackend
from scholia.core.models import Project, Role, User
from scholia.core.runtime import Runtime

__all__ = ["DemoSetup", "sample_images", "set_up_demo"]

DEMO_USERNAME = "admin"
DEMO_PROJECT = "Demo: product photos"
QUALITY_PROJECT = "Demo: double-checked shapes"
MODEL_PROJECT = "Demo: colour swatches, with a model"
COLOURS = ("red", "green", "blue")
SWATCHES = ((220, 30, 30), (30, 200, 60), (30, 70, 230))
SHAPES = ("circle", "square", "triangle")
SHAPE_IDS = {shape: index + 1 for index, shape in enumerate(SHAPES)}
PALETTES = [
    ((240, 244, 255), (52, 81, 209)),
    ((255, 246, 230), (217, 119, 6)),
    ((236, 253, 245), (22, 163, 74)),
    ((253, 242, 248), (219, 39, 119)),
    ((245, 243, 255), (124, 58, 237)),
    ((240, 249, 255), (8, 145, 178)),
]


def sample_images(
    count: int, seed: int = 7, size: tuple[int, int] = (640, 480)
) -> list[tuple[str, bytes]]:
    """``count`` PNGs of simple shapes on soft backgrounds, the same ones for the same seed."""
    rng = random.Random(seed)
    images = []
    for index in range(count):
        background, colour = PALETTES[index % len(PALETTES)]
        image = Image.new("RGB", size, background)
        draw = ImageDraw.Draw(image)
        for y in range(0, size[1], 24):
            draw.line([(0, y), (size[0], y)], fill=tuple(max(0, c - 8) for c in background))
        shape = SHAPES[index % len(SHAPES)]
        cx, cy = rng.randint(200, size[0] - 200), rng.randint(160, size[1] - 160)
        r = rng.randint(70, 140)
        box = (cx - r, cy - r, cx + r, cy + r)
        if shape == "circle":
            draw.ellipse(box, fill=colour)
        elif shape == "square":
            draw.rounded_rectangle(box, radius=18, fill=colour)
        else:
            draw.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=colour)
        draw.ellipse((cx - r // 3, cy - r // 3, cx + r // 3, cy + r // 3), fill=background)
        out = io.BytesIO()
        image.save(out, format="PNG")
        images.append((f"{shape}-{index + 1:02d}.png", out.getvalue()))
    return images


@dataclass(frozen=True)
class DemoSetup:
    username: str
    password: str | None
    """Set only when the demo admin was created by this run."""
    session_token: str
    project_id: int | None
    missing: list[str]
    """Plugins the demo project needs that are not loaded."""


def set_up_demo(runtime: Runtime, image_count: int = 12) -> DemoSetup:
    """Create (once) the demo admin and project; return a fresh sign-in for the admin."""
    password = None
    with runtime.session() as session:
        admin = session.exec(select(User).where(col(User.username) == DEMO_USERNAME)).first()
        if admin is None:
            password = secrets.token_urlsafe(9)
            admin = identity.create_user(
                session,
                username=DEMO_USERNAME,
                password=password,
                roles=[Role.admin],
                display_name="Demo Admin",
            )
        token = identity.start_web_session(session, admin, runtime.settings.session_max_age_s)
        missing = [
            name
            for name, present in (
                (
                    "scholia-image (modality 'image', classification)",
                    "classification" in runtime.plugins.annotation_types,
                ),
                (
                    "scholia-rating (annotation type 'rating')",
                    "rating" in runtime.plugins.annotation_types,
                ),
            )
            if not present
        ]
        project = session.exec(select(Project).where(col(Project.name) == DEMO_PROJECT)).first()
        if project is None and not missing:
            project = projects.create_project(
                session,
                runtime.plugins,
                actor_id=admin.id,  # type: ignore[arg-type]
                name=DEMO_PROJECT,
                modality="image",
                annotation_types=["classification", "rating"],
                description="Name the shape in each photo, and rate how clearly it stands out "
                "(1 = unusable, 5 = catalogue-ready).",
                categories=["circle", "square", "triangle"],
                guidelines="Choose the shape you see. Rate 5 when it is centred and sharp, 1 when "
                "it is unusable (and say why in the comment).",
            )
            for name, data in sample_images(image_count):
                items.ingest(
                    session,
                    runtime.store,
                    runtime.plugins,
                    project,
                    name=name,
                    source=io.BytesIO(data),
                    actor_id=admin.id,
                )  # type: ignore[arg-type]
        quality = session.exec(select(Project).where(col(Project.name) == QUALITY_PROJECT)).first()
        if quality is None and not missing:
            _quality_demo(session, runtime, admin)
        assisted = session.exec(select(Project).where(col(Project.name) == MODEL_PROJECT)).first()
        admin_id = admin.id
        setup = DemoSetup(
            username=DEMO_USERNAME,
            password=password,
            session_token=token,
            project_id=project.id if project else None,
            missing=missing,
        )
    if assisted is None and not missing and admin_id is not None:
        _model_demo(runtime, admin_id)
    return setup


def _swatch(rgb: tuple[int, int, int], seed: int) -> bytes:
    """A colour swatch with a few darker blobs and some noise, so no two are alike."""
    rng = random.Random(seed)
    image = Image.new("RGB", (128, 96), rgb)
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        shade = rng.uniform(0.6, 0.95)
        x, y = rng.randint(0, 110), rng.randint(0, 80)
        size = rng.randint(10, 40)
        draw.ellipse((x, y, x + size, y + size), fill=tuple(round(c * shade) for c in rgb))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _model_demo(runtime: Runtime, admin_id: int) -> None:
    """A project with a model: the sample model of a pre-label backend that has one (the
    ONNX image classifier's colour classifier, trained at set-up; nothing is downloaded),
    registered through the same checks as a user's own file, active, its suggestions made
    for every swatch, the least sure first in the queue, and a few decisions by a demo
    annotator so the outcome log has figures."""
    backend = next(
        (
            b
            for b in runtime.plugins.all(PrelabelBackend)
            if b.sample is not None and "classification" in b.annotation_types
        ),
        None,
    )
    if backend is None or backend.sample is None:
        return
    folder = runtime.settings.data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    sample = backend.sample(folder, COLOURS)
    with runtime.session() as session:
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=admin_id,
            name=MODEL_PROJECT,
            modality="image",
            annotation_types=["classification"],
            description="A colour model suggests each swatch's colour: press A to accept it, or "
            "pick the right one. The swatches the model is least sure of come first.",
            categories=list(COLOURS),
            category_colors=["#{:02x}{:02x}{:02x}".format(*rgb) for rgb in SWATCHES],
            guidelines="Choose the colour that covers most of the swatch.",
            settings={"gold_rate": 0, "suggestions": {"order": "least_confidence"}},
        )
        assert project.id is not None
        model = model_registry.register(
            session,
            runtime.plugins,
            runtime.predictors,
            project.id,
            name="colour-swatches",
            version="1.0",
            backend=backend.name,
            source=sample.source,
            annotation_type="classification",
            config=dict(sample.config),
            actor_id=admin_id,
        )
        model_registry.activate(session, model, admin_id)
        rng = random.Random(5)
        made = []
        for index in range(18):
            # Red, green and blue in turn, six of each. Every fourth leans towards the next
            # colour, where the model hesitates, but stays plainly its own colour.
            first, second = SWATCHES[index % 3], SWATCHES[(index + 1) % 3]
            share = 0.85 + rng.uniform(-0.03, 0.03) if index % 4 == 3 else 1.0
            rgb = tuple(
                round(a * share + b * (1 - share)) for a, b in zip(first, second, strict=True)
            )
            made.append(
                items.ingest(
                    session,
                    runtime.store,
                    runtime.plugins,
                    project,
                    name=f"swatch-{index + 1:02d}.png",
                    source=io.BytesIO(_swatch(rgb, index)),  # type: ignore[arg-type]
                    actor_id=admin_id,
                ).item
            )
        annotator = identity.create_user(
            session,
            username="demo-annotator-3",
            password=secrets.token_urlsafe(12),
            roles=[Role.annotator],
            display_name="Demo Annotator 3",
        )
        model_id = model.id
        categories = model.categories
    assert model_id is not None
    prelabeling.suggest(runtime, model_id, [i.id for i in made if i.id is not None])
    with runtime.session() as session:
        for item in made[:3]:  # two taken as suggested, one corrected
            shown = suggestions.current(session, item.id or 0, "classification")
            if shown is None:
                continue
            if item is made[2]:
                wrong = next(i for i, _ in categories if [i] != shown.payload["category_ids"])
                submit(
                    session,
                    runtime.plugins,
                    item_id=item.id or 0,
                    annotator_id=annotator.id or 0,
                    annotation_type="classification",
                    payload={"category_ids": [wrong]},
                    time_spent_ms=2400,
                )
            else:
                accept_suggestion(
                    session, runtime.plugins, shown.id, annotator_id=annotator.id or 0
                )


def _quality_demo(session: Session, runtime: Runtime, admin: User) -> None:
    """A project every item of which two annotators label, with work already in: agreement,
    two items waiting for adjudication, gold items, reviews — so the Quality Hub, the
    adjudication queue and the export gate have something to show."""
    assert admin.id is not None
    project = projects.create_project(
        session,
        runtime.plugins,
        actor_id=admin.id,
        name=QUALITY_PROJECT,
        modality="image",
        annotation_types=["classification"],
        description="Each photo is labeled by two annotators; disagreements go to adjudication.",
        categories=list(SHAPES),
        guidelines="Choose the shape you see.",
        settings={"overlap": 2, "gold_rate": 0.1},
    )
    assert project.id is not None
    people = [
        identity.create_user(
            session,
            username=f"demo-annotator-{n}",
            password=secrets.token_urlsafe(12),
            roles=[Role.annotator],
            display_name=f"Demo Annotator {n}",
        )
        for n in (1, 2)
    ]
    created = [
        items.ingest(
            session,
            runtime.store,
            runtime.plugins,
            project,
            name=name,
            source=io.BytesIO(data),
            actor_id=admin.id,
        ).item
        for name, data in sample_images(16, seed=11)
    ]
    for item in created[-3:]:  # the last three are gold, answered with their shape
        assert item.id is not None
        gold.mark_gold(
            session,
            runtime.plugins,
            project.id,
            item.id,
            annotation_type="classification",
            payload={"category_ids": [SHAPE_IDS[item.name.split("-")[0]]]},
            explanation="The shape drawn is the answer; the inner circle is only a highlight.",
            actor_id=admin.id,
        )
    rng = random.Random(3)
    labeled = []
    for index, item in enumerate(created[:10]):
        truth = SHAPE_IDS[item.name.split("-")[0]]
        for person in people:
            wrong = index in (3, 7) and person is people[1]  # two disagreements
            choice = truth % 3 + 1 if wrong else truth
            submit(
                session,
                runtime.plugins,
                item_id=item.id,  # type: ignore[arg-type]
                annotator_id=person.id,  # type: ignore[arg-type]
                annotation_type="classification",
                payload={"category_ids": [choice]},
                time_spent_ms=rng.randint(1500, 6000),
            )
        if index not in (3, 7):
            labeled.append(item.id)
    for index, item in enumerate(created[-3:]):  # both answer the gold items; one misses one
        truth = SHAPE_IDS[item.name.split("-")[0]]
        for person in people:
            missed = index == 0 and person is people[1]
            submit(
                session,
                runtime.plugins,
                item_id=item.id,  # type: ignore[arg-type]
                annotator_id=person.id,  # type: ignore[arg-type]
                annotation_type="classification",
                payload={"category_ids": [truth % 3 + 1 if missed else truth]},
                time_spent_ms=rng.randint(1500, 6000),
            )
    review.decide(session, item_ids=labeled[:6], decision="approved", reviewer_id=admin.id)  # type: ignore[arg-type]

"""Projects for the labeling-page browser tests: generated images in an image project, with
the people who work on it as its members."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from PIL import Image

from scholia.core import projects, uploads
from scholia.core.models import User
from scholia.core.runtime import Runtime
from tests.conftest import add_member


def images(count: int) -> list[tuple[str, bytes]]:
    """``count`` distinct small PNGs named ``img-0000.png``…"""
    out = []
    for index in range(count):
        buffer = io.BytesIO()
        colour = (index % 256, (index // 256) * 40 % 256, (index * 7) % 256)
        Image.new("RGB", (24, 16), colour).save(buffer, format="PNG")
        out.append((f"img-{index:04d}.png", buffer.getvalue()))
    return out


def labeling_project(
    runtime: Runtime,
    manager: User,
    *,
    count: int,
    name: str = "Keyboard",
    annotation_types: Sequence[str] = ("classification",),
    categories: Sequence[str] = ("cat", "dog", "bird"),
    settings: dict[str, Any] | None = None,
    members: Sequence[User] = (),
) -> int:
    """A project with ``count`` generated images in it; returns its id.

    ``manager`` creates it (so is its first manager); each of ``members`` joins it with the
    highest project role of their account (``add_member``): an annotator as annotator, an
    adjudicator as adjudicator."""
    assert manager.id is not None
    with runtime.session() as session:
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=manager.id,
            name=name,
            modality="image",
            annotation_types=annotation_types,
            categories=categories,
            settings=settings,
        )
        assert project.id is not None
        project_id = project.id
    result = uploads.ingest_files(
        runtime,
        project_id,
        [(n, io.BytesIO(d)) for n, d in images(count)],
        actor_id=manager.id,
    )
    assert len(result.created) == count, result.problems
    for user in members:
        add_member(runtime, project_id, user)
    return project_id

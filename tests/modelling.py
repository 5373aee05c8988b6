"""Model-assisted labeling in tests: a colour project, the locally trained colour classifier
registered and active through the API, and batch jobs run to their end."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from scholia_image.colour_model import colour_image, colour_of, train_colour_classifier

NAMES = ("red", "green", "blue")


def image_bytes(rgb: tuple[int, int, int], seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    colour_image(rgb, (32, 32), seed=seed).save(buffer, "PNG")
    return buffer.getvalue()


def train(folder: Path) -> dict[str, Any]:
    """The colour classifier, trained into ``folder``: its path and registration config."""
    path = folder / "colours.onnx"
    return {"path": path, "config": train_colour_classifier(path, NAMES)["config"]}


def colour_project(
    api_for: Callable[..., TestClient[Any]], count: int = 6, **settings: Any
) -> dict[str, Any]:
    """A classification project of red, green and blue, with ``count`` swatches in turn."""
    manager = api_for("manager")
    project = manager.post(
        "/api/v1/projects",
        json={
            "name": "Colours",
            "modality": "image",
            "annotation_types": ["classification"],
            "categories": list(NAMES),
            "settings": settings,
        },
    ).json()
    files = [
        ("files", (f"{NAMES[n % 3]}-{n}.png", image_bytes(colour_of(n % 3, 3), n), "image/png"))
        for n in range(count)
    ]
    created = manager.post(f"/api/v1/projects/{project['id']}/items", files=files).json()["created"]
    listed = manager.get(f"/api/v1/projects/{project['id']}/categories").json()
    categories = {c["name"]: c["id"] for c in listed}
    return {"manager": manager, "id": project["id"], "items": created, "categories": categories}


def register(
    manager: TestClient[Any], project_id: int, trained: dict[str, Any], **extra: Any
) -> Any:
    body = {
        "name": "colours",
        "version": "1.0",
        "backend": "onnx-classifier",
        "source": str(trained["path"]),
        "annotation_type": "classification",
        "config": trained["config"],
        **extra,
    }
    return manager.post(f"/api/v1/projects/{project_id}/models", json=body)


def registered(
    api_for: Callable[..., TestClient[Any]], trained: dict[str, Any], **settings: Any
) -> dict[str, Any]:
    """A colour project with the trained model registered and active."""
    project = colour_project(api_for, **settings)
    response = register(project["manager"], project["id"], trained)
    assert response.status_code == 201, response.text
    model = response.json()
    activated = project["manager"].post(f"/api/v1/models/{model['id']}/activate")
    assert activated.json()["status"] == "active"
    return {**project, "model": model}


def run_job(manager: TestClient[Any], project_id: int, **body: Any) -> dict[str, Any]:
    started = manager.post(f"/api/v1/projects/{project_id}/suggestion-jobs", json=body)
    assert started.status_code == 202, started.text
    return wait(manager, started.json()["url"])


def wait(manager: TestClient[Any], url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = manager.get(url).json()
        # A failed or cancelled job is over once its thread has ended too (it can then be
        # resumed); its status is stored a moment before.
        if job["status"] == "done" or (job["status"] != "running" and job["can_resume"]):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {url} still running")

"""A Label Studio ML backend as a project's model, end to end: registered by URL, asked in a
batch job, its answers stored as suggestions; a label the schema lacks or a task that times
out fails only its item, and no bad suggestion reaches an annotator."""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Callable
from typing import Any

from litestar.testing import TestClient
from PIL import Image

from .label_studio_ml_server import LabelStudioMLServer, running

COLOURS = {"Red": (220, 30, 20), "Green": (25, 200, 40), "Blue": (10, 40, 230)}


def png(rgb: tuple[int, int, int], size: int = 24) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), rgb).save(buffer, "PNG")
    return buffer.getvalue()


def project(api_for: Callable[..., TestClient[Any]]) -> dict[str, Any]:
    manager = api_for("manager")
    created = manager.post(
        "/api/v1/projects",
        json={
            "name": "Remote colours",
            "modality": "image",
            "annotation_types": ["classification"],
            "categories": list(COLOURS),
        },
    ).json()
    files = [
        ("files", (f"{n}-{name}.png", png(rgb, 24 + n), "image/png"))
        for n, (name, rgb) in enumerate([*COLOURS.items(), ("Red", COLOURS["Red"])])
    ]
    items = manager.post(f"/api/v1/projects/{created['id']}/items", files=files).json()["created"]
    listed = manager.get(f"/api/v1/projects/{created['id']}/categories").json()
    return {
        "manager": manager,
        "id": created["id"],
        "items": items,
        "categories": {c["name"]: c["id"] for c in listed},
    }


def register(manager: TestClient[Any], project_id: int, url: str, **config: Any) -> Any:
    return manager.post(
        f"/api/v1/projects/{project_id}/models",
        json={
            "name": "remote-colours",
            "version": "ls-1",
            "backend": "label-studio-ml",
            "source": url,
            "annotation_type": "classification",
            "config": {"timeout_s": 2.0, "batch_size": 1, **config},
        },
    )


def finished(manager: TestClient[Any], url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = manager.get(url).json()
        if job["status"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


def test_a_label_studio_ml_backend_suggests_and_its_bad_answers_fail_only_their_items(
    api_for: Callable[..., TestClient[Any]],
) -> None:
    made = project(api_for)
    manager, items = made["manager"], made["items"]
    unknown, slow = items[1]["id"], items[2]["id"]
    state = LabelStudioMLServer(unknown_label_task_ids={unknown}, slow_task_ids={slow}, delay_s=3)
    with running(state) as server:
        registered = register(manager, made["id"], server.url)
        assert registered.status_code == 201, registered.text
        model = registered.json()
        manager.post(f"/api/v1/models/{model['id']}/activate").raise_for_status()
        started = manager.post(f"/api/v1/projects/{made['id']}/suggestion-jobs", json={})
        job = finished(manager, started.json()["url"])
        setups = server.requests_to("/setup")
        predicts = server.requests_to("/predict")
    assert (job["status"], job["processed"], job["suggested"], job["failed"]) == ("done", 4, 2, 2)
    errors = {f["item_id"]: f["error"] for f in job["failures"]}
    assert "'Purple'" in errors[unknown]
    assert "did not answer within 2 s" in errors[slow]
    assert '<Choice value="Red"' in setups[0].body["schema"]
    assert {task["id"] for p in predicts for task in p.body["tasks"]} == {i["id"] for i in items}
    annotator = api_for("annotator", project=made["id"])
    for item in (items[1], items[2]):  # no suggestion reaches anyone for the failed items
        assert annotator.get(f"/api/v1/items/{item['id']}/suggestions").json() == []
    (red,) = annotator.get(f"/api/v1/items/{items[0]['id']}/suggestions").json()
    assert red["payload"] == {"category_ids": [made["categories"]["Red"]]}
    assert red["model_version"] == "ls-1"


def test_a_backend_that_is_not_running_cannot_be_registered(
    api_for: Callable[..., TestClient[Any]],
) -> None:
    made = project(api_for)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    response = register(made["manager"], made["id"], f"http://127.0.0.1:{port}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "model_failed"
    assert f"127.0.0.1:{port}" in response.json()["error"]["message"]
    assert made["manager"].get(f"/api/v1/projects/{made['id']}/models").json() == []


def test_suggestions_go_on_after_the_backend_restarts(
    api_for: Callable[..., TestClient[Any]],
) -> None:
    made = project(api_for)
    manager = made["manager"]
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    jobs_url = f"/api/v1/projects/{made['id']}/suggestion-jobs"
    with running(port=port) as server:
        model = register(manager, made["id"], server.url).json()
        manager.post(f"/api/v1/models/{model['id']}/activate").raise_for_status()
        first_item = made["items"][0]["id"]
        first = manager.post(jobs_url, json={"scope": "items", "item_ids": [first_item]})
        assert finished(manager, first.json()["url"])["suggested"] == 1
    with running(port=port) as restarted:  # the same URL, a new process without its setup
        started = manager.post(jobs_url, json={})
        job = finished(manager, started.json()["url"])
    assert (job["status"], job["suggested"], job["failed"], job["error"]) == ("done", 4, 0, None)
    assert len(restarted.requests_to("/setup")) == 1


def test_a_job_whose_every_item_failed_reports_failure_with_the_first_reason(
    api_for: Callable[..., TestClient[Any]],
) -> None:
    made = project(api_for)
    manager = made["manager"]
    state = LabelStudioMLServer(failing_task_ids={i["id"] for i in made["items"]})
    with running(state) as server:
        model = register(manager, made["id"], server.url).json()
        manager.post(f"/api/v1/models/{model['id']}/activate").raise_for_status()
        started = manager.post(f"/api/v1/projects/{made['id']}/suggestion-jobs", json={})
        job = finished(manager, started.json()["url"])
    assert (job["status"], job["processed"], job["suggested"], job["failed"]) == (
        "failed",
        4,
        0,
        4,
    )
    assert job["error"].startswith("Every item failed (4 of 4)")
    assert "CUDA out of memory" in job["error"]

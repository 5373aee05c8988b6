"""The models page a manager uses: register a real ONNX model through the form (a corrupt
upload refused on the form, nothing stored), activate it, run "Suggest for unlabeled" and watch
the job's row until it is done, read the outcome log; a labels_hash mismatch warns and refuses
the batch naming both hashes; the suggestion settings on the settings page."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlmodel import func, select

from scholia.core import model_registry, projects
from scholia.core.models import Model
from scholia.core.project_settings import settings_of
from scholia.core.runtime import Runtime
from scholia_image.colour_model import train_colour_classifier
from tests.modelling import NAMES, colour_project


@pytest.fixture
def trained(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "colours.onnx"
    result = train_colour_classifier(path, NAMES)
    return {"bytes": path.read_bytes(), "config": result["config"]}


def register_form(trained: dict[str, Any], **changes: str) -> dict[str, str]:
    """The register form as the page sends it."""
    return {
        "backend": "onnx-classifier",
        "name": "colours",
        "version": "1.0",
        "annotation_type": "classification",
        "source": "",
        "categories": "red, green, blue",
        "config": json.dumps(trained["config"]),
        **changes,
    }


def upload(client: TestClient[Any], project_id: int, form: dict[str, str], data: bytes) -> Any:
    return client.post(
        f"/projects/{project_id}/models",
        data=form,
        files={"file": ("colours.onnx", data, "application/octet-stream")},
        follow_redirects=False,
    )


def model_count(runtime: Runtime) -> int:
    with runtime.reading() as session:
        return int(session.exec(select(func.count()).select_from(Model)).one())


def stored_files(runtime: Runtime) -> list[Path]:
    return [
        p
        for p in model_registry.file_store(runtime.settings.data_dir).root.rglob("*")
        if p.is_file()
    ]


def registered_on_page(
    client: TestClient[Any], project_id: int, trained: dict[str, Any], runtime: Runtime
) -> Model:
    response = upload(client, project_id, register_form(trained), trained["bytes"])
    assert response.status_code in (302, 303), response.text
    with runtime.reading() as session:
        (model,) = model_registry.list_models(session, project_id)
    return model


def wait_for_row(client: TestClient[Any], project_id: int, job_id: int) -> str:
    """Poll the job's row (what htmx polls) until it stops running."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = client.get(f"/projects/{project_id}/models/jobs/{job_id}/row")
        assert row.status_code == 200, row.text
        if 'data-status="running"' not in row.text:
            return row.text
        assert 'hx-trigger="every 500ms"' in row.text  # a running row polls itself
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still running")


def test_register_activate_suggest_and_read_the_outcome_log(
    api_for: Callable[..., TestClient[Any]],
    client_for: Callable[..., TestClient[Any]],
    runtime: Runtime,
    trained: dict[str, Any],
) -> None:
    project = colour_project(api_for)
    pid = project["id"]
    manager = client_for("manager", project=project["id"])
    empty = manager.get(f"/projects/{pid}/models")
    assert empty.status_code == 200
    assert "No models yet" in empty.text and "No jobs yet" in empty.text
    assert "Nothing is downloaded" in empty.text
    # The form offers the installed backends and prefills the config with the defaults.
    assert 'value="onnx-classifier"' in empty.text and 'value="label-studio-ml"' in empty.text
    assert "&#34;batch_size&#34;: 32" in empty.text or '"batch_size": 32' in empty.text
    assert "red\ngreen\nblue" in empty.text  # the live categories, in display order

    model = registered_on_page(manager, pid, trained, runtime)
    assert (model.name, model.version, model.status) == ("colours", "1.0", "registered")
    assert [n for _, n in model.categories] == list(NAMES)
    assert stored_files(runtime) == [Path(model.source)]
    listed = manager.get(f"/projects/{pid}/models")
    assert "Registered colours 1.0" in listed.text  # the flash
    assert model.labels_hash[:12] in listed.text
    assert 'data-status="registered"' in listed.text
    assert "Activate a model first." in listed.text  # no active model: the button says why

    activated = manager.post(f"/projects/{pid}/models/{model.id}/activate", follow_redirects=False)
    assert activated.status_code in (302, 303)
    with runtime.reading() as session:
        assert model_registry.get_model(session, model.id or 0).status == "active"
    page = manager.get(f"/projects/{pid}/models").text
    assert 'class="model is-active"' in page
    assert re.search(r'<button class="button primary" type="submit">Suggest for unlabeled', page)

    started = manager.post(
        f"/projects/{pid}/models/suggest", data={"model_id": str(model.id)}, follow_redirects=False
    )
    assert started.status_code in (302, 303)
    jobs = manager.get(f"/api/v1/projects/{pid}/suggestion-jobs").json()
    (job,) = jobs
    row = wait_for_row(manager, pid, job["id"])
    assert 'data-status="done"' in row and "hx-trigger" not in row
    assert "<span data-processed>6</span> / 6 items" in row
    assert re.search(r"data-suggested>6<", row) and re.search(r"data-failed>0<", row)

    # An annotator takes two suggestions and dismisses one: the outcome log shows it.
    annotator = api_for("annotator", project=project["id"])
    first, second, third = project["items"][:3]
    for item in (first, second):
        (shown,) = annotator.get(f"/api/v1/items/{item['id']}/suggestions").json()
        accepted = annotator.post(f"/api/v1/suggestions/{shown['id']}/accept", json={})
        assert accepted.status_code == 201, accepted.text
    (shown,) = annotator.get(f"/api/v1/items/{third['id']}/suggestions").json()
    annotator.post(f"/api/v1/suggestions/{shown['id']}/dismiss").raise_for_status()
    page = manager.get(f"/projects/{pid}/models").text
    assert "No decisions yet" not in page
    outcome = page[page.index('<tbody class="outcome"') :]
    assert re.search(r'data-outcome="accepted">2<', outcome)
    assert re.search(r'data-outcome="rejected">1<', outcome)
    assert "67%" in outcome  # 2 of 3 decided were accepted
    assert re.search(r'data-category="red"><strong>red</strong> 100%', outcome)
    assert re.search(r'data-category="blue"><strong>blue</strong> 0%', outcome)

    retired = manager.post(f"/projects/{pid}/models/{model.id}/retire", follow_redirects=False)
    assert retired.status_code in (302, 303)
    page = manager.get(f"/projects/{pid}/models").text
    assert 'data-status="retired"' in page and "Activate a model first." in page


def test_a_corrupt_upload_is_refused_on_the_form_and_registers_nothing(
    api_for: Callable[..., TestClient[Any]],
    client_for: Callable[..., TestClient[Any]],
    runtime: Runtime,
    trained: dict[str, Any],
) -> None:
    project = colour_project(api_for)
    manager = client_for("manager", project=project["id"])
    form = register_form(trained, name="typed name", categories="blue\ngreen\nred")
    refused = upload(manager, project["id"], form, b"not an onnx model at all")
    assert refused.status_code == 422
    field = re.search(r'<fieldset class="source invalid">.*?</fieldset>', refused.text, re.S)
    assert field is not None, "the error sits next to the model field"
    assert 'class="field-error"' in field.group(0)
    assert 'value="typed name"' in refused.text  # what was typed is kept
    assert "blue\ngreen\nred" in refused.text
    assert model_count(runtime) == 0
    assert stored_files(runtime) == []  # the refused upload is not kept either

    bad_config = upload(
        manager, project["id"], register_form(trained, config="{not json"), trained["bytes"]
    )
    assert bad_config.status_code == 422
    assert "config is not valid JSON" in bad_config.text
    unknown = upload(
        manager, project["id"], register_form(trained, categories="red, purple"), trained["bytes"]
    )
    assert unknown.status_code == 422 and "no category named &#39;purple&#39;" in unknown.text
    assert model_count(runtime) == 0


def test_a_labels_hash_mismatch_warns_and_the_batch_is_refused_naming_both_hashes(
    api_for: Callable[..., TestClient[Any]],
    client_for: Callable[..., TestClient[Any]],
    runtime: Runtime,
    trained: dict[str, Any],
) -> None:
    project = colour_project(api_for)
    pid = project["id"]
    manager = client_for("manager", project=project["id"])
    model = registered_on_page(manager, pid, trained, runtime)
    manager.post(f"/projects/{pid}/models/{model.id}/activate", follow_redirects=False)
    renamed = project["manager"].patch(
        f"/api/v1/projects/{pid}/categories/{project['categories']['green']}",
        json={"name": "lime"},
    )
    assert renamed.status_code == 200, renamed.text
    with runtime.reading() as session:
        fit = model_registry.schema_fit(session, model)
    page = manager.get(f"/projects/{pid}/models").text
    warning = re.search(r'<div class="flash warn model-warning".*?</div></div>', page, re.S)
    assert warning is not None
    assert f"Trained on labels <code>{fit.model_hash[:12]}</code>" in warning.group(0)
    assert f"the project is at <code>{fit.project_hash[:12]}</code>" in warning.group(0)
    assert "&#39;green&#39;" in warning.group(0) and "&#39;lime&#39;" in warning.group(0)
    assert "Suggestions are blocked." in warning.group(0)
    assert re.search(r'type="submit" disabled[^>]*>Suggest for unlabeled', page)

    refused = manager.post(f"/projects/{pid}/models/suggest", data={"model_id": str(model.id)})
    assert refused.status_code == 200
    flash = re.search(r'<div class="flash error" role="status">(.*?)</div>', refused.text, re.S)
    assert flash is not None
    assert fit.model_hash[:12] in flash.group(1) and fit.project_hash[:12] in flash.group(1)
    assert manager.get(f"/api/v1/projects/{pid}/suggestion-jobs").json() == []


def test_annotators_and_reviewers_may_not_use_the_models_page(
    api_for: Callable[..., TestClient[Any]],
    client_for: Callable[..., TestClient[Any]],
    runtime: Runtime,
    trained: dict[str, Any],
) -> None:
    project = colour_project(api_for)
    pid = project["id"]
    for role in ("annotator", "reviewer"):
        client = client_for(role, project=project["id"])
        assert client.get(f"/projects/{pid}/models").status_code == 403
        refused = upload(client, pid, register_form(trained), trained["bytes"])
        assert refused.status_code == 403
        assert client.post(f"/projects/{pid}/models/suggest", data={}).status_code == 403
        detail = client.get(f"/projects/{pid}").text
        assert f'href="/projects/{pid}/models"' not in detail
    assert model_count(runtime) == 0
    manager = client_for("manager", project=project["id"])
    assert f'href="/projects/{pid}/models"' in manager.get(f"/projects/{pid}").text


SETTINGS_FORM = {
    "overlap": "1",
    "gold_rate": "0.05",
    "gold.correct_at": "1",
    "gold.window": "50",
    "gold.min_count": "10",
    "gold.threshold": "0.8",
    "calibration.items": "30",
    "calibration.pass_mark": "0.85",
    "calibration.attempts": "3",
    "adjudication.below": "0.5",
    "adjudication.aggregator": "majority",
    "suggestions.reveal": "at_once",
    "suggestions.order": "default",
    "suggestions.top_k": "3",
}


def test_the_settings_page_saves_the_suggestion_settings_and_refuses_bad_ones(
    api_for: Callable[..., TestClient[Any]],
    client_for: Callable[..., TestClient[Any]],
    runtime: Runtime,
) -> None:
    project = colour_project(api_for)
    pid = project["id"]
    manager = client_for("manager", project=project["id"])
    shown = manager.get(f"/projects/{pid}/settings").text
    assert "<legend>Suggestions</legend>" in shown
    assert "After the annotator’s own first label (anti-anchoring)" in shown
    saved = manager.post(
        f"/projects/{pid}/settings",
        data={
            **SETTINGS_FORM,
            "suggestions.reveal": "after_first_label",
            "suggestions.order": "entropy",
            "suggestions.top_k": "5",
        },
        follow_redirects=False,
    )
    assert saved.status_code in (302, 303), saved.text
    with runtime.reading() as session:
        stored = settings_of(projects.get_project(session, pid)).suggestions
    assert (stored.reveal, stored.order, stored.top_k) == ("after_first_label", "entropy", 5)
    again = manager.get(f"/projects/{pid}/settings").text
    assert '<option value="entropy" selected>' in again
    assert '<option value="after_first_label" selected>' in again

    for bad, words in (
        ({"suggestions.top_k": "50"}, "top_k"),
        ({"suggestions.top_k": "many"}, "is not a number"),
        ({"suggestions.order": "random"}, "random"),
    ):
        refused = manager.post(f"/projects/{pid}/settings", data={**SETTINGS_FORM, **bad})
        assert refused.status_code == 422, bad
        assert words in refused.text, (bad, refused.text[:2000])
        with runtime.reading() as session:
            kept = settings_of(projects.get_project(session, pid)).suggestions
        assert (kept.order, kept.top_k) == ("entropy", 5)

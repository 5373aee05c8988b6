"""Model-assisted labeling end to end through the API: a locally trained ONNX model is
registered (bad files refused), suggests for items, its suggestions are accepted, confirmed,
corrected or dismissed and counted; a labels_hash mismatch blocks it; batch jobs report
progress, cancel and resume without duplicates."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlmodel import col, func, select

from scholia.core import jobs, suggestion_jobs
from scholia.core.models import JobStatus, Model, Suggestion, SuggestionJob, SuggestionStatus
from scholia.core.runtime import Runtime

from .modelling import NAMES, colour_project, register, registered, run_job, train, wait


@pytest.fixture
def trained(tmp_path: Path) -> dict[str, Any]:
    return train(tmp_path)


def test_a_model_suggests_its_top_category_with_scores_and_alternatives(
    api_for: Callable[..., TestClient[Any]], trained: dict[str, Any]
) -> None:
    project = registered(api_for, trained)
    manager = project["manager"]
    assert project["model"]["schema"]["fits"]
    job = run_job(manager, project["id"])
    assert (job["status"], job["processed"], job["suggested"], job["failed"]) == ("done", 6, 6, 0)
    for n, item in enumerate(project["items"]):
        (shown,) = manager.get(f"/api/v1/items/{item['id']}/suggestions").json()
        expected = project["categories"][NAMES[n % 3]]
        assert shown["payload"] == {"category_ids": [expected]}
        assert shown["model_version"] == "1.0" and shown["score"] > 0.5
        assert len(shown["alternatives"]) == 2  # top_k 3: the top one and two more
        scores = [shown["score"], *(a["score"] for a in shown["alternatives"])]
        assert scores == sorted(scores, reverse=True)
        assert 0 <= shown["least_confidence"] <= 1 and 0 <= shown["entropy"] <= 1


def test_accepting_writes_an_annotation_whose_provenance_names_the_model_version(
    api_for: Callable[..., TestClient[Any]], trained: dict[str, Any]
) -> None:
    project = registered(api_for, trained)
    manager = project["manager"]
    item = project["items"][0]
    (made,) = manager.post(f"/api/v1/items/{item['id']}/suggest").json()
    annotator = api_for("annotator", project=project["id"])
    (shown,) = annotator.get(f"/api/v1/items/{item['id']}/suggestions").json()
    accepted = annotator.post(
        f"/api/v1/suggestions/{shown['id']}/accept", json={"client_op_id": "op-1"}
    )
    assert accepted.status_code == 201, accepted.text
    annotation = accepted.json()
    assert annotation["source"] == "suggestion"
    assert annotation["suggestion_id"] == made["id"]
    assert annotation["model_version"] == "1.0"
    assert annotation["payload"] == made["payload"]
    replay = annotator.post(
        f"/api/v1/suggestions/{shown['id']}/accept", json={"client_op_id": "op-1"}
    )
    assert replay.status_code == 200 and replay.json()["id"] == annotation["id"]
    (after,) = annotator.get(f"/api/v1/items/{item['id']}/suggestions").json()
    assert after["decision"] == "accepted"


def test_own_labels_count_as_confirmed_or_corrected_and_the_log_shows_rates_per_category(
    api_for: Callable[..., TestClient[Any]], trained: dict[str, Any]
) -> None:
    project = registered(api_for, trained)
    manager, ids = project["manager"], project["categories"]
    run_job(manager, project["id"])
    annotator = api_for("annotator", project=project["id"])
    first, second, third, fourth = project["items"][:4]  # red, green, blue, red
    annotator.post(
        f"/api/v1/items/{first['id']}/annotations",
        json={"annotation_type": "classification", "payload": {"category_ids": [ids["red"]]}},
    )
    annotator.post(
        f"/api/v1/items/{second['id']}/annotations",
        json={"annotation_type": "classification", "payload": {"category_ids": [ids["blue"]]}},
    )
    (third_suggestion,) = annotator.get(f"/api/v1/items/{third['id']}/suggestions").json()
    dismissed = annotator.post(f"/api/v1/suggestions/{third_suggestion['id']}/dismiss")
    assert dismissed.json() == {"outcome": "rejected"}
    (fourth_suggestion,) = annotator.get(f"/api/v1/items/{fourth['id']}/suggestions").json()
    annotator.post(f"/api/v1/suggestions/{fourth_suggestion['id']}/accept", json={})
    (log,) = manager.get(f"/api/v1/projects/{project['id']}/suggestion-outcomes").json()
    assert (log["suggestions"], log["decided"]) == (6, 4)
    assert (log["accepted"], log["confirmed"], log["corrected"], log["rejected"]) == (1, 1, 1, 1)
    assert log["acceptance_rate"] == 0.5
    per_category = {c["name"]: (c["decided"], c["taken"]) for c in log["per_category"]}
    assert per_category == {"red": (2, 2), "green": (1, 0), "blue": (1, 0)}


def test_anti_anchoring_hides_the_suggestion_until_the_first_label_and_records_agreement(
    api_for: Callable[..., TestClient[Any]], trained: dict[str, Any]
) -> None:
    project = registered(api_for, trained)
    manager, ids = project["manager"], project["categories"]
    manager.patch(
        f"/api/v1/projects/{project['id']}/settings",
        json={"suggestions": {"reveal": "after_first_label"}},
    ).raise_for_status()
    run_job(manager, project["id"])
    annotator = api_for("annotator", project=project["id"])
    green = project["items"][1]
    (hidden,) = annotator.get(f"/api/v1/items/{green['id']}/suggestions").json()
    assert hidden["hidden"] and hidden["id"] is None and hidden["payload"] is None
    own = annotator.post(
        f"/api/v1/items/{green['id']}/annotations",
        json={"annotation_type": "classification", "payload": {"category_ids": [ids["red"]]}},
    ).json()
    (revealed,) = annotator.get(f"/api/v1/items/{green['id']}/suggestions").json()
    assert not revealed["hidden"]
    assert revealed["payload"] == {"category_ids": [ids["green"]]}
    assert (revealed["decision"], revealed["agreement"]) == ("corrected", 0.0)
    taken = annotator.post(
        f"/api/v1/suggestions/{revealed['id']}/accept", json={"supersedes_id": own["id"]}
    )
    assert taken.status_code == 201, taken.text
    (log,) = manager.get(f"/api/v1/projects/{project['id']}/suggestion-outcomes").json()
    assert (log["accepted"], log["independent"], log["mean_agreement"]) == (1, 1, 0.0)


def test_a_labels_hash_mismatch_blocks_suggestions_naming_both_hashes_and_the_difference(
    api_for: Callable[..., TestClient[Any]], trained: dict[str, Any]
) -> None:
    project = registered(api_for, trained)
    manager, ids = project["manager"], project["categories"]
    item = project["items"][0]
    manager.post(f"/api/v1/items/{item['id']}/suggest").raise_for_status()
    renamed = manager.patch(
        f"/api/v1/projects/{project['id']}/categories/{ids['green']}", json={"name": "lime"}
    )
    assert renamed.status_code == 200, renamed.text
    model = manager.get(project["model"]["url"]).json()
    schema = model["schema"]
    assert not schema["fits"]
    assert schema["model_labels_hash"] != schema["project_labels_hash"]
    assert "'green'" in schema["differences"] and "'lime'" in schema["differences"]
    for refused in (
        manager.post(f"/api/v1/items/{item['id']}/suggest"),
        manager.post(f"/api/v1/projects/{project['id']}/suggestion-jobs", json={}),
    ):
        assert refused.status_code == 422, refused.text
        message = refused.json()["error"]["message"]
        assert schema["model_labels_hash"][:12] in message
        assert schema["project_labels_hash"][:12] in message
        assert "'green'" in message and "'lime'" in message
    # What it suggested before the rename no longer reaches anyone.
    assert (
        api_for("annotator", project=project["id"])
        .get(f"/api/v1/items/{item['id']}/suggestions")
        .json()
        == []
    )


def test_registering_with_categories_the_project_lacks_warns_and_blocks(
    api_for: Callable[..., TestClient[Any]], trained: dict[str, Any]
) -> None:
    project = colour_project(api_for)
    manager = project["manager"]
    older = [{"id": 900, "name": "purple"}, "green", "blue"]
    response = register(manager, project["id"], trained, categories=older)
    assert response.status_code == 201, response.text
    schema = response.json()["schema"]
    assert not schema["fits"]
    assert "'purple' (id 900) only in the model" in schema["differences"]
    assert "'red'" in schema["differences"] and "only in the project" in schema["differences"]
    wrong_hash = register(manager, project["id"], trained, version="2", labels_hash="0" * 64)
    assert wrong_hash.status_code == 422
    assert wrong_hash.json()["error"]["path"] == "$.labels_hash"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("missing", "no model file"),
        ("corrupt", "is not an ONNX model"),
        ("input_size", "64"),
        ("layout", "NHWC"),
        ("categories", "2 categories"),
    ],
)
def test_a_model_that_cannot_load_is_refused_with_the_reason_and_not_stored(
    api_for: Callable[..., TestClient[Any]],
    trained: dict[str, Any],
    tmp_path: Path,
    change: str,
    expected: str,
) -> None:
    project = colour_project(api_for, count=1)
    manager = project["manager"]
    extra: dict[str, Any] = {}
    config = dict(trained["config"])
    if change == "missing":
        extra["source"] = str(tmp_path / "nowhere.onnx")
    elif change == "corrupt":
        broken = tmp_path / "broken.onnx"
        broken.write_bytes(trained["path"].read_bytes()[:200])
        extra["source"] = str(broken)
    elif change == "input_size":
        config["input_size"] = [64, 64]
    elif change == "layout":
        config["layout"] = "NHWC"
    else:
        extra["categories"] = ["red", "green"]
    response = register(manager, project["id"], {**trained, "config": config}, **extra)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "model_failed"
    assert expected in response.json()["error"]["message"]
    assert manager.get(f"/api/v1/projects/{project['id']}/models").json() == []


def test_re_running_supersedes_instead_of_duplicating(
    api_for: Callable[..., TestClient[Any]], trained: dict[str, Any], runtime: Runtime
) -> None:
    project = registered(api_for, trained)
    manager = project["manager"]
    for _ in range(2):
        assert run_job(manager, project["id"])["suggested"] == 6
    with runtime.reading() as session:
        statuses = session.exec(
            select(Suggestion.status, func.count()).group_by(col(Suggestion.status))
        ).all()
    assert dict(statuses) == {SuggestionStatus.pending: 6, SuggestionStatus.superseded: 6}


def test_a_cancelled_job_resumes_after_its_cursor(
    api_for: Callable[..., TestClient[Any]],
    trained: dict[str, Any],
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = registered(api_for, trained)
    manager = project["manager"]
    monkeypatch.setattr(suggestion_jobs, "BATCH", 2)
    with runtime.session() as session:
        model = session.get(Model, project["model"]["id"])
        assert model is not None
        job = suggestion_jobs.start(session, model, actor_id=model.created_by)
    assert job.id is not None and job.total == 6

    def cancel_after_first_batch(progress: SuggestionJob) -> None:
        with runtime.session() as session:
            stored = suggestion_jobs.get_job(session, progress.id or 0)
            jobs.cancel(session, suggestion_jobs.JOB, stored, 1)

    stopped = suggestion_jobs.run(runtime, job.id, on_progress=cancel_after_first_batch)
    assert (stopped.status, stopped.processed, stopped.cursor) == (
        JobStatus.cancelled,
        2,
        project["items"][1]["id"],
    )
    listed = manager.get(f"/api/v1/suggestion-jobs/{job.id}").json()
    assert listed["can_resume"] and listed["status"] == "cancelled"
    resumed = manager.post(f"/api/v1/suggestion-jobs/{job.id}/resume")
    assert resumed.status_code == 202, resumed.text
    done = wait(manager, resumed.json()["url"])
    assert (done["status"], done["processed"], done["suggested"]) == ("done", 6, 6)
    with runtime.reading() as session:
        kept = session.exec(
            select(func.count()).select_from(Suggestion).where(col(Suggestion.status) == "pending")
        ).one()
    assert kept == 6  # the first batch was not asked again
    again = manager.post(f"/api/v1/suggestion-jobs/{job.id}/resume")
    assert again.status_code == 409


def test_a_retired_model_suggests_nothing_and_its_suggestions_stop_showing(
    api_for: Callable[..., TestClient[Any]], trained: dict[str, Any]
) -> None:
    project = registered(api_for, trained)
    manager = project["manager"]
    item = project["items"][0]
    manager.post(f"/api/v1/items/{item['id']}/suggest").raise_for_status()
    retired = manager.post(f"/api/v1/models/{project['model']['id']}/retire").json()
    assert retired["status"] == "retired"
    assert manager.get(f"/api/v1/items/{item['id']}/suggestions").json() == []
    refused = manager.post(
        f"/api/v1/projects/{project['id']}/suggestion-jobs",
        json={"model_id": project["model"]["id"]},
    )
    assert refused.status_code == 409 and "retired" in refused.json()["error"]["message"]
    assert manager.post(f"/api/v1/models/{project['model']['id']}/activate").status_code == 409


def test_annotators_cannot_register_models_or_run_jobs(
    api_for: Callable[..., TestClient[Any]], trained: dict[str, Any]
) -> None:
    project = colour_project(api_for, count=1)
    annotator = api_for("annotator", project=project["id"])
    assert register(annotator, project["id"], trained).status_code == 403
    assert (
        annotator.post(f"/api/v1/projects/{project['id']}/suggestion-jobs", json={}).status_code
        == 403
    )


def test_a_model_file_gone_after_registration_fails_the_job_and_shows_on_the_model(
    api_for: Callable[..., TestClient[Any]], trained: dict[str, Any]
) -> None:
    project = registered(api_for, trained)
    manager = project["manager"]
    trained["path"].unlink()
    job = run_job(manager, project["id"])
    assert job["status"] == "failed" and job["suggested"] == 0
    assert "no model file" in job["error"] and job["can_resume"]
    model = manager.get(project["model"]["url"]).json()
    assert "no model file" in model["problem"]
    item = project["items"][0]
    refused = manager.post(f"/api/v1/items/{item['id']}/suggest")
    assert refused.status_code == 422 and "no model file" in refused.json()["error"]["message"]
    assert (
        api_for("annotator", project=project["id"])
        .get(f"/api/v1/items/{item['id']}/suggestions")
        .json()
        == []
    )

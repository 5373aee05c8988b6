"""The labeling page carries the active model's suggestion for its item (a locally trained ONNX
colour classifier): its label, score, model and alternatives in the page's state, a badge in the
queue, nothing of it under anti-anchoring until the annotator's own first label, nothing once the
project's labels changed; accepting it gives an annotation whose provenance names the model."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from .conftest import label_page, take_up
from .modelling import registered, run_job, train


@pytest.fixture
def trained(tmp_path: Path) -> dict[str, Any]:
    return train(tmp_path)


def opened(client: TestClient[Any], project_id: int, item_id: int) -> tuple[str, Any]:
    """The labeling page once the item is taken up, as the page's script does (a refused
    claim, all slots taken, is let be as the page lets it be)."""
    assert take_up(client, project_id, item_id).status_code in (200, 409)
    return label_page(client, project_id, item_id)


def queue_entry(page: str, item_id: int) -> str:
    found = re.search(rf'<a [^>]*data-queue-item="{item_id}".*?</a>', page, re.S)
    assert found, f"item {item_id} is not in the queue"
    return found.group(0)


def test_the_label_page_shows_the_suggestion_its_score_model_and_alternatives(
    api_for: Callable[..., TestClient[Any]],
    client_for: Callable[..., TestClient[Any]],
    trained: dict[str, Any],
) -> None:
    project = registered(api_for, trained)
    red, green = project["items"][:2]
    project["manager"].post(f"/api/v1/items/{red['id']}/suggest").raise_for_status()
    annotator = client_for("annotator", project=project["id"])
    page, state = opened(annotator, project["id"], red["id"])
    (shown,) = state["suggestions"]
    assert shown["annotation_type"] == "classification" and not shown["hidden"]
    assert shown["payload"] == {"category_ids": [project["categories"]["red"]]}
    assert (shown["model_name"], shown["model_version"]) == ("colours", "1.0")
    assert 0.5 < shown["score"] <= 1
    assert len(shown["alternatives"]) == 2
    assert all(a["score"] <= shown["score"] for a in shown["alternatives"])
    assert shown["id"] and shown["decision"] is None
    assert "data-suggestions" in page
    assert "Accept the model&#39;s suggestion" in page or "Accept the model's suggestion" in page
    # The queue marks the item with a suggestion, and only that one.
    _, other = opened(annotator, project["id"], green["id"])
    assert other["suggestions"] == []
    page, _ = opened(annotator, project["id"], green["id"])
    assert "data-queue-suggested" in queue_entry(page, red["id"])
    assert "data-queue-suggested" not in queue_entry(page, green["id"])


def test_accepting_gives_an_annotation_whose_provenance_names_the_model(
    api_for: Callable[..., TestClient[Any]],
    client_for: Callable[..., TestClient[Any]],
    trained: dict[str, Any],
) -> None:
    project = registered(api_for, trained)
    red = project["items"][0]
    project["manager"].post(f"/api/v1/items/{red['id']}/suggest").raise_for_status()
    annotator = client_for("annotator", project=project["id"])
    _, state = opened(annotator, project["id"], red["id"])
    (shown,) = state["suggestions"]
    accepted = annotator.post(
        f"/api/v1/suggestions/{shown['id']}/accept",
        json={"client_op_id": "label-page-1", "supersedes_id": None, "time_spent_ms": 900},
    )
    assert accepted.status_code == 201, accepted.text
    annotation = accepted.json()
    assert annotation["source"] == "suggestion"
    assert (annotation["suggestion_id"], annotation["model_version"]) == (shown["id"], "1.0")
    assert annotation["payload"] == shown["payload"]
    _, state = opened(annotator, project["id"], red["id"])
    assert state["suggestions"][0]["decision"] == "accepted"
    assert state["revisions"]["classification"]["id"] == annotation["id"]
    # The item page names where the label came from.
    item_page = client_for("reviewer", project=project["id"]).get(
        f"/projects/{project['id']}/items/{red['id']}"
    )
    provenance = re.search(r"<small[^>]*data-provenance>(.*?)</small>", item_page.text, re.S)
    assert provenance, item_page.text
    assert html.unescape(provenance.group(1)).strip() == "from suggestion · colours 1.0"


def test_anti_anchoring_keeps_the_suggestion_out_of_the_page_until_the_first_label(
    api_for: Callable[..., TestClient[Any]],
    client_for: Callable[..., TestClient[Any]],
    trained: dict[str, Any],
) -> None:
    project = registered(api_for, trained)
    manager, ids = project["manager"], project["categories"]
    manager.patch(
        f"/api/v1/projects/{project['id']}/settings",
        json={"suggestions": {"reveal": "after_first_label"}},
    ).raise_for_status()
    run_job(manager, project["id"])
    green = project["items"][1]
    annotator = client_for("annotator", project=project["id"])
    page, state = opened(annotator, project["id"], green["id"])
    (waiting,) = state["suggestions"]
    assert waiting["hidden"] and waiting["id"] is None
    assert waiting["payload"] is None and waiting["score"] is None
    assert waiting["alternatives"] == [] and waiting["model_version"] is None
    assert "data-queue-suggested" in queue_entry(page, green["id"])
    own = annotator.post(
        f"/api/v1/items/{green['id']}/annotations",
        json={"annotation_type": "classification", "payload": {"category_ids": [ids["red"]]}},
    )
    assert own.status_code == 201, own.text
    _, state = opened(annotator, project["id"], green["id"])
    (revealed,) = state["suggestions"]
    assert not revealed["hidden"]
    assert revealed["payload"] == {"category_ids": [ids["green"]]}
    assert (revealed["decision"], revealed["agreement"]) == ("corrected", 0.0)
    # Whether your label is the suggestion's is the type's agreement, said by the server (the
    # page reads no payload), on the page and through the API, and again after a change.
    assert revealed["agrees_with_yours"] is False
    url = f"/api/v1/items/{green['id']}/suggestions"
    assert annotator.get(url).json()[0]["agrees_with_yours"] is False
    changed = annotator.post(
        f"/api/v1/items/{green['id']}/annotations",
        json={
            "annotation_type": "classification",
            "payload": {"category_ids": [ids["green"]]},
            "supersedes_id": own.json()["id"],
        },
    )
    assert changed.status_code == 201, changed.text
    assert annotator.get(url).json()[0]["agrees_with_yours"] is True
    # Another annotator still sees it hidden: the reveal is per person.
    _, theirs = opened(client_for("annotator", project=project["id"]), project["id"], green["id"])
    assert theirs["suggestions"][0]["hidden"]


def test_a_renamed_category_takes_the_suggestion_off_the_page(
    api_for: Callable[..., TestClient[Any]],
    client_for: Callable[..., TestClient[Any]],
    trained: dict[str, Any],
) -> None:
    project = registered(api_for, trained)
    manager, green = project["manager"], project["items"][1]
    manager.post(f"/api/v1/items/{green['id']}/suggest").raise_for_status()
    annotator = client_for("annotator", project=project["id"])
    assert opened(annotator, project["id"], green["id"])[1]["suggestions"]
    renamed = manager.patch(
        f"/api/v1/projects/{project['id']}/categories/{project['categories']['green']}",
        json={"name": "lime"},
    )
    assert renamed.status_code == 200, renamed.text
    page, state = opened(annotator, project["id"], green["id"])
    assert state["suggestions"] == []
    assert "data-queue-suggested" not in queue_entry(page, green["id"])  # nor its badge


def test_an_annotator_in_calibration_gets_no_suggestion_through_the_api(
    api_for: Callable[..., TestClient[Any]], trained: dict[str, Any]
) -> None:
    """The calibration rule holds for the API as for the page: none listed, none accepted."""
    project = registered(api_for, trained)
    manager, ids = project["manager"], project["categories"]
    for swatch in project["items"][:3]:
        name = swatch["name"].split("-")[0]
        marked = manager.post(
            f"/api/v1/projects/{project['id']}/items/{swatch['id']}/gold",
            json={"annotation_type": "classification", "payload": {"category_ids": [ids[name]]}},
        )
        assert marked.status_code == 201, marked.text
    manager.patch(
        f"/api/v1/projects/{project['id']}/settings",
        json={"calibration": {"required": True, "items": 2, "pass_mark": 0.5, "attempts": 2}},
    ).raise_for_status()
    annotator = api_for("annotator", project=project["id"])
    served = annotator.post(f"/api/v1/projects/{project['id']}/queue/next").json()["item"]
    manager.post(f"/api/v1/items/{served['id']}/suggest").raise_for_status()
    (offered,) = manager.get(f"/api/v1/items/{served['id']}/suggestions").json()
    assert offered["id"], "the manager, not calibrating, sees it"
    assert annotator.get(f"/api/v1/items/{served['id']}/suggestions").json() == []
    taken = annotator.post(f"/api/v1/suggestions/{offered['id']}/accept", json={})
    assert taken.status_code == 403, taken.text
    assert "calibration" in taken.json()["error"]["message"]
    context = annotator.get(f"/api/v1/projects/{project['id']}/queue/{served['id']}").json()
    assert context["calibrating"] and context["suggestions"] == []
    assert all(not entry["suggested"] for entry in context["queue"]["items"])

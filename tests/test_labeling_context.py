"""The labeling context: one core use case served by the labeling page and by
``GET /api/v1/projects/{id}/queue/{item_id}``. Reading it claims nothing; taking work is a POST
(the page's start form, ``POST .../queue/{item_id}/claim``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlmodel import col, func, select

from scholia.core import standing
from scholia.core.labeling import AHEAD
from scholia.core.models import Assignment
from scholia.core.models.types import utcnow
from scholia.core.runtime import Runtime

from .conftest import label_page, upload_images

Client = TestClient[Any]


@pytest.fixture
def photos(project: dict[str, Any]) -> dict[str, Any]:
    """The rating project with five images in it."""
    return {**project, "items": upload_images(project["manager"], project["id"], 5)}


def held(runtime: Runtime, user_id: int | None = None) -> int:
    """How many slots are claimed (by ``user_id``, or by anyone)."""
    claimed = select(func.count()).select_from(Assignment)
    claimed = claimed.where(col(Assignment.annotator_id).is_not(None))
    if user_id is not None:
        claimed = claimed.where(col(Assignment.annotator_id) == user_id)
    with runtime.reading() as session:
        return int(session.exec(claimed).one())


def test_reading_the_labeling_page_or_its_context_claims_nothing(
    runtime: Runtime, photos: dict[str, Any], client_for: Callable[..., Client]
) -> None:
    annotator = client_for("annotator", project=photos["id"])
    pid, first = photos["id"], photos["items"][0]
    assert held(runtime) == 0
    start = annotator.get(f"/projects/{pid}/label", follow_redirects=False)
    assert held(runtime) == 0, "the page's GET claimed slots"
    assert start.status_code == 200 and "data-take-next" in start.text
    assert annotator.get(f"/projects/{pid}/label/{first}").status_code == 200
    assert held(runtime) == 0, "the item page's GET claimed slots"
    context = annotator.get(f"/api/v1/projects/{pid}/queue/{first}")
    assert context.status_code == 200, context.text
    assert context.json()["queue"]["items"] == []
    assert held(runtime) == 0, "the API's GET claimed slots"
    # Taking work is the explicit POST: the next item and the two held ahead of it.
    taken = annotator.post(f"/projects/{pid}/label", follow_redirects=False)
    assert taken.status_code == 303, taken.text
    assert held(runtime) == 1 + AHEAD


def test_the_api_context_is_what_the_labeling_page_shows(
    photos: dict[str, Any], client_for: Callable[..., Client]
) -> None:
    annotator = client_for("annotator", project=photos["id"])
    pid, ids = photos["id"], photos["items"]
    opened = annotator.post(f"/projects/{pid}/label", follow_redirects=False)
    current = int(opened.headers["location"].rsplit("/", 1)[1])
    rated = annotator.post(
        f"/api/v1/items/{current}/annotations",
        json={"annotation_type": "rating", "payload": {"value": 4}},
    )
    assert rated.status_code == 201, rated.text
    page, state = label_page(annotator, pid, current)
    context = annotator.get(f"/api/v1/projects/{pid}/queue/{current}").json()

    assert context["item"]["id"] == state["item"]["id"] == current
    assert context["item"]["status"] == state["item"]["status"] == "done"
    assert context["item"]["media_type"] == state["item"]["media_type"] == "image/png"
    assert {
        t: {"id": r["id"], "payload": r["payload"]} for t, r in context["revisions"].items()
    } == (state["revisions"])
    assert state["revisions"]["rating"]["id"] == rated.json()["id"]
    assert [
        {k: c[k] for k in ("id", "name", "color", "hotkey")} for c in context["categories"]
    ] == state["categories"]
    assert [{"name": e["annotation_type"], "module": e["module"]} for e in context["editors"]] == (
        state["editors"]
    )
    assert context["editors"][0]["template"] == "rating/editor.html"
    assert context["suggestions"] == state["suggestions"] == []
    assert context["suggestion_visibility"] == {"rating": "none"}
    assert context["calibrating"] is False
    window = context["queue"]
    assert (window["previous"], window["next"], window["next_todo"]) == (
        state["previous"],
        state["next"],
        state["next_todo"],
    )
    listed = [int(i) for i in re.findall(r'data-queue-item="(\d+)"', page)]
    assert [e["id"] for e in window["items"]] == listed and len(listed) == 1 + AHEAD
    assert current in listed and set(listed) <= set(ids)
    badges = re.findall(r'data-queue-item="(\d+)".*?data-queue-status>([^<]+)<', page, re.S)
    assert [(e["id"], e["status"]) for e in window["items"]] == [(int(i), s) for i, s in badges]
    counts = dict(re.findall(r'data-count="queue-(\w+)">(\d+)<', page))
    assert {k: int(v) for k, v in counts.items()} == window["counts"]
    assert window["counts"] == {"all": 3, "todo": 2, "done": 1, "skipped": 0}
    # The item shows in the image plugin's viewer (no media type named by the page), which
    # is handed the next held items to fetch ahead as it sees fit.
    assert state["viewer"]["module"] == "/static/plugins/scholia-image/viewer.js"
    assert '<div class="viewer-root" data-viewer-root="image">' in page
    # Fetched ahead: where a label moves on to (which may sit below: the queue hands items
    # out shuffled), then the held items after this one.
    moves_on = [state["next_todo"]] if state["next_todo"] in listed else []
    after = [i for i in listed if i > current and i not in moves_on]
    assert [p["id"] for p in state["preload"]] == (moves_on + after)[:AHEAD]
    assert all(p["media"].startswith("/media/") for p in state["preload"])
    # The filter narrows the window alike.
    _, todo_state = label_page(annotator, pid, current, "?queue=todo")
    todo = annotator.get(f"/api/v1/projects/{pid}/queue/{current}?queue=todo").json()["queue"]
    assert todo["show"] == todo_state["queue"] == "todo"
    assert (todo["previous"], todo["next"]) == (todo_state["previous"], todo_state["next"])
    assert all(e["status"] == "todo" for e in todo["items"])


def test_taking_an_item_up_claims_it_and_holds_what_was_asked(
    runtime: Runtime, photos: dict[str, Any], client_for: Callable[..., Client]
) -> None:
    annotator, other = (client_for("annotator", project=photos["id"]) for _ in range(2))
    pid, ids = photos["id"], photos["items"]
    me = annotator.user.id  # type: ignore[attr-defined]
    too_many = annotator.post(f"/api/v1/projects/{pid}/queue/{ids[4]}/claim", json={"ahead": 9})
    assert too_many.status_code == 400 and held(runtime) == 0
    taken = annotator.post(f"/api/v1/projects/{pid}/queue/{ids[4]}/claim", json={"ahead": 1})
    assert taken.status_code == 200, taken.text
    assert taken.json()["item"]["id"] == ids[4]
    assert len(taken.json()["queue"]["items"]) == 2 == held(runtime, me)
    again = annotator.post(f"/api/v1/projects/{pid}/queue/{ids[4]}/claim?queue=done", json={})
    assert again.json()["queue"]["show"] == "done" and again.json()["queue"]["items"] == []
    assert held(runtime, me) == 2, "taking it up again holds nothing more"
    refused = other.post(f"/api/v1/projects/{pid}/queue/{ids[4]}/claim", json={})
    assert refused.status_code == 409, "overlap 1: the slot is taken"
    assert "already assigned to other annotators" in refused.json()["error"]["message"]
    assert held(runtime, other.user.id) == 0  # type: ignore[attr-defined]
    elsewhere = annotator.get(f"/api/v1/projects/{pid + 1000}/queue/{ids[4]}")
    assert elsewhere.status_code == 404


def test_the_context_refuses_a_suspended_annotator_and_an_unknown_filter(
    runtime: Runtime, photos: dict[str, Any], client_for: Callable[..., Client]
) -> None:
    annotator = client_for("annotator", project=photos["id"])
    pid, first = photos["id"], photos["items"][0]
    unknown = annotator.get(f"/api/v1/projects/{pid}/queue/{first}?queue=everything")
    assert unknown.status_code == 400
    with runtime.session() as session:
        standing.suspend(
            session,
            pid,
            annotator.user.id,  # type: ignore[attr-defined]
            reason="Too fast.",
            evidence={},
            since=utcnow(),
        )
    refused = annotator.get(f"/api/v1/projects/{pid}/queue/{first}")
    assert refused.status_code == 403 and "Too fast." in refused.json()["error"]["message"]
    page = annotator.get(f"/projects/{pid}/label/{first}")
    assert page.status_code == 403 and "Too fast." in page.text

"""Submitting annotations through the API (validated by the plugin, stored immutably with full
provenance, retried safely, corrected by new revisions) and moving items through the lifecycle.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from scholia.core import identity
from scholia.core.models import Annotation, AuditEvent, GuidelineVersion, User
from scholia.core.runtime import Runtime

from .conftest import png_bytes

Client = TestClient[Any]


class Caller(NamedTuple):
    user: User
    headers: dict[str, str]


@pytest.fixture
def caller(
    runtime: Runtime, make_user: Callable[..., User], project: dict[str, Any]
) -> Callable[..., Caller]:
    """A new member of ``project`` with ``roles`` and the bearer headers to act as them on
    the test's client.

    Each test uses one test client (the project manager's) and switches users per request.
    """

    def make(*roles: str) -> Caller:
        user = make_user(*roles, project=project)
        with runtime.session() as session:
            _, raw = identity.create_api_token(session, user, "tests")
        return Caller(user, {"Authorization": f"Bearer {raw}"})

    return make


@pytest.fixture
def client(project: dict[str, Any]) -> Client:
    client: Client = project["manager"]
    return client


@pytest.fixture
def annotator(caller: Callable[..., Caller]) -> Caller:
    return caller("annotator")


@pytest.fixture
def reviewer(caller: Callable[..., Caller]) -> Caller:
    return caller("reviewer")


@pytest.fixture
def shared_item(client: Client, project: dict[str, Any]) -> dict[str, Any]:
    """An item in a project with overlap 2: two annotators each get a slot on it."""
    settings = client.patch(f"/api/v1/projects/{project['id']}/settings", json={"overlap": 2})
    assert settings.status_code == 200, settings.text
    response = client.post(
        f"/api/v1/projects/{project['id']}/items",
        files=[("files", ("twice.png", png_bytes(colour=(9, 9, 9)), "image/png"))],
    )
    created: dict[str, Any] = response.json()["created"][0]
    return created


def rating(value: int = 4, comment: str = "", **extra: Any) -> dict[str, Any]:
    return {"annotation_type": "rating", "payload": {"value": value, "comment": comment}, **extra}


def submit(client: Client, who: Caller, item: dict[str, Any], body: Any) -> Any:
    return client.post(f"/api/v1/items/{item['id']}/annotations", json=body, headers=who.headers)


def current(client: Client, item: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/items/{item['id']}/annotations")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def status_of(client: Client, item: dict[str, Any]) -> str:
    status: str = client.get(f"/api/v1/items/{item['id']}").json()["status"]
    return status


def stored(runtime: Runtime) -> list[Annotation]:
    with runtime.session() as session:
        return list(session.exec(select(Annotation).order_by(col(Annotation.created_at))))


def transitions(runtime: Runtime, item: dict[str, Any]) -> list[AuditEvent]:
    with runtime.session() as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(
                    col(AuditEvent.entity) == "item",
                    col(AuditEvent.entity_id) == str(item["id"]),
                    col(AuditEvent.action) == "transition",
                )
                .order_by(col(AuditEvent.id))
            )
        )


def move(client: Client, who: Caller, item: dict[str, Any], to: str, reason: str = "") -> Any:
    body: dict[str, Any] = {"to": to}
    if reason:
        body["reason"] = reason
    return client.post(f"/api/v1/items/{item['id']}/transitions", json=body, headers=who.headers)


# --- submitting -----------------------------------------------------------------------------


def test_a_submission_is_201_with_full_provenance(
    client: Client,
    project: dict[str, Any],
    item: dict[str, Any],
    annotator: Caller,
    runtime: Runtime,
) -> None:
    response = submit(
        client,
        annotator,
        item,
        rating(
            4,
            "crisp",
            annotator_confidence="probable",
            reasoning="edges are sharp",
            time_spent_ms=5400,
            client_op_id="op-1",
        ),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    uuid.UUID(body["id"])
    with runtime.session() as session:
        guideline = session.exec(
            select(GuidelineVersion).where(col(GuidelineVersion.project_id) == project["id"])
        ).one()
    assert body["item_id"] == item["id"]
    assert body["annotation_type"] == "rating"
    assert body["payload"] == {"value": 4, "comment": "crisp"}
    assert body["annotator"] == annotator.user.pseudonym
    assert body["annotator"] != annotator.user.username
    assert body["guideline_version_id"] == guideline.id
    assert body["schema_version"] == "1.0.0"
    assert body["labels_hash"] == project["labels_hash"]
    assert body["annotator_confidence"] == "probable"
    assert body["reasoning"] == "edges are sharp"
    assert body["time_spent_ms"] == 5400
    assert body["source"] == "human"
    assert body["client_op_id"] == "op-1"
    assert body["supersedes_id"] is None
    assert body["suggestion_id"] is None and body["model_version"] is None
    assert body["quality_flags"] == []
    assert "annotator_id" not in body


def test_submitting_moves_the_item_from_unlabeled_to_labeled_with_audit_events(
    client: Client, item: dict[str, Any], annotator: Caller, runtime: Runtime
) -> None:
    assert status_of(client, item) == "unlabeled"
    assert submit(client, annotator, item, rating()).status_code == 201
    assert status_of(client, item) == "labeled"
    steps = [(e.from_state, e.to_state, e.actor_id) for e in transitions(runtime, item)]
    assert steps == [
        ("unlabeled", "in_progress", annotator.user.id),
        ("in_progress", "labeled", annotator.user.id),
    ]


def test_the_submission_is_listed_as_the_items_current_annotation(
    client: Client, item: dict[str, Any], annotator: Caller
) -> None:
    created = submit(client, annotator, item, rating(3)).json()
    assert current(client, item) == [created]


def test_annotations_record_the_schema_version_they_were_made_under(
    client: Client, shared_item: dict[str, Any], caller: Callable[..., Caller]
) -> None:
    item = shared_item
    before = submit(client, caller("annotator"), item, rating(5)).json()
    client.post(f"/api/v1/projects/{item['project_id']}/categories", json={"name": "fish"})
    after = submit(client, caller("annotator"), item, rating(4)).json()
    assert (before["schema_version"], after["schema_version"]) == ("1.0.0", "1.1.0")
    assert before["labels_hash"] != after["labels_hash"]
    listed = {a["id"]: a for a in current(client, item)}
    assert listed[before["id"]]["schema_version"] == "1.0.0"


def test_each_annotators_work_is_listed_under_their_own_pseudonym(
    client: Client, shared_item: dict[str, Any], caller: Callable[..., Caller]
) -> None:
    item = shared_item
    first, second = caller("annotator"), caller("annotator")
    submit(client, first, item, rating(2, "soft"))
    submit(client, second, item, rating(5))
    listed = current(client, item)
    assert [(a["annotator"], a["payload"]["value"]) for a in listed] == [
        (first.user.pseudonym, 2),
        (second.user.pseudonym, 5),
    ]


def test_with_overlap_one_a_second_annotator_is_refused_and_nothing_is_lost(
    client: Client, item: dict[str, Any], caller: Callable[..., Caller], runtime: Runtime
) -> None:
    first = submit(client, caller("annotator"), item, rating(4))
    second = submit(client, caller("annotator"), item, rating(2, "blurry"))
    assert (first.status_code, second.status_code) == (201, 409)
    assert "all its slots are taken" in second.json()["error"]["message"]
    assert [a.payload["value"] for a in stored(runtime)] == [4]


# --- refused submissions lose nothing -------------------------------------------------------


def test_a_value_out_of_range_is_422_at_payload_value_and_nothing_is_stored(
    client: Client, item: dict[str, Any], annotator: Caller, runtime: Runtime
) -> None:
    response = submit(client, annotator, item, rating(9))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["path"] == "$.payload.value"
    assert "<= 5" in error["message"]
    assert stored(runtime) == []
    assert status_of(client, item) == "unlabeled"
    assert transitions(runtime, item) == []


def test_a_one_star_rating_without_a_comment_gets_the_plugins_message(
    client: Client, item: dict[str, Any], annotator: Caller, runtime: Runtime
) -> None:
    response = submit(client, annotator, item, rating(1, "   "))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["message"] == "A rating of 1 needs a comment saying what is wrong"
    assert error["path"].startswith("$.payload")
    assert stored(runtime) == []
    assert status_of(client, item) == "unlabeled"


def test_an_unknown_payload_field_is_422_naming_the_field(
    client: Client, item: dict[str, Any], annotator: Caller, runtime: Runtime
) -> None:
    body = {"annotation_type": "rating", "payload": {"value": 3, "mood": "happy"}}
    response = submit(client, annotator, item, body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["path"] == "$.payload"
    assert "unknown field `mood`" in error["message"]
    assert stored(runtime) == []


def test_an_annotation_type_the_project_does_not_use_is_422_naming_the_enabled_ones(
    client: Client, item: dict[str, Any], annotator: Caller, runtime: Runtime
) -> None:
    response = submit(
        client, annotator, item, {"annotation_type": "polygon", "payload": {"value": 3}}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["path"] == "$.annotation_type"
    assert "'polygon'" in error["message"]
    assert "enabled: rating" in error["message"]
    assert stored(runtime) == []


def test_an_unknown_confidence_is_422_listing_the_choices(
    client: Client, item: dict[str, Any], annotator: Caller, runtime: Runtime
) -> None:
    response = submit(client, annotator, item, rating(annotator_confidence="sure"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["path"] == "$.annotator_confidence"
    assert "certain" in error["message"] and "uncertain" in error["message"]
    assert stored(runtime) == []


def test_a_negative_time_spent_is_422(
    client: Client, item: dict[str, Any], annotator: Caller, runtime: Runtime
) -> None:
    response = submit(client, annotator, item, rating(time_spent_ms=-1))
    assert response.status_code == 422
    assert response.json()["error"]["path"] == "$.time_spent_ms"
    assert stored(runtime) == []


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"annotation_type": "rating", "payload": {"value": 3', "ends too early"),
        (b"{annotation_type: rating}", "object keys must be strings"),
        (b'{"annotation_type": "rating"}}', "trailing characters"),
    ],
    ids=["truncated", "unquoted-keys", "trailing"],
)
def test_malformed_json_is_400_bad_request_saying_what_is_wrong(
    client: Client,
    item: dict[str, Any],
    annotator: Caller,
    runtime: Runtime,
    body: bytes,
    says: str,
) -> None:
    response = client.post(
        f"/api/v1/items/{item['id']}/annotations",
        content=body,
        headers={**annotator.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert "not valid JSON" in error["message"]
    assert says in error["message"]
    assert stored(runtime) == []


def test_an_empty_body_is_400_asking_for_a_json_object(
    client: Client, item: dict[str, Any], annotator: Caller
) -> None:
    response = client.post(
        f"/api/v1/items/{item['id']}/annotations",
        content=b"",
        headers={**annotator.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert "no body" in error["message"] and "JSON object" in error["message"]


@pytest.mark.parametrize("missing", ["annotation_type", "payload"])
def test_a_missing_field_is_400_with_its_path(
    client: Client, item: dict[str, Any], annotator: Caller, missing: str
) -> None:
    body = rating()
    del body[missing]
    response = submit(client, annotator, item, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert error["path"] == f"$.{missing}"
    assert missing in error["message"]


def test_a_field_of_the_wrong_type_is_400_with_its_path(
    client: Client, item: dict[str, Any], annotator: Caller
) -> None:
    response = submit(client, annotator, item, rating(time_spent_ms="slow"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["path"] == "$.time_spent_ms"
    assert "int" in error["message"]


def test_submitting_on_an_unknown_item_is_404(
    client: Client, item: dict[str, Any], annotator: Caller
) -> None:
    response = submit(client, annotator, {"id": 999}, rating())
    assert response.status_code == 404
    assert "999" in response.json()["error"]["message"]


# --- retries and corrections ----------------------------------------------------------------


def test_replaying_a_client_op_id_returns_200_and_the_same_annotation(
    client: Client, item: dict[str, Any], annotator: Caller, runtime: Runtime
) -> None:
    first = submit(client, annotator, item, rating(4, client_op_id="retry-me"))
    assert first.status_code == 201
    again = submit(client, annotator, item, rating(4, client_op_id="retry-me"))
    assert again.status_code == 200
    assert again.json() == first.json()
    assert len(stored(runtime)) == 1


def test_the_same_client_op_id_from_another_annotator_is_a_separate_annotation(
    client: Client, shared_item: dict[str, Any], caller: Callable[..., Caller], runtime: Runtime
) -> None:
    item = shared_item
    first = submit(client, caller("annotator"), item, rating(4, client_op_id="op"))
    second = submit(client, caller("annotator"), item, rating(2, "blurry", client_op_id="op"))
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
    assert len(stored(runtime)) == 2


def test_a_correction_is_a_new_revision_and_the_old_one_is_kept_unchanged(
    client: Client, item: dict[str, Any], annotator: Caller, runtime: Runtime
) -> None:
    original = submit(client, annotator, item, rating(2, "noisy")).json()
    response = submit(client, annotator, item, rating(3, supersedes_id=original["id"]))
    assert response.status_code == 201, response.text
    correction = response.json()
    assert correction["id"] != original["id"]
    assert correction["supersedes_id"] == original["id"]
    assert current(client, item) == [correction]
    kept = {str(a.id): a for a in stored(runtime)}
    assert set(kept) == {original["id"], correction["id"]}
    assert kept[original["id"]].payload == {"value": 2, "comment": "noisy"}
    assert status_of(client, item) == "labeled"


def test_correcting_a_revision_that_was_already_corrected_is_409_and_loses_nothing(
    client: Client, item: dict[str, Any], caller: Callable[..., Caller], runtime: Runtime
) -> None:
    annotator = caller("annotator")
    original = submit(client, annotator, item, rating(2, "noisy")).json()
    first_fix = submit(client, annotator, item, rating(3, supersedes_id=original["id"])).json()
    response = submit(client, annotator, item, rating(5, supersedes_id=original["id"]))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert original["id"] in error["message"]
    assert "already corrected" in error["message"]
    assert first_fix["id"] in error["message"]
    assert "reload" in error["message"]
    assert current(client, item) == [first_fix]
    assert {str(a.id) for a in stored(runtime)} == {original["id"], first_fix["id"]}


def test_submitting_again_without_supersedes_id_is_409_telling_you_to_send_it(
    client: Client, item: dict[str, Any], annotator: Caller, runtime: Runtime
) -> None:
    earlier = submit(client, annotator, item, rating(4, "fine")).json()
    response = submit(client, annotator, item, rating(2, "changed my mind"))
    assert response.status_code == 409
    message = response.json()["error"]["message"]
    assert "supersedes_id" in message
    assert earlier["id"] in message
    assert current(client, item) == [earlier]
    assert len(stored(runtime)) == 1


def test_superseding_an_annotation_of_another_item_is_422_at_supersedes_id(
    client: Client, project: dict[str, Any], item: dict[str, Any], annotator: Caller
) -> None:
    from .conftest import png_bytes

    other = client.post(
        f"/api/v1/projects/{project['id']}/items",
        files=[("files", ("blue.png", png_bytes(colour=(0, 0, 255)), "image/png"))],
    ).json()["created"][0]
    theirs = submit(client, annotator, other, rating(4)).json()
    response = submit(client, annotator, item, rating(4, supersedes_id=theirs["id"]))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["path"] == "$.supersedes_id"
    assert theirs["id"] in error["message"]


def test_only_the_author_corrects_an_annotation_and_nothing_is_stored_otherwise(
    client: Client, shared_item: dict[str, Any], caller: Callable[..., Caller], runtime: Runtime
) -> None:
    item = shared_item
    alice, bob = caller("annotator"), caller("annotator")
    bobs = submit(client, bob, item, rating(5, "sharp")).json()
    alices = submit(client, alice, item, rating(2, "blurry")).json()
    # Alice read Bob's annotation id (say, from a download) and "corrects" it.
    response = submit(client, alice, item, rating(1, "hijacked", supersedes_id=bobs["id"]))
    assert response.status_code == 403
    assert "only its author" in response.json()["error"]["message"]
    assert {a["id"] for a in current(client, item)} == {bobs["id"], alices["id"]}
    assert {str(a.id) for a in stored(runtime)} == {bobs["id"], alices["id"]}
    # Withdrawing it is refused too.
    withdrawn = client.post(
        f"/api/v1/annotations/{bobs['id']}/withdraw", json={}, headers=alice.headers
    )
    assert withdrawn.status_code == 403
    assert len(stored(runtime)) == 2


def test_the_database_refuses_to_change_or_delete_a_stored_annotation(
    client: Client, item: dict[str, Any], annotator: Caller, runtime: Runtime
) -> None:
    created = submit(client, annotator, item, rating(4)).json()
    row_id = uuid.UUID(created["id"])
    stored_id = row_id.hex if runtime.engine.dialect.name == "sqlite" else str(row_id)
    for statement in (
        "UPDATE annotation SET reasoning = 'edited' WHERE id = :id",
        "DELETE FROM annotation WHERE id = :id",
    ):
        with (
            pytest.raises(DBAPIError, match="refused: the table is append-only"),
            runtime.engine.begin() as connection,
        ):
            connection.execute(text(statement), {"id": stored_id})
    assert current(client, item) == [created]


def test_annotating_without_credentials_is_401_saying_how_to_sign_in(
    app: Any, item: dict[str, Any], runtime: Runtime
) -> None:
    with TestClient(app) as anonymous:
        response = anonymous.post(f"/api/v1/items/{item['id']}/annotations", json=rating())
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "not_signed_in"
    assert "sign in" in error["message"] and "Bearer" in error["message"]
    assert stored(runtime) == []


# --- the lifecycle through the API ----------------------------------------------------------


def test_a_reviewer_approves_a_labeled_item_and_an_audit_event_says_who_and_why(
    client: Client,
    item: dict[str, Any],
    annotator: Caller,
    reviewer: Caller,
    runtime: Runtime,
) -> None:
    submit(client, annotator, item, rating(4))
    response = move(client, reviewer, item, "approved", reason="looks right")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["item_id"], body["from_state"], body["to_state"]) == (
        item["id"],
        "labeled",
        "approved",
    )
    assert status_of(client, item) == "approved"
    last = transitions(runtime, item)[-1]
    assert (last.actor_id, last.from_state, last.to_state, last.reason) == (
        reviewer.user.id,
        "labeled",
        "approved",
        "looks right",
    )


def test_an_illegal_transition_is_409_naming_current_requested_and_allowed(
    client: Client, item: dict[str, Any], annotator: Caller, reviewer: Caller, runtime: Runtime
) -> None:
    submit(client, annotator, item, rating(4))
    move(client, reviewer, item, "approved")
    events_before = len(transitions(runtime, item))
    response = move(client, reviewer, item, "labeled")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "illegal_transition"
    assert error["current"] == "approved"
    assert error["requested"] == "labeled"
    assert error["allowed"] == ["in_progress", "needs_review"]
    assert "'approved'" in error["message"] and "in_progress, needs_review" in error["message"]
    assert status_of(client, item) == "approved"
    assert len(transitions(runtime, item)) == events_before


def test_an_unknown_state_is_409_listing_the_allowed_states(
    client: Client, item: dict[str, Any], reviewer: Caller
) -> None:
    response = move(client, reviewer, item, "done")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["current"] == "unlabeled"
    assert error["requested"] == "done"
    assert error["allowed"] == ["in_progress"]
    assert status_of(client, item) == "unlabeled"


def test_an_approved_item_can_be_reopened(
    client: Client, item: dict[str, Any], annotator: Caller, reviewer: Caller
) -> None:
    submit(client, annotator, item, rating(4))
    move(client, reviewer, item, "approved")
    response = move(client, reviewer, item, "in_progress", reason="guidelines changed")
    assert response.status_code == 200
    assert status_of(client, item) == "in_progress"


def test_an_annotator_cannot_move_items_through_review(
    client: Client, item: dict[str, Any], annotator: Caller, runtime: Runtime
) -> None:
    submit(client, annotator, item, rating(4))
    events_before = len(transitions(runtime, item))
    response = move(client, annotator, item, "approved")
    assert response.status_code == 403
    assert "reviewer" in response.json()["error"]["message"]
    assert status_of(client, item) == "labeled"
    assert len(transitions(runtime, item)) == events_before


def test_transitioning_an_unknown_item_is_404(
    client: Client, item: dict[str, Any], reviewer: Caller
) -> None:
    response = move(client, reviewer, {"id": 8080}, "approved")
    assert response.status_code == 404
    assert "8080" in response.json()["error"]["message"]

"""Claims are leases: a claim not submitted within the project's ``claims.lease_minutes``
(30 by default) goes back to the pool, where another annotator may take it; opening the item
renews it. The first annotator's late submit is taken while the slot is still theirs and
refused, saying why, once someone else holds it. The labeling page holds no more than it
shows and preloads.

Time is moved by setting a claim's ``claimed_at`` in the past through the model: no sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlmodel import col, select

from scholia.core import annotations, queue
from scholia.core.errors import Conflict
from scholia.core.labeling import AHEAD
from scholia.core.models import Assignment, Item, Project, User
from scholia.core.models.types import utcnow
from scholia.core.project_settings import ProjectSettings
from scholia.core.revisions import current_annotations
from scholia.core.runtime import Runtime

from .conftest import seed, take_up
from .test_project_settings import _form
from .test_queue import add_items

Client = TestClient[Any]


def claim(runtime: Runtime, project_id: int, user: User) -> int | None:
    assert user.id is not None
    with runtime.session() as session:
        item = queue.claim_next(session, project_id, user.id)
        return item.id if item is not None else None


def age_claims(runtime: Runtime, user: User, minutes: float) -> None:
    """Move the user's unsubmitted claims ``minutes`` into the past."""
    with runtime.session() as session:
        for slot in session.exec(
            select(Assignment).where(
                col(Assignment.annotator_id) == user.id, col(Assignment.submitted_at).is_(None)
            )
        ):
            slot.claimed_at = utcnow() - timedelta(minutes=minutes)
            session.add(slot)


def one_item(runtime: Runtime, **settings: Any) -> tuple[Project, int]:
    _, project, item = seed(runtime, settings=settings or None)
    assert project.id is not None and item.id is not None
    return project, item.id


def rate(runtime: Runtime, item_id: int, user: User) -> None:
    assert user.id is not None
    with runtime.session() as session:
        annotations.submit(
            session,
            runtime.plugins,
            item_id=item_id,
            annotator_id=user.id,
            annotation_type="rating",
            payload={"value": 3},
        )


def test_a_claim_older_than_the_lease_goes_to_the_next_annotator(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    project, item_id = one_item(runtime)
    assert project.id is not None
    ann, bob = make_user(), make_user()
    assert claim(runtime, project.id, ann) == item_id
    age_claims(runtime, ann, 29)
    assert claim(runtime, project.id, bob) is None  # still ann's: 29 of 30 minutes
    age_claims(runtime, ann, 31)
    assert claim(runtime, project.id, bob) == item_id
    with runtime.reading() as session:
        slots = session.exec(select(Assignment).where(col(Assignment.item_id) == item_id)).all()
    assert [s.annotator_id for s in slots] == [bob.id]  # the slot moved; no slot was added


def test_the_first_annotators_late_submit_is_refused_once_someone_else_holds_it(
    runtime: Runtime, make_user: Callable[..., User], api_for: Callable[..., Client]
) -> None:
    project, item_id = one_item(runtime)
    assert project.id is not None
    ann = api_for("annotator", project=project.id)
    assert ann.post(f"/api/v1/projects/{project.id}/queue/next").json()["item"]["id"] == item_id
    age_claims(runtime, ann.user, 31)  # type: ignore[attr-defined]
    bob = make_user()
    assert claim(runtime, project.id, bob) == item_id
    late = ann.post(
        f"/api/v1/items/{item_id}/annotations",
        json={"annotation_type": "rating", "payload": {"value": 2}},
    )
    assert late.status_code == 409, late.text
    message = late.json()["error"]["message"]
    assert "30 minutes" in message and "Nothing was saved" in message
    rate(runtime, item_id, bob)  # the new holder's label is the item's
    with runtime.reading() as session:
        assert session.get(Item, item_id).status == "labeled"  # type: ignore[union-attr]
        found = current_annotations(session, item_id)
    assert [a.annotator_id for a in found] == [bob.id]


def test_a_late_submit_is_taken_while_nobody_else_took_the_slot(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    project, item_id = one_item(runtime)
    assert project.id is not None
    ann = make_user()
    assert claim(runtime, project.id, ann) == item_id
    age_claims(runtime, ann, 120)
    rate(runtime, item_id, ann)
    with runtime.reading() as session:
        assert session.get(Item, item_id).status == "labeled"  # type: ignore[union-attr]


def test_opening_the_item_renews_the_lease(
    runtime: Runtime, client_for: Callable[..., Client], make_user: Callable[..., User]
) -> None:
    project, item_id = one_item(runtime)
    assert project.id is not None
    ann = client_for("annotator", project=project.id)
    opened = ann.post(f"/projects/{project.id}/label", follow_redirects=False)
    assert opened.headers["location"] == f"/projects/{project.id}/label/{item_id}"
    age_claims(runtime, ann.user, 31)  # type: ignore[attr-defined]
    assert ann.get(f"/projects/{project.id}/label/{item_id}").status_code == 200
    with runtime.reading() as session:
        slot = session.exec(select(Assignment).where(col(Assignment.item_id) == item_id)).one()
    assert slot.claimed_at < utcnow() - timedelta(minutes=30), "the GET renews nothing"
    # The opened page takes the item up (static/label.js): a POST, which renews the lease.
    taken = take_up(ann, project.id, item_id)
    assert taken.status_code == 200, taken.text
    assert claim(runtime, project.id, make_user()) is None


def test_taking_the_held_item_up_again_from_the_queue_renews_the_lease(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    project, item_id = one_item(runtime)
    assert project.id is not None
    ann, bob = make_user(), make_user()
    assert claim(runtime, project.id, ann) == item_id
    age_claims(runtime, ann, 31)
    assert claim(runtime, project.id, ann) == item_id  # a reload of the labeling page
    assert claim(runtime, project.id, bob) is None


def test_the_lease_is_the_projects_setting(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    project, item_id = one_item(runtime, claims={"lease_minutes": 5})
    assert project.id is not None
    ann, bob = make_user(), make_user()
    assert claim(runtime, project.id, ann) == item_id
    age_claims(runtime, ann, 6)
    assert claim(runtime, project.id, bob) == item_id


def test_a_lapsed_claim_is_open_to_a_submit_by_url_too(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    """Labeling an item by its URL takes a lapsed slot like the queue does."""
    project, item_id = one_item(runtime)
    assert project.id is not None
    ann, bob = make_user(), make_user()
    assert claim(runtime, project.id, ann) == item_id
    refused = pytest.raises(Conflict, match="already assigned to other annotators")
    with refused:
        rate(runtime, item_id, bob)
    age_claims(runtime, ann, 31)
    rate(runtime, item_id, bob)


def test_opening_the_labeling_page_holds_only_what_it_shows_and_preloads(
    runtime: Runtime, client_for: Callable[..., Client]
) -> None:
    owner, project, _ = seed(runtime)
    add_items(runtime, project, owner, 9)
    ann = client_for("annotator", project=project.id)
    assert ann.post(f"/projects/{project.id}/label").status_code == 200
    with runtime.reading() as session:
        held = session.exec(
            select(Assignment).where(col(Assignment.annotator_id) == ann.user.id)  # type: ignore[attr-defined]
        ).all()
    assert len(held) == 1 + AHEAD == 3


def test_the_lease_is_set_through_the_api_and_the_page_and_checked(
    project: dict[str, Any], client_for: Callable[..., Client]
) -> None:
    manager = project["manager"]
    url = f"/api/v1/projects/{project['id']}/settings"
    assert manager.get(f"/api/v1/projects/{project['id']}").json()["settings"].get(
        "claims", {"lease_minutes": 30}
    ) == {"lease_minutes": 30}
    for bad in (0, 10_081, "soon"):
        refused = manager.patch(url, json={"claims": {"lease_minutes": bad}})
        assert refused.status_code == 422, refused.text
        assert "lease_minutes" in refused.text
    changed = manager.patch(url, json={"claims": {"lease_minutes": 45}})
    assert changed.status_code == 200 and changed.json()["claims"] == {"lease_minutes": 45}

    page_manager = client_for("manager", project=project["id"])
    page = f"/projects/{project['id']}/settings"
    assert 'name="claims.lease_minutes" value="45"' in page_manager.get(page).text
    refused = page_manager.post(page, data=_form(**{"claims.lease_minutes": "0"}))
    assert refused.status_code == 422
    assert 'name="claims.lease_minutes" value="0"' in refused.text
    saved = page_manager.post(page, data=_form(**{"claims.lease_minutes": "90"}))
    assert saved.status_code == 200 and "Quality settings saved." in saved.text
    with_lease = manager.get(f"/api/v1/projects/{project['id']}").json()["settings"]["claims"]
    assert with_lease == {"lease_minutes": 90}


def test_projects_settings_default_to_a_thirty_minute_lease() -> None:
    assert ProjectSettings().claims.lease_minutes == 30

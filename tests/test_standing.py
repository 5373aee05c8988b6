"""Suspensions: an annotator who misses gold items is suspended, with the reason in the audit
log, and their recent work goes back to the queue for someone else; a manager can lift it."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from litestar.testing import TestClient
from sqlmodel import col, select

from scholia.core import gold, items, projects, queue, standing
from scholia.core.models import Assignment, AuditEvent, Item, Project, Suspension, User
from scholia.core.runtime import Runtime

from .conftest import add_member, png_bytes, seed

RIGHT, WRONG = 1, 2
"""Every gold answer here is category 1; the careless annotator always answers 2."""


def gold_project(
    runtime: Runtime, production: int, gold_items: int, **settings: Any
) -> tuple[User, Project, list[int], list[int]]:
    """A classification project (cat, dog, bird) with ``production`` items and ``gold_items``
    gold items whose answer is ``cat``, with ``settings`` applied."""
    owner, project, first = seed(
        runtime, annotation_types=("classification",), categories=("cat", "dog", "bird")
    )
    assert owner.id is not None and project.id is not None
    ids = [first.id]
    with runtime.session() as session:
        stored = session.get(Project, project.id)
        for n in range(1, production + gold_items):
            ids.append(
                items.ingest(
                    session,
                    runtime.store,
                    runtime.plugins,
                    stored,  # type: ignore[arg-type]
                    name=f"p{n}.png",
                    source=io.BytesIO(png_bytes(colour=(n % 256, n // 256, 99))),
                    actor_id=owner.id,
                ).item.id
            )
        if settings:
            projects.update_settings(
                session, runtime.plugins, project.id, settings, actor_id=owner.id
            )
    golden = ids[production:]
    with runtime.session() as session:
        project = session.get(Project, project.id)  # type: ignore[assignment]
    assert project is not None
    with runtime.session() as session:
        for item_id in golden:
            gold.mark_gold(
                session,
                runtime.plugins,
                project.id,
                item_id,  # type: ignore[arg-type]
                annotation_type="classification",
                payload={"category_ids": [RIGHT]},
                explanation="It is a cat: whiskers.",
                actor_id=owner.id,
            )
    return owner, project, ids[:production], golden  # type: ignore[return-value]


def label_until_refused(
    client: TestClient[Any],
    project_id: int,
    answer: int,
    *,
    limit: int = 200,
    stop: set[int] | None = None,
) -> list[int]:
    """Take items from the queue API and answer each with ``answer`` until it refuses or is
    empty (or after ``limit`` items, or once an item of ``stop`` is answered); the ids
    labeled, in order."""
    labeled: list[int] = []
    for _ in range(limit):
        if stop and labeled and labeled[-1] in stop:
            break
        response = client.post(f"/api/v1/projects/{project_id}/queue/next")
        if response.status_code != 200 or response.json()["item"] is None:
            break
        item_id = response.json()["item"]["id"]
        submitted = client.post(
            f"/api/v1/items/{item_id}/annotations",
            json={"annotation_type": "classification", "payload": {"category_ids": [answer]}},
        )
        assert submitted.status_code == 201, submitted.text
        labeled.append(item_id)
    return labeled


def test_an_annotator_who_misses_gold_items_is_suspended_and_their_work_requeued(
    runtime: Runtime, api_for: Callable[..., TestClient[Any]]
) -> None:
    owner, project, production, golden = gold_project(
        runtime,
        production=40,
        gold_items=6,
        gold_rate=0.0,
        gold={"window": 4, "min_count": 3, "threshold": 0.8},
    )
    careless = api_for("annotator", project=project.id)

    def gold_rate(rate: float) -> None:
        with runtime.session() as session:
            projects.update_settings(
                session,
                runtime.plugins,
                project.id,
                {"gold_rate": rate},
                actor_id=owner.id,  # type: ignore[arg-type]
            )

    # Gold draws are random: the phases make sure there is production work before the window
    # (no gold yet), inside it (after the first gold answer) and that gold then ends it.
    labeled = label_until_refused(careless, project.id, WRONG, limit=3)  # type: ignore[arg-type]
    gold_rate(0.5)
    labeled += label_until_refused(careless, project.id, WRONG, stop=set(golden))  # type: ignore[arg-type]
    gold_rate(0.0)
    labeled += label_until_refused(careless, project.id, WRONG, limit=3)  # type: ignore[arg-type]
    gold_rate(0.5)
    labeled += label_until_refused(careless, project.id, WRONG)  # type: ignore[arg-type]
    answered_gold = [i for i in labeled if i in golden]
    assert len(answered_gold) == 3, "suspended on the third missed gold answer, not before"
    done_production = [i for i in labeled if i in production]
    assert done_production, "the annotator labeled production items between gold ones"

    # The queue API now refuses, saying why.
    refused = careless.post(f"/api/v1/projects/{project.id}/queue/next")
    assert refused.status_code == 403
    message = refused.json()["error"]["message"]
    assert "suspended" in message and "0%" in message and "80%" in message
    assert "gold" not in message.lower()

    me = careless.user.id  # type: ignore[attr-defined]
    with runtime.session() as session:
        suspension = session.exec(select(Suspension)).one()
        assert suspension.annotator_id == me and suspension.lifted_at is None
        assert suspension.evidence["accuracy"] == 0.0 and suspension.evidence["count"] == 3
        assert suspension.evidence["window"] == 4
        low, high = suspension.evidence["wilson_interval"]
        assert low == 0.0 and 0.4 < high < 0.6  # Wilson 95% for 0 of 3
        event = session.exec(select(AuditEvent).where(col(AuditEvent.entity) == "suspension")).one()
        assert event.action == "suspend" and event.reason == suspension.reason
        assert "below the project's threshold of 80%" in (event.reason or "")
        # The work since the first gold answer of the window is back in the queue.
        since = min(labeled.index(i) for i in answered_gold)
        recent = [i for i in labeled[since:] if i in production]
        earlier = [i for i in labeled[:since] if i in production]
        assert sorted(event.data["requeued"]) == sorted(recent)
        for item_id in recent:
            item = session.get(Item, item_id)
            assert item is not None and item.status == "in_progress"
            slots = session.exec(select(Assignment).where(col(Assignment.item_id) == item_id)).all()
            mine = [s for s in slots if s.annotator_id == me]
            assert len(mine) == 1 and mine[0].voided_at is not None
            assert "suspended" in (mine[0].void_reason or "")
            assert [s for s in slots if s.annotator_id is None], "a fresh open slot"
        for item_id in earlier:  # before the window: untouched
            assert session.get(Item, item_id).status == "labeled"  # type: ignore[union-attr]
        # Gold items never moved.
        for item_id in golden:
            assert session.get(Item, item_id).status == "unlabeled"  # type: ignore[union-attr]

    # Another annotator gets those items (they come first: lowest ids among open work).
    other = api_for("annotator", project=project.id)
    with runtime.session() as session:
        projects.update_settings(
            session,
            runtime.plugins,
            project.id,
            {"gold_rate": 0.0},
            actor_id=owner.id,  # type: ignore[arg-type]
        )
    relabeled = label_until_refused(other, project.id, RIGHT)  # type: ignore[arg-type]
    assert set(recent) <= set(relabeled)
    with runtime.session() as session:
        for item_id in recent:
            assert session.get(Item, item_id).status == "labeled"  # type: ignore[union-attr]


def test_a_suspended_annotator_keeps_their_other_projects_and_a_manager_can_lift_it(
    runtime: Runtime, api_for: Callable[..., TestClient[Any]]
) -> None:
    _, project, production, _ = gold_project(
        runtime, production=10, gold_items=3, gold={"window": 3, "min_count": 3}
    )
    _, other_project, _, _ = gold_project(runtime, production=3, gold_items=0)
    annotator = api_for("annotator", project=project.id)
    add_member(runtime, other_project, annotator.user)  # type: ignore[attr-defined]
    manager = api_for("manager", project=project.id)
    me = annotator.user.id  # type: ignore[attr-defined]
    with runtime.session() as session:
        suspension = standing.suspend(
            session,
            project.id,  # type: ignore[arg-type]
            me,
            reason="Test reason.",
            evidence={},
            since=project.created_at,
        )
    refused = annotator.post(f"/api/v1/projects/{project.id}/queue/next")
    assert refused.status_code == 403 and "Test reason." in refused.json()["error"]["message"]
    page = annotator.post(f"/projects/{project.id}/label")
    assert page.status_code == 403 and "Test reason." in page.text
    held = annotator.post(
        f"/api/v1/items/{production[0]}/annotations",
        json={"annotation_type": "classification", "payload": {"category_ids": [1]}},
    )
    assert held.status_code == 403, "no labeling by URL while suspended"
    elsewhere = annotator.post(f"/api/v1/projects/{other_project.id}/queue/next")
    assert elsewhere.status_code == 200 and elsewhere.json()["item"] is not None

    listed = manager.get(f"/api/v1/projects/{project.id}/suspensions").json()
    assert [s["id"] for s in listed] == [suspension.id] and listed[0]["lifted_at"] is None
    assert (
        annotator.post(
            f"/api/v1/projects/{project.id}/suspensions/{suspension.id}/lift"
        ).status_code
        == 403
    )
    lifted = manager.post(f"/api/v1/projects/{project.id}/suspensions/{suspension.id}/lift")
    assert lifted.status_code == 200 and lifted.json()["lifted_at"] is not None
    again = manager.post(f"/api/v1/projects/{project.id}/suspensions/{suspension.id}/lift")
    assert again.status_code == 409
    assert annotator.post(f"/api/v1/projects/{project.id}/queue/next").json()["item"] is not None
    with runtime.session() as session:
        actions = session.exec(
            select(AuditEvent.action).where(col(AuditEvent.entity) == "suspension")
        ).all()
    assert sorted(actions) == ["lift", "suspend"]


def test_requeueing_moves_reviewed_and_adjudicated_items_back_through_the_lifecycle(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    owner, project, production, _ = gold_project(runtime, production=3, gold_items=0)
    annotator = make_user()
    from scholia.core import annotations, lifecycle

    with runtime.session() as session:
        for item_id in production:
            annotations.submit(
                session,
                runtime.plugins,
                item_id=item_id,
                annotator_id=annotator.id,  # type: ignore[arg-type]
                annotation_type="classification",
                payload={"category_ids": [1]},
            )
        lifecycle.transition(session, production[1], "approved", actor_id=owner.id)
        lifecycle.transition(session, production[2], "adjudication", actor_id=owner.id)
    with runtime.session() as session:
        done = standing.requeue(
            session,
            project.id,  # type: ignore[arg-type]
            annotator.id,  # type: ignore[arg-type]
            project.created_at,
            reason="re-annotation",
            actor_id=None,
        )
    assert sorted(done.requeued) == sorted(production) and done.unmoved == []
    with runtime.session() as session:
        assert {session.get(Item, i).status for i in production} == {"in_progress"}  # type: ignore[union-attr]
        moves = session.exec(
            select(AuditEvent.from_state, AuditEvent.to_state).where(
                col(AuditEvent.entity_id) == str(production[2]),
                col(AuditEvent.reason) == "re-annotation",
            )
        ).all()
    assert list(moves) == [("adjudication", "needs_review"), ("needs_review", "in_progress")]
    with runtime.session() as session:
        held = queue.claim_next(session, project.id, annotator.id)  # type: ignore[arg-type]
    assert held is None, "their own voided items are not handed back to them"

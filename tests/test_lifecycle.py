"""The item lifecycle: one table of transitions, checked in one place, each one audited."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from scholia.core import lifecycle
from scholia.core.errors import IllegalTransition
from scholia.core.item_state import TRANSITIONS, ItemState
from scholia.core.models import AuditEvent, Item
from scholia.core.runtime import Runtime

from .conftest import seed


@pytest.fixture
def fresh_item(runtime: Runtime) -> tuple[int, int]:
    """(item id, user id) for an unlabeled item in a new project."""
    user, _, item = seed(runtime)
    assert item.id is not None and user.id is not None
    return item.id, user.id


def test_every_state_has_an_entry_and_every_target_is_a_state() -> None:
    assert set(TRANSITIONS) == set(ItemState)
    for targets in TRANSITIONS.values():
        assert set(targets) <= set(ItemState)


def test_the_designed_path_from_unlabeled_to_approved_and_back(
    runtime: Runtime, fresh_item: tuple[int, int]
) -> None:
    item_id, user_id = fresh_item
    path = [
        "in_progress",
        "labeled",
        "needs_review",
        "approved",
        "in_progress",
        "skipped",
        "needs_review",
        "adjudication",
        "rejected",
        "in_progress",
    ]
    for state in path:
        with runtime.session() as session:
            lifecycle.transition(session, item_id, state, actor_id=user_id, reason=f"to {state}")
    with runtime.session() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.status == "in_progress"
        trail = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.entity) == "item", col(AuditEvent.action) == "transition")
            .order_by(col(AuditEvent.id))
        ).all()
    assert [(e.from_state, e.to_state) for e in trail] == list(
        zip(["unlabeled", *path[:-1]], path, strict=True)
    )
    assert all(e.actor_id == user_id and e.reason == f"to {e.to_state}" for e in trail)


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ([], "approved"),
        (["in_progress"], "approved"),
        (["in_progress", "labeled", "approved"], "labeled"),
        ([], "no_such_state"),
    ],
)
def test_an_illegal_transition_names_current_requested_and_allowed(
    runtime: Runtime, fresh_item: tuple[int, int], start: list[str], target: str
) -> None:
    item_id, user_id = fresh_item
    for state in start:
        with runtime.session() as session:
            lifecycle.transition(session, item_id, state, actor_id=user_id)
    current = start[-1] if start else "unlabeled"
    with pytest.raises(IllegalTransition) as refused, runtime.session() as session:
        lifecycle.transition(session, item_id, target, actor_id=user_id)
    error = refused.value
    assert (error.current, error.requested) == (current, target)
    assert error.allowed == list(TRANSITIONS[ItemState(current)])
    for allowed in error.allowed:
        assert allowed in error.message
    with runtime.session() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.status == current


def test_illegal_transition_through_the_api_is_409_with_allowed_states(
    project: dict[str, Any], item: dict[str, Any]
) -> None:
    response = project["manager"].post(
        f"/api/v1/items/{item['id']}/transitions", json={"to": "approved", "reason": "looks fine"}
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "illegal_transition"
    assert error["current"] == "unlabeled" and error["requested"] == "approved"
    assert error["allowed"] == ["in_progress"]
    assert "can move to: in_progress" in error["message"]


def test_advancing_through_several_steps_audits_each_step_in_order(
    runtime: Runtime, fresh_item: tuple[int, int]
) -> None:
    """``advance`` writes the item once, but the trail still shows every step, who made it
    and why, in the order taken."""
    item_id, user_id = fresh_item
    with runtime.session() as session:
        lifecycle.advance(
            session,
            item_id,
            [
                lifecycle.Step("in_progress", user_id, "submitted"),
                lifecycle.Step("labeled", user_id, "2 of 2 annotators"),
                lifecycle.Step("adjudication", None, "disagreement"),
            ],
        )
    with runtime.session() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.status == "adjudication"
        trail = session.exec(
            select(AuditEvent)
            .where(
                col(AuditEvent.entity_id) == str(item_id),
                col(AuditEvent.entity) == "item",
                col(AuditEvent.action) == "transition",
            )
            .order_by(col(AuditEvent.id))
        ).all()
    assert [(e.from_state, e.to_state, e.actor_id, e.reason) for e in trail] == [
        ("unlabeled", "in_progress", user_id, "submitted"),
        ("in_progress", "labeled", user_id, "2 of 2 annotators"),
        ("labeled", "adjudication", None, "disagreement"),
    ]


def test_an_illegal_step_anywhere_refuses_the_whole_advance(
    runtime: Runtime, fresh_item: tuple[int, int]
) -> None:
    """A later step that the lifecycle does not allow refuses them all: nothing is written,
    not even the legal steps before it."""
    item_id, user_id = fresh_item
    with pytest.raises(IllegalTransition) as refused, runtime.session() as session:
        lifecycle.advance(
            session,
            item_id,
            [lifecycle.Step("in_progress", user_id), lifecycle.Step("approved", user_id)],
        )
    assert refused.value.current == "in_progress"
    with runtime.session() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.status == "unlabeled"
        written = session.exec(
            select(AuditEvent).where(
                col(AuditEvent.entity_id) == str(item_id), col(AuditEvent.action) == "transition"
            )
        ).all()
    assert written == []

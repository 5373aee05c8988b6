"""Acting on the signal rules: drifting labels go to adjudication, a high reopen rate sends an
annotator's unreviewed items back to review, each with the finding as the reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlmodel import col, select

from scholia.core.models import AuditEvent, Item, Project, User
from scholia.core.quality import escalation
from scholia.core.runtime import Runtime

from .test_signals import CAT, DOG, W46, Data, js


@pytest.fixture
def data(runtime: Runtime, make_user: Callable[..., User]) -> Data:
    return Data(runtime, make_user)


def _states(data: Data, ids: list[int]) -> set[str]:
    with data.runtime.reading() as session:
        return {i.status for i in session.exec(select(Item).where(col(Item.id).in_(ids)))}


def _escalate(data: Data) -> escalation.Escalation:
    with data.runtime.session() as session:
        project = session.get(Project, data.project_id)
        assert project is not None
        return escalation.escalate(
            session,
            data.runtime.plugins,
            project,
            actor_id=data.reviewer.id,  # type: ignore[arg-type]
        )


def test_labels_from_a_drifting_week_go_to_adjudication_with_the_finding(data: Data) -> None:
    a, b = data.annotator(), data.annotator()
    data.labels_of(a, [CAT] * 100 + [DOG] * 100)
    data.labels_of(b, [CAT] * 100 + [DOG] * 100)
    drifting = []
    for _ in range(200):  # all cats: drifts from the 2:1 baseline
        drifting.append(data.item())
        data.label(drifting[-1], b, CAT, W46)
    with data.runtime.reading() as session:
        ids = [i.id for i in session.exec(select(Item).where(Item.status == "labeled"))]
    done = _escalate(data)
    assert sorted(done.to_adjudication) == drifting and done.to_review == []
    assert _states(data, [i for i in ids if i not in drifting]) == {"labeled"}  # type: ignore[misc]
    divergence = js([1.0, 0.0], [2 / 3, 1 / 3])  # b's all-cat week against 400 cats : 200 dogs
    assert [(week, v) for _, week, v in done.drifting] == [("2026-W46", pytest.approx(divergence))]
    with data.runtime.reading() as session:
        reason = session.exec(
            select(AuditEvent.reason).where(AuditEvent.to_state == "adjudication")
        ).first()
    assert reason is not None and reason.startswith(f"label drift {divergence:.3f} above 0.05")
    assert _escalate(data).to_adjudication == []  # once moved, they are the adjudicator's


def test_a_reopen_rate_above_the_ceiling_sends_the_annotators_new_items_to_review(
    data: Data,
) -> None:
    a, b = data.annotator(), data.annotator()
    reviewed = [data.item() for _ in range(10)]
    for item in reviewed:
        data.label(item, a, CAT)
    data.review(reviewed[:8], "approved")
    data.review(reviewed[8:], "rejected")  # a: 20% not accepted at first review
    fresh_a, fresh_b = data.item(), data.item()
    data.label(fresh_a, a, CAT)
    data.label(fresh_b, b, DOG)
    done = _escalate(data)
    assert done.to_review == [fresh_a] and done.to_adjudication == []
    assert _states(data, [fresh_a]) == {"needs_review"} and _states(data, [fresh_b]) == {"labeled"}


def test_only_managers_act_on_the_signal_rules(
    data: Data, api_for: Callable[..., TestClient[Any]]
) -> None:
    url = f"/api/v1/projects/{data.project_id}/quality/escalate"
    assert api_for("reviewer", project=data.project_id).post(url).status_code == 403
    answer = api_for("manager", project=data.project_id).post(url)
    assert answer.status_code == 200
    assert answer.json() == {
        "to_adjudication": [],
        "to_review": [],
        "drifting": [],
        "reopening": [],
    }

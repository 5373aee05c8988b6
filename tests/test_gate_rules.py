"""The default export gate: four rules, each with its value, threshold and evidence."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from scholia.core import adjudication, datasets, review
from scholia.core.errors import Conflict
from scholia.core.models import GoldAnswer, GoldResult, Item, User
from scholia.core.runtime import Runtime

from .conftest import export, folder_of
from .test_consensus import _label, _project


def _rules(version: Any) -> dict[str, dict[str, Any]]:
    return {r["rule"]: r for r in version.gate_report["rules"]}


def test_the_gate_runs_the_four_default_rules_and_says_when_there_is_nothing_to_judge(
    runtime: Runtime, labeled: dict[str, Any]
) -> None:
    version = export(runtime, labeled["project"].id)
    rules = _rules(version)
    assert set(rules) == {"gold_agreement", "reopen_rate", "gold_coverage", "adjudication_backlog"}
    assert version.status == "released"
    assert rules["gold_coverage"]["value"] is None
    assert rules["gold_coverage"]["message"].startswith("not enough data: 0 gold items")
    assert rules["reopen_rate"]["value"] == 0.0  # 4 reviewed, all approved on first review
    assert rules["reopen_rate"]["evidence"] == {"reviewed_items": 4, "not_approved_first": 0}


def test_an_open_adjudication_holds_the_export_and_the_report_names_the_rule(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    reviewer = make_user("reviewer")
    _, project, ids = _project(runtime, overlap=2)
    for item_id, (a, b) in zip(ids, [(1, 1), (2, 2), (1, 3)], strict=True):
        _label(runtime, make_user("annotator"), item_id, a)
        _label(runtime, make_user("annotator"), item_id, b)
    with runtime.session() as session:
        review.decide(session, item_ids=ids[:2], decision="approved", reviewer_id=reviewer.id)  # type: ignore[arg-type]
    version = export(runtime, project.id)
    assert version.status == "held"
    failing = [r for r in version.gate_report["rules"] if not r["passed"]]
    assert [(r["rule"], r["value"], r["evidence"]) for r in failing] == [
        ("adjudication_backlog", 1.0, {"open": 1})
    ]
    manifest = json.loads((folder_of(runtime, version) / "manifest.json").read_text())
    assert manifest["gate"]["passed"] is False


def test_a_reopen_rate_above_its_ceiling_holds_the_export(
    runtime: Runtime, labeled: dict[str, Any]
) -> None:
    # Items 5 and 6 are rejected on first review, sent back, and approved the second time.
    for decision in ("rejected", "needs_review", "approved"):
        with runtime.session() as session:
            review.decide(
                session,
                item_ids=labeled["ids"][4:],
                decision=decision,
                reviewer_id=labeled["reviewer"].id,
                comment=f"{decision} on review",
            )
    version = export(runtime, labeled["project"].id)
    rule = _rules(version)["reopen_rate"]
    assert version.status == "held"
    assert rule["value"] == pytest.approx(2 / 6) and rule["passed"] is False
    assert rule["message"] == "2 of 6 reviewed items were not approved on first review"


def test_gold_rules_judge_the_answers_of_the_annotators_whose_work_is_exported(
    runtime: Runtime, labeled: dict[str, Any]
) -> None:
    owner, annotator = labeled["owner"], labeled["annotator"]
    gold_id = labeled["ids"][3]  # approved, so the selection reaches it
    with runtime.session() as session:
        item = session.get(Item, gold_id)
        assert item is not None
        item.is_gold = True
        session.add(item)
        session.add(
            GoldAnswer(
                item_id=gold_id,
                annotation_type="classification",
                project_id=labeled["project"].id,
                payload={"category_ids": [3]},
                created_by=owner.id,
            )
        )
        session.add(
            GoldResult(
                project_id=labeled["project"].id,
                item_id=gold_id,
                annotator_id=annotator.id,
                annotation_id=labeled["revisions"][gold_id].id,
                agreement=0.0,
                correct=False,
            )
        )
    version = export(runtime, labeled["project"].id)
    rules = _rules(version)
    assert version.status == "held"
    assert (rules["gold_agreement"]["value"], rules["gold_agreement"]["passed"]) == (0.0, False)
    assert rules["gold_coverage"]["evidence"] == {"gold_items": 1, "answered": 1}
    assert rules["gold_coverage"]["passed"] is True
    assert version.gate_report["rules"] == sorted(
        version.gate_report["rules"], key=lambda r: r["rule"]
    )
    # The gold item itself is kept out of the dataset.
    content = json.loads((folder_of(runtime, version) / "manifest.json").read_text())["content"]
    assert content["counts"]["excluded"] == {"gold item (kept for quality control)": 1}


def test_a_held_export_is_released_once_the_finding_is_cleared(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, project, ids = _project(runtime, overlap=2)
    for item_id, (a, b) in ((ids[0], (1, 1)), (ids[1], (1, 2))):
        _label(runtime, make_user("annotator"), item_id, a)
        _label(runtime, make_user("annotator"), item_id, b)  # ids[1] → adjudication
    version = export(runtime, project.id, statuses=["labeled"])
    assert version.status == "held"
    assert datasets.recheck(runtime, version.id, actor_id=1).status == "held"  # type: ignore[arg-type]
    judge = make_user("adjudicator")
    with runtime.session() as session:
        case = adjudication.case_of(session, runtime.plugins, ids[1])
        adjudication.decide(
            session,
            runtime.plugins,
            ids[1],
            adjudicator_id=judge.id,  # type: ignore[arg-type]
            reasoning="Dog: the tail decides it.",
            annotation_id=case.versions[1].opinions[0].annotation_id,
        )
    released = datasets.recheck(runtime, version.id, actor_id=1)  # type: ignore[arg-type]
    assert released.status == "released" and released.content_hash == version.content_hash
    manifest = json.loads((folder_of(runtime, version) / "manifest.json").read_text())
    assert manifest["gate"]["passed"] is True and manifest["content_hash"] == version.content_hash
    with pytest.raises(Conflict, match="only a held version"):
        datasets.recheck(runtime, version.id, actor_id=1)  # type: ignore[arg-type]

"""Adjudication: the evidence on a disputed item, and a decision that needs reasons."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

from scholia.core import adjudication
from scholia.core.errors import Conflict, InvalidInput
from scholia.core.models import Annotation, Item, User
from scholia.core.revisions import current_annotations
from scholia.core.runtime import Runtime

from .conftest import export, labels_of
from .test_consensus import _label, _project


@pytest.fixture
def disputed(runtime: Runtime, make_user: Callable[..., User]) -> dict[str, Any]:
    """Item 0 of an overlap-3 project: two annotators said dog (2), one said cat (1)."""
    _, project, ids = _project(runtime, overlap=3)
    people = [make_user("annotator") for _ in range(3)]
    for person, category in zip(people, (2, 1, 2), strict=True):
        _label(runtime, person, ids[0], category)
    return {"project": project, "item_id": ids[0], "people": people}


def test_the_case_shows_each_version_with_who_gave_it_and_suggests_the_most_common(
    runtime: Runtime, disputed: dict[str, Any]
) -> None:
    with runtime.session() as session:
        case = adjudication.case_of(session, runtime.plugins, disputed["item_id"])
        waiting = adjudication.backlog(session, runtime.plugins, disputed["project"].id)
    assert [w.item.id for w in waiting] == [disputed["item_id"]]
    assert case.reason == "agreement 0.33 below 0.50 (3 annotators)"
    assert [(v.labels, v.count) for v in case.versions] == [(["dog"], 2), (["cat"], 1)]
    assert case.suggested is case.versions[0]
    pseudonyms = {p.pseudonym for p in disputed["people"]}
    assert {o.annotator for v in case.versions for o in v.opinions} == pseudonyms


def test_deciding_without_reasoning_is_refused_and_changes_nothing(
    runtime: Runtime, disputed: dict[str, Any], make_user: Callable[..., User]
) -> None:
    judge = make_user("adjudicator")
    with runtime.session() as session:
        case = adjudication.case_of(session, runtime.plugins, disputed["item_id"])
        with pytest.raises(InvalidInput) as refused:
            adjudication.decide(
                session,
                runtime.plugins,
                disputed["item_id"],
                adjudicator_id=judge.id,  # type: ignore[arg-type]
                reasoning="   ",
                annotation_id=case.versions[0].opinions[0].annotation_id,
            )
    assert refused.value.path == "$.reasoning"
    with runtime.session() as session:
        assert session.get(Item, disputed["item_id"]).status == "adjudication"  # type: ignore[union-attr]


def test_a_decision_is_an_annotation_linked_to_its_record_and_the_item_is_approved(
    runtime: Runtime, disputed: dict[str, Any], make_user: Callable[..., User]
) -> None:
    judge = make_user("adjudicator")
    with runtime.session() as session:
        case = adjudication.case_of(session, runtime.plugins, disputed["item_id"])
        cat = case.versions[1].opinions[0].annotation_id
        record = adjudication.decide(
            session,
            runtime.plugins,
            disputed["item_id"],
            adjudicator_id=judge.id,  # type: ignore[arg-type]
            reasoning="The ears are a cat's; the guideline says to label the animal in front.",
            annotation_id=cat,
        )
    with runtime.session() as session:
        item = session.get(Item, disputed["item_id"])
        decision = session.exec(
            select(Annotation).where(Annotation.adjudication_id == record.id)
        ).one()
        assert item is not None and item.status == "approved"
        assert decision.source == "adjudication" and decision.payload == {"category_ids": [1]}
        assert decision.annotator_id == judge.id
        assert record.chosen_annotation_id == cat and len(record.considered) == 3
        # The annotators' labels stay: nothing is deleted.
        assert len(current_annotations(session, disputed["item_id"])) == 4
    version = export(runtime, disputed["project"].id)
    (line,) = [x for x in labels_of(runtime, version) if x["item_id"] == disputed["item_id"]]
    assert line["payload"] == {"category_ids": [1]}
    assert line["adjudication"]["adjudicator"] == judge.pseudonym
    assert line["adjudication"]["reasoning"].startswith("The ears are a cat's")
    assert len(line["adjudication"]["considered"]) == 3
    versions = line["adjudication"]["versions"]  # what the weighed labels said, and by whom
    assert [(v["payload"], len(v["annotators"])) for v in versions] == [
        ({"category_ids": [2]}, 2),
        ({"category_ids": [1]}, 1),
    ]
    assert line["adjudication"]["routed_because"] == "agreement 0.33 below 0.50 (3 annotators)"


def test_an_adjudicator_may_give_a_label_nobody_gave(
    runtime: Runtime, disputed: dict[str, Any], make_user: Callable[..., User]
) -> None:
    judge = make_user("adjudicator")
    with runtime.session() as session:
        record = adjudication.decide(
            session,
            runtime.plugins,
            disputed["item_id"],
            adjudicator_id=judge.id,  # type: ignore[arg-type]
            reasoning="It is a bird on a dog's back; the bird is the subject.",
            payload={"category_ids": [3]},
        )
        assert record.chosen_annotation_id is None
        with pytest.raises(Conflict, match="not waiting for adjudication"):
            adjudication.case_of(session, runtime.plugins, disputed["item_id"])


def test_a_label_outside_the_schema_is_refused_with_its_path(
    runtime: Runtime, disputed: dict[str, Any], make_user: Callable[..., User]
) -> None:
    judge = make_user("adjudicator")
    with runtime.session() as session, pytest.raises(InvalidInput) as refused:
        adjudication.decide(
            session,
            runtime.plugins,
            disputed["item_id"],
            adjudicator_id=judge.id,  # type: ignore[arg-type]
            reasoning="Because.",
            payload={"category_ids": [99]},
        )
    assert refused.value.path.startswith("$.payload.category_ids")


def test_a_majority_item_exports_the_majority_label_and_says_how_it_was_reached(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, project, ids = _project(runtime, overlap=5, adjudication={"auto_accept_unanimous": True})
    for category in (3, 3, 3, 3, 1):
        _label(runtime, make_user("annotator"), ids[0], category)
    version = export(runtime, project.id, statuses=["labeled"])
    (line,) = labels_of(runtime, version)
    assert line["payload"] == {"category_ids": [3]}
    # The type's own aggregate chose it (classification: a per-category majority).
    assert line["aggregation"]["method"] == "aggregate"
    assert line["aggregation"]["annotation_type"] == "classification"
    assert (line["aggregation"]["votes"], line["aggregation"]["of"]) == (4, 5)


def test_with_dawid_skene_the_export_takes_its_estimate_and_says_so(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, project, ids = _project(
        runtime, overlap=3, adjudication={"below": 0.0, "aggregator": "dawid_skene"}
    )
    people = [make_user("annotator") for _ in range(3)]
    # The first two annotators agree everywhere; the third strays on the last item.
    for item_id, labels in zip(ids, [(1, 1, 1), (2, 2, 2), (3, 3, 1)], strict=True):
        for person, category in zip(people, labels, strict=True):
            _label(runtime, person, item_id, category)
    version = export(runtime, project.id, statuses=["labeled"])
    lines = labels_of(runtime, version)
    assert [line["payload"]["category_ids"] for line in lines] == [[1], [2], [3]]
    assert {line["aggregation"]["method"] for line in lines} == {"dawid_skene"}
    assert all(0.5 < line["aggregation"]["posterior"] <= 1 for line in lines)
    assert (lines[2]["aggregation"]["votes"], lines[2]["aggregation"]["of"]) == (2, 3)

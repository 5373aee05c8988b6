"""Every "same label?" goes through the annotation type: consensus, adjudication, the
canonical label of a version, the Quality Hub and gold scoring, with the core's defaults for a
type that leaves agreement or aggregate out. The types are a test-only plugin's."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import select

from scholia.core import adjudication, comparison, datasets, gold
from scholia.core.consensus import valid_annotations
from scholia.core.models import GoldResult, User
from scholia.core.plugins import Plugins, describe_plugins
from scholia.core.quality import signals
from scholia.core.runtime import Runtime

from .graded_plugin import Flag, Span, overlap, with_graded_types
from .test_consensus import _project, _status, _submit


@pytest.fixture
def plugins() -> Plugins:
    return with_graded_types()


# --- defaults at registration ---------------------------------------------------------------


def test_a_type_without_agreement_or_aggregate_gets_equality_and_majority(
    plugins: Plugins,
) -> None:
    flag = plugins.annotation_type("flag")
    assert flag.agreement is comparison.equality
    assert flag.aggregate is comparison.majority
    assert (flag.defaulted, flag.votes) == (("agreement", "aggregate"), True)
    assert flag.agreement(Flag("yes"), Flag("yes")) == 1.0
    assert flag.agreement(Flag("yes"), Flag("no")) == 0.0
    assert flag.aggregate([Flag("yes"), Flag("no"), Flag("yes")]) == Flag("yes")
    assert flag.aggregate([Flag("yes"), Flag("no")]) is None  # a tie: votes


def test_a_type_with_its_own_agreement_gets_the_most_central_label(plugins: Plugins) -> None:
    span = plugins.annotation_type("span")
    assert span.agreement is overlap
    assert (span.defaulted, span.votes) == (("aggregate",), False)
    labels = [Span(0, 10), Span(2, 100), Span(0, 100), Span(1, 99)]
    assert span.aggregate is not None
    # Summed overlap with the others: 0.38, 1.96, 2.06, 2.05: the third is the medoid.
    assert span.aggregate(labels) == Span(0, 100)
    assert span.aggregate([Span(0, 10), Span(50, 60)]) == Span(0, 10)  # a tie: the earliest


def test_the_plugins_listing_says_which_measures_are_the_defaults(plugins: Plugins) -> None:
    (graded,) = [p for p in describe_plugins(plugins) if "span" in p["annotation_types"]]
    assert graded["annotation_types"] == {
        "span": {"agreement": "its own", "aggregate": "medoid by its agreement (default)"},
        "flag": {"agreement": "equality (default)", "aggregate": "majority (default)"},
    }
    (image,) = [p for p in describe_plugins(plugins) if p["name"] == "scholia-image"]
    assert image["annotation_types"]["classification"] == {
        "agreement": "its own",
        "aggregate": "its own",
    }


def test_a_type_whose_plugin_is_gone_is_compared_as_plain_data(plugins: Plugins) -> None:
    gone = plugins.annotation_type("removed-type")
    assert gone.decode({"x": [1, 2]}) == {"x": [1, 2]}
    assert gone.agreement is not None and gone.aggregate is not None
    assert gone.agreement({"x": 1}, {"x": 1}) == 1.0
    assert gone.aggregate([{"x": 1}, {"x": 1}, {"x": 2}]) == {"x": 1}


# --- consensus ------------------------------------------------------------------------------


def test_labels_the_type_says_agree_fully_are_unanimous_whatever_their_bytes(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, _, ids = _project(
        runtime, types=("span",), overlap=2, adjudication={"auto_accept_unanimous": True}
    )
    _submit(runtime, make_user("annotator"), ids[0], "span", {"start": 0, "end": 9, "note": "a"})
    _submit(runtime, make_user("annotator"), ids[0], "span", {"start": 0, "end": 9, "note": "b"})
    assert _status(runtime, ids[0]) == "approved"


def test_the_same_categories_in_another_order_are_no_tie(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, _, ids = _project(
        runtime,
        overlap=2,
        annotation_options={"classification": {"mode": "multi"}},
        adjudication={"auto_accept_unanimous": True},
    )
    _submit(runtime, make_user("annotator"), ids[0], "classification", {"category_ids": [1, 2]})
    _submit(runtime, make_user("annotator"), ids[0], "classification", {"category_ids": [2, 1]})
    assert _status(runtime, ids[0]) == "approved"


def test_two_close_spans_agree_as_much_as_the_type_says(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, _, ids = _project(runtime, types=("span",), overlap=2, adjudication={"below": 0.9})
    _submit(runtime, make_user("annotator"), ids[0], "span", {"start": 0, "end": 100})
    _submit(runtime, make_user("annotator"), ids[0], "span", {"start": 1, "end": 100})
    assert _status(runtime, ids[0]) == "labeled"  # 0.99: no adjudication, no "tie"


def test_a_split_vote_of_a_type_without_agreement_still_ties(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, _, ids = _project(runtime, types=("flag",), overlap=2, adjudication={"below": 0.0})
    _submit(runtime, make_user("annotator"), ids[0], "flag", {"value": "yes"})
    _submit(runtime, make_user("annotator"), ids[0], "flag", {"value": "no"})
    assert _status(runtime, ids[0]) == "adjudication"


# --- adjudication ---------------------------------------------------------------------------


def test_adjudication_groups_versions_by_the_types_agreement(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, project, ids = _project(runtime, types=("span",), overlap=3, adjudication={"below": 0.9})
    for payload in (
        {"start": 0, "end": 100, "note": "a car"},
        {"start": 50, "end": 100},
        {"start": 0, "end": 100, "note": "the red car"},
    ):
        _submit(runtime, make_user("annotator"), ids[0], "span", payload)
    with runtime.session() as session:
        case = adjudication.case_of(session, runtime.plugins, ids[0])
        (waiting,) = adjudication.backlog(session, runtime.plugins, project.id)  # type: ignore[arg-type]
    assert [(v.payload["start"], v.count) for v in case.versions] == [(0, 2), (50, 1)]
    assert case.suggested is case.versions[0]
    assert waiting.versions == 2


# --- the canonical label of a version -------------------------------------------------------


def test_a_new_combination_from_the_aggregate_goes_in_the_vote_record(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, _, ids = _project(
        runtime, overlap=3, annotation_options={"classification": {"mode": "multi"}}
    )
    for categories in ([1, 2], [2, 3], [1, 3]):
        _submit(
            runtime, make_user("annotator"), ids[0], "classification", {"category_ids": categories}
        )
    with runtime.session() as session:
        current = valid_annotations(session, [ids[0]])[ids[0]]
    chosen, votes, problem = datasets._canonical(runtime.plugins, current)
    assert problem is None
    # Each category has two votes of three: the per-category majority is all three, which
    # nobody gave; the closest label (each is 2/3 by Jaccard; the first) is chosen.
    assert [a.id for a in chosen] == [current[0].id]
    assert votes[current[0].id] == {
        "method": "aggregate",
        "annotation_type": "classification",
        "votes": 0,
        "of": 3,
        "agreeing": [],
        "payload": {"category_ids": [1, 2, 3]},
    }


def test_a_graded_type_exports_its_most_central_label(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, _, ids = _project(runtime, types=("span",), overlap=3, adjudication={"below": 0.0})
    for start in (0, 40, 1):
        _submit(runtime, make_user("annotator"), ids[0], "span", {"start": start, "end": 100})
    with runtime.session() as session:
        current = valid_annotations(session, [ids[0]])[ids[0]]
    chosen, votes, problem = datasets._canonical(runtime.plugins, current)
    assert problem is None
    assert [a.payload["start"] for a in chosen] == [1]
    assert votes[chosen[0].id]["method"] == "aggregate"
    assert "payload" not in votes[chosen[0].id]


# --- the Quality Hub ------------------------------------------------------------------------


def test_the_hub_alpha_counts_spans_one_unit_apart_as_nearly_agreeing(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, project, ids = _project(runtime, types=("span",), images=10, overlap=2)
    a, b = make_user("annotator"), make_user("annotator")
    for n, item_id in enumerate(ids):
        first = {"start": 0, "end": 100} if n < 5 else {"start": 200, "end": 300}
        second = {"start": 1, "end": 100} if n < 5 else first
        _submit(runtime, a, item_id, "span", first)
        _submit(runtime, b, item_id, "span", second)
    with runtime.reading() as session:
        (week,) = signals.agreement_by_week(session, runtime.plugins, project.id)  # type: ignore[arg-type]
        breakdown = signals.agreement_breakdown(session, runtime.plugins, project.id)  # type: ignore[arg-type]
    # 20 values: (0,100) ×5, (1,100) ×5, (200,300) ×10; δ = 0.01 between the first two, 1
    # between them and the third. Observed 10 × 0.01; expected (2·25·0.01 + 2·100) / 19.
    # Nominal over payloads would give 1 − 10 / (250 / 19) ≈ 0.24.
    assert week.alpha == pytest.approx(1 - 0.1 / (200.5 / 19))
    assert breakdown.annotators == {
        a.id: (pytest.approx(0.995), 1),
        b.id: (pytest.approx(0.995), 1),
    }


# --- gold -----------------------------------------------------------------------------------


def test_a_gold_answer_of_a_type_without_agreement_is_scored_by_equality(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    owner, project, ids = _project(runtime, types=("flag",))
    with runtime.session() as session:
        gold.mark_gold(
            session,
            runtime.plugins,
            project.id,  # type: ignore[arg-type]
            ids[0],
            annotation_type="flag",
            payload={"value": "yes"},
            actor_id=owner.id,  # type: ignore[arg-type]
        )
    _submit(runtime, make_user("annotator"), ids[0], "flag", {"value": "yes"})
    with runtime.session() as session:
        (result,) = session.exec(select(GoldResult).where(GoldResult.item_id == ids[0]))
    assert (result.agreement, result.correct) == (1.0, True)

"""Quality signals on small data whose answers are worked out by hand in each test."""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from scholia.core import labels, lifecycle, projects, review
from scholia.core.datasets import GateContext
from scholia.core.models import Annotation, Assignment, Blob, Item, Project, User
from scholia.core.quality import signals
from scholia.core.quality.statistics import wilson_interval
from scholia.core.runtime import Runtime

from .conftest import seed

W45 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # Monday of ISO week 2026-W45
W46 = W45 + timedelta(weeks=1)
CAT, DOG, BIRD = 1, 2, 3


class Data:
    """A classification project (cat, dog, bird) whose rows are written straight into the
    tables, so each test sets who labeled what, when, and how long it took."""

    def __init__(self, runtime: Runtime, make_user: Callable[..., User]) -> None:
        self.runtime = runtime
        self.owner, self.project, _ = seed(
            runtime, annotation_types=("classification",), categories=("cat", "dog", "bird")
        )
        self.reviewer = make_user("reviewer")
        self.make_user = make_user
        with runtime.session() as session:
            assert self.project.id is not None
            self.guideline = projects.current_guideline(session, self.project.id).id
            self.schema = labels.current_schema(session, self.project.id)
        self.items = 0

    @property
    def project_id(self) -> int:
        assert self.project.id is not None
        return self.project.id

    def annotator(self) -> int:
        user = self.make_user("annotator")
        assert user.id is not None
        return user.id

    def item(self, status: str = "labeled") -> int:
        self.items += 1
        digest = hashlib.sha256(f"{self.project_id}-{self.items}-{uuid.uuid4()}".encode())
        sha = digest.hexdigest()
        with self.runtime.engine.begin() as connection:
            connection.execute(insert(Blob).values(sha256=sha, size=1, media_type="image/png"))
            result = connection.execute(
                insert(Item).values(
                    project_id=self.project_id,
                    content_hash=sha,
                    name=f"item-{self.items}.png",
                    media_type="image/png",
                    meta={},
                    provenance={},
                    status=status,
                    is_gold=False,
                )
            )
        (item_id,) = result.inserted_primary_key or (None,)
        assert isinstance(item_id, int)
        return item_id

    def label(
        self,
        item_id: int,
        annotator_id: int,
        category: int,
        at: datetime = W45,
        *,
        ms: int | None = 1000,
        supersedes: uuid.UUID | None = None,
        voided: bool = False,
    ) -> uuid.UUID:
        annotation_id = uuid.uuid4()
        with self.runtime.engine.begin() as connection:
            held = connection.execute(  # a revision stays in its annotator's slot
                select(Assignment.id).where(
                    Assignment.item_id == item_id, Assignment.annotator_id == annotator_id
                )
            ).scalar()
            slot = (
                held
                or connection.execute(
                    insert(Assignment).values(
                        item_id=item_id,
                        slot=connection.exec_driver_sql("SELECT count(*) FROM assignment").scalar(),
                        annotator_id=annotator_id,
                        claimed_at=at,
                        submitted_at=at,
                        voided_at=at if voided else None,
                    )
                ).inserted_primary_key[0]
            )  # type: ignore[index]
            connection.execute(
                insert(Annotation).values(
                    id=annotation_id,
                    item_id=item_id,
                    project_id=self.project_id,
                    assignment_id=slot,
                    annotator_id=annotator_id,
                    annotation_type="classification",
                    payload={"category_ids": [category]},
                    guideline_version_id=self.guideline,
                    schema_version=self.schema.schema_version,
                    labels_hash=self.schema.labels_hash,
                    time_spent_ms=ms,
                    source="human",
                    supersedes_id=supersedes,
                    quality_flags=[],
                    created_at=at,
                )
            )
        return annotation_id

    def labels_of(self, annotator_id: int, categories: Sequence[int], at: datetime = W45) -> None:
        for category in categories:
            self.label(self.item(), annotator_id, category, at)

    def review(self, item_ids: Sequence[int], decision: str) -> None:
        with self.runtime.session() as session:
            outcome = review.decide(
                session,
                item_ids=item_ids,
                decision=decision,
                reviewer_id=self.reviewer.id,  # type: ignore[arg-type]
            )
        assert not outcome.refused, outcome.refused

    def counts(self) -> signals.LabelCounts:
        with self.runtime.reading() as session:
            return signals.label_counts(
                session, self.runtime.plugins.annotation_types, self.project_id
            )

    def context(self, session: Any) -> GateContext:
        project = session.get(Project, self.project_id)
        return GateContext(session, self.runtime.plugins, project, None)


@pytest.fixture
def data(runtime: Runtime, make_user: Callable[..., User]) -> Data:
    return Data(runtime, make_user)


def js(p: Sequence[float], q: Sequence[float]) -> float:
    """Jensen–Shannon divergence, base 2, written out for the expected values."""
    m = [(a + b) / 2 for a, b in zip(p, q, strict=True)]

    def kl(x: Sequence[float]) -> float:
        return sum(a * math.log2(a / c) for a, c in zip(x, m, strict=True) if a > 0)

    return (kl(p) + kl(q)) / 2


# --- label counts -------------------------------------------------------------------------


def test_label_counts_are_per_annotator_week_and_category(data: Data) -> None:
    a, b = data.annotator(), data.annotator()
    data.labels_of(a, [CAT, CAT, DOG])
    data.labels_of(b, [BIRD], at=W46)
    counts = data.counts()
    assert counts.annotators == (a, b)
    assert counts.weeks == ("2026-W45", "2026-W46")
    assert counts.categories == (CAT, DOG, BIRD)
    assert counts.counts[0, 0].tolist() == [2, 1, 0]
    assert counts.counts[1, 1].tolist() == [0, 0, 1]
    assert counts.total == 4


def test_superseded_and_voided_annotations_do_not_count(data: Data) -> None:
    a = data.annotator()
    item = data.item()
    first = data.label(item, a, CAT)
    data.label(item, a, DOG, supersedes=first)
    data.label(data.item(), a, BIRD, voided=True)
    counts = data.counts()
    assert counts.categories == (DOG,)
    assert counts.total == 1


# --- drift --------------------------------------------------------------------------------


def test_drift_is_the_js_divergence_of_a_week_from_the_all_time_baseline(data: Data) -> None:
    a, b = data.annotator(), data.annotator()
    data.labels_of(a, [CAT] * 4)
    data.labels_of(b, [DOG] * 4)
    cells = {(c.annotator_id, c.week): c for c in signals.label_drift(data.counts(), minimum=4)}
    # Baseline: 4 cats and 4 dogs, so (0.5, 0.5); each annotator used one category only.
    expected = js([1.0, 0.0], [0.5, 0.5])
    assert expected == pytest.approx(0.3113, abs=1e-4)
    assert cells[(a, "2026-W45")].divergence == pytest.approx(expected)
    assert cells[(b, "2026-W45")].divergence == pytest.approx(expected)


def test_a_week_with_too_few_labels_says_not_enough_data_with_the_count(data: Data) -> None:
    a = data.annotator()
    data.labels_of(a, [CAT] * 5)
    data.labels_of(a, [DOG] * 2, at=W46)
    cells = {c.week: c for c in signals.label_drift(data.counts(), minimum=4)}
    assert cells["2026-W45"].divergence is not None
    assert cells["2026-W46"].divergence is None
    assert cells["2026-W46"].labels == 2
    assert cells["2026-W46"].note == "not enough data: 2 labels (need at least 4)"


def test_drift_at_the_default_minimum_needs_200_labels_a_week(data: Data) -> None:
    a = data.annotator()
    data.labels_of(a, [CAT, DOG, BIRD])
    (cell,) = signals.label_drift(data.counts())
    assert cell.note == "not enough data: 3 labels (need at least 200)"


# --- bias ---------------------------------------------------------------------------------


def test_bias_is_a_named_homogeneity_test_against_the_rest_of_the_pool(data: Data) -> None:
    a, b = data.annotator(), data.annotator()
    data.labels_of(a, [CAT] * 30 + [DOG] * 10)
    data.labels_of(b, [CAT] * 10 + [DOG] * 30)
    found = {x.annotator_id: x for x in signals.annotator_bias(data.counts(), minimum=30)}
    bias = found[a]
    # 2 × 2 table [[30, 10], [10, 30]]: chi² = N (ad − bc)² / (row and column totals) = 20,
    # one degree of freedom, p = erfc(√(chi²/2)).
    assert bias.test == "chi-square test of homogeneity"
    assert bias.statistic == pytest.approx(20.0)
    assert bias.dof == 1
    assert bias.p_value == pytest.approx(math.erfc(math.sqrt(10.0)))
    assert [(u.category_id, u.share, u.rest_share) for u in bias.over] == [(CAT, 0.75, 0.25)]
    assert [(u.category_id, u.share, u.rest_share) for u in bias.under] == [(DOG, 0.25, 0.75)]


def test_bias_with_too_few_labels_names_whose_labels_are_missing(data: Data) -> None:
    a, b = data.annotator(), data.annotator()
    data.labels_of(a, [CAT] * 3)
    data.labels_of(b, [DOG] * 40)
    found = {x.annotator_id: x for x in signals.annotator_bias(data.counts(), minimum=30)}
    assert found[a].p_value is None
    assert found[a].note == "not enough data: 3 labels by this annotator (need at least 30)"
    assert found[b].note == "not enough data: 3 labels by others (need at least 30)"


# --- reopen rate --------------------------------------------------------------------------


def _two_reviewed_annotators(data: Data) -> tuple[int, int, list[int], list[int]]:
    """Annotator a labels 10 items, b 3; all are approved at their first review but a's
    last two, which are rejected."""
    a, b = data.annotator(), data.annotator()
    items_a = [data.item() for _ in range(10)]
    for item in items_a:
        data.label(item, a, CAT)
    items_b = [data.item() for _ in range(3)]
    for item in items_b:
        data.label(item, b, DOG)
    data.review(items_a[:8] + items_b, "approved")
    data.review(items_a[8:], "rejected")
    return a, b, items_a, items_b


def test_reopen_rate_is_one_minus_first_pass_acceptance(data: Data) -> None:
    a, b, items_a, _ = _two_reviewed_annotators(data)
    with data.runtime.session() as session:  # reopened, relabeled, approved at the second look
        lifecycle.transition(session, items_a[8], "in_progress", actor_id=data.reviewer.id)
        lifecycle.transition(session, items_a[8], "labeled", actor_id=data.reviewer.id)
    data.review([items_a[8]], "approved")
    with data.runtime.reading() as session:
        rates = signals.reopen_rates(session, data.project_id)
    # 13 items reviewed, 11 approved at their first review (the reopened one still counts as
    # not accepted first time).
    assert rates.project.reviewed == 13
    assert rates.project.accepted == 11
    assert rates.project.value == pytest.approx(2 / 13)
    assert rates.project.interval == pytest.approx(wilson_interval(2, 13))
    assert rates.annotators[a].value == pytest.approx(0.2)
    assert rates.annotators[b].value is None
    assert rates.annotators[b].note == "not enough data: 3 reviewed items (need at least 10)"
    assert rates.reopened == 1
    assert [week for week, _ in rates.weeks] == [signals.iso_week(datetime.now(UTC).date())]


@pytest.mark.parametrize("whole_project_from", [1, 10**9], ids=["whole project", "by chunks"])
def test_reopen_rates_narrowed_to_items_read_either_way(
    data: Data, monkeypatch: pytest.MonkeyPatch, whole_project_from: int
) -> None:
    """A dataset version's gate narrows to its items: many items are read from the whole
    project and kept, few are asked for by id; both give the same counts."""
    monkeypatch.setattr(signals, "WHOLE_PROJECT_FROM", whole_project_from)
    a, b, items_a, items_b = _two_reviewed_annotators(data)
    with data.runtime.session() as session:  # both rejected ones reopened, one outside
        for item in items_a[8:]:
            lifecycle.transition(session, item, "in_progress", actor_id=data.reviewer.id)
    chosen = [*items_a[6:9], items_b[0]]
    with data.runtime.reading() as session:
        rates = signals.reopen_rates(session, data.project_id, chosen, minimum=1)
    assert (rates.project.reviewed, rates.project.accepted, rates.reopened) == (4, 3, 1)
    assert rates.annotators[a].reviewed == 3 and rates.annotators[a].accepted == 2
    assert rates.annotators[b].reviewed == 1 and rates.annotators[b].accepted == 1


def test_a_project_without_reviews_has_no_reopen_rate(data: Data) -> None:
    data.labels_of(data.annotator(), [CAT])
    with data.runtime.reading() as session:
        rates = signals.reopen_rates(session, data.project_id)
    assert rates.project.value is None
    assert rates.project.note == "not enough data: 0 reviewed items (need at least 10)"
    assert rates.annotators == {}


# --- time per item ------------------------------------------------------------------------


def test_time_outliers_use_the_robust_z_score(data: Data) -> None:
    a, b = data.annotator(), data.annotator()
    times = [1000, 1100, 900, 1000, 1050, 950, 1000, 1000, 1020, 60000]
    slow_item = 0
    for k, ms in enumerate(times):
        item = data.item()
        slow_item = item if ms == 60000 else slow_item
        data.label(item, a if k < 5 else b, CAT, ms=ms)
    data.label(data.item(), a, CAT, ms=None)  # untimed: left out
    with data.runtime.reading() as session:
        found = signals.time_outliers(session, data.project_id)
    # median 1000; absolute deviations 0 0 0 0 20 50 50 100 100 59000, so MAD = 35;
    # z = 0.6745 × 59000 / 35 ≈ 1137 for the slow one, at most 0.6745 × 100 / 35 ≈ 1.93 else.
    assert found.timed == 10
    assert found.median_ms == 1000
    assert found.flagged == 1
    (outlier,) = found.outliers
    assert (outlier.item_id, outlier.annotator_id, outlier.time_spent_ms) == (slow_item, b, 60000)
    assert outlier.z == pytest.approx(0.6745 * 59000 / 35)
    per = {t.annotator_id: t for t in found.annotators}
    assert (per[a].outliers, per[b].outliers) == (0, 1)
    assert per[a].median_ms == 1000 and per[b].median_ms == 1000
    assert per[a].z is None  # two annotators: too few medians to compare


def test_time_outliers_need_ten_timed_annotations(data: Data) -> None:
    data.labels_of(data.annotator(), [CAT] * 3)
    with data.runtime.reading() as session:
        found = signals.time_outliers(session, data.project_id)
    assert found.median_ms is None
    assert found.note == "not enough data: 3 timed annotations (need at least 10)"


# --- agreement ----------------------------------------------------------------------------


def test_weekly_agreement_is_krippendorffs_alpha_over_items_with_two_labels(data: Data) -> None:
    a, b = data.annotator(), data.annotator()
    pairs = [(CAT, CAT)] * 5 + [(DOG, DOG)] * 4 + [(CAT, DOG)]
    for first, second in pairs:
        item = data.item()
        data.label(item, a, first)
        data.label(item, b, second, at=W45 + timedelta(hours=1))
    data.label(data.item(), a, BIRD)  # a single label is not pairable: left out
    with data.runtime.reading() as session:
        (week,) = signals.agreement_by_week(session, data.runtime.plugins, data.project_id)
    # 20 values: 11 cat, 9 dog; one disagreeing unit gives o(cat,dog) = o(dog,cat) = 1.
    # alpha = 1 − (n − 1) Σo_ck / Σn_c n_k (c ≠ k) = 1 − 19 × 2 / (2 × 11 × 9) = 1 − 38/198.
    assert (week.week, week.items, week.annotations) == ("2026-W45", 10, 20)
    assert week.alpha == pytest.approx(1 - 38 / 198)


def test_a_week_with_too_few_shared_items_says_so(data: Data) -> None:
    a, b = data.annotator(), data.annotator()
    for _ in range(3):
        item = data.item()
        data.label(item, a, CAT)
        data.label(item, b, DOG)
    with data.runtime.reading() as session:
        (week,) = signals.agreement_by_week(session, data.runtime.plugins, data.project_id)
    assert week.alpha is None
    assert week.note == "not enough data: 3 items (need at least 10)"


def test_no_item_with_two_labels_means_no_agreement_weeks(data: Data) -> None:
    data.labels_of(data.annotator(), [CAT, DOG])
    with data.runtime.reading() as session:
        assert signals.agreement_by_week(session, data.runtime.plugins, data.project_id) == []


# --- the rules ----------------------------------------------------------------------------


def _rule(name: str) -> Any:
    return next(r for r in signals.SIGNAL_RULES if r.name == name)


def test_signal_rules_show_on_the_hub_only() -> None:
    assert {r.name: (r.default_threshold, r.direction, r.gate) for r in signals.SIGNAL_RULES} == {
        "label_drift": (0.05, "at_most", False),
        "annotator_reopen_rate": (0.03, "at_most", False),
    }
    for rule in signals.SIGNAL_RULES:
        rule.check()


def test_the_drift_rule_fails_on_a_drifting_week(data: Data) -> None:
    a, b = data.annotator(), data.annotator()
    data.labels_of(a, [CAT] * 100 + [DOG] * 100)
    data.labels_of(b, [CAT] * 100 + [DOG] * 100)
    data.labels_of(b, [CAT] * 200, at=W46)
    with data.runtime.reading() as session:
        result = _rule("label_drift").evaluate(data.context(session), 0.05)
    # Baseline: 400 cats, 200 dogs. b's second week is all cats: JS((1, 0), (2/3, 1/3)).
    assert result.value == pytest.approx(js([1.0, 0.0], [2 / 3, 1 / 3]))
    assert result.value > 0.05
    assert not result.passed
    assert result.evidence["above_threshold"] == 1
    with data.runtime.reading() as session:
        pseudonym = session.get(User, b).pseudonym  # type: ignore[union-attr]
    assert f"{pseudonym} in 2026-W46" in result.message


def test_the_drift_rule_passes_with_not_enough_data(data: Data) -> None:
    data.labels_of(data.annotator(), [CAT] * 3)
    with data.runtime.reading() as session:
        result = _rule("label_drift").evaluate(data.context(session), 0.05)
    assert result.passed and result.value is None
    assert result.message == "not enough data: 3 labels in any week (need at least 200)"


def test_the_reopen_rule_judges_the_worst_annotator(data: Data) -> None:
    a = data.annotator()
    items = [data.item() for _ in range(10)]
    for item in items:
        data.label(item, a, CAT)
    data.review(items[:9], "approved")
    data.review(items[9:], "rejected")
    rule = _rule("annotator_reopen_rate")
    with data.runtime.reading() as session:
        failing = rule.evaluate(data.context(session), 0.03)
        passing = rule.evaluate(data.context(session), 0.10)
    assert failing.value == pytest.approx(0.1)
    assert not failing.passed
    assert passing.passed
    assert "1 of 10 items not accepted at first review" in failing.message


def test_agreement_breaks_down_per_annotator_and_per_category(data: Data) -> None:
    a, b = data.annotator(), data.annotator()
    items = [data.item() for _ in range(3)]
    for item, (first, second) in zip(items, [(CAT, CAT), (CAT, DOG), (DOG, DOG)], strict=True):
        data.label(item, a, first)
        data.label(item, b, second)
    with data.runtime.reading() as session:
        found = signals.agreement_breakdown(session, data.runtime.plugins, data.project_id)
    assert found.annotators == {a: (pytest.approx(2 / 3), 1), b: (pytest.approx(2 / 3), 1)}
    # "cat or not": coincidences o11 = o00 = 2, o10 = o01 = 1 over n = 6 values, n1 = n0 = 3:
    # alpha = 1 - (2/6) / (2 * 3 * 3 / (6 * 5)) = 4/9; "dog or not" is the mirror image.
    assert found.categories == {
        CAT: (pytest.approx(4 / 9), None),
        DOG: (pytest.approx(4 / 9), None),
    }

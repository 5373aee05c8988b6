"""Concurrent annotators against a real server on loopback, on SQLite and PostgreSQL: no
5xx, no lost or duplicated label, no item stuck, simultaneous first submits both stored, a
replay racing its original answered with it.

These are the scenarios of ``benchmarks/concurrency.py`` (100 annotators there), bounded:
20 annotators, a few dozen items each. Users have global roles (as elsewhere in the suite).
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks import concurrency as load
from scholia.core.runtime import Runtime

ANNOTATORS = 20
ITEMS = 30


@pytest.fixture
def annotators(runtime: Runtime) -> list[tuple[int, str]]:
    return load.make_annotators(runtime, ANNOTATORS, "annotator")


@pytest.mark.parametrize(
    ("overlap", "differing"),
    [(1, False), (2, False), (2, True)],
    ids=["overlap1-same", "overlap2-same", "overlap2-differing"],
)
def test_annotators_labeling_at_once_lose_nothing(
    runtime: Runtime,
    live_server: str,
    annotators: list[tuple[int, str]],
    overlap: int,
    differing: bool,
) -> None:
    setup = load.build(
        runtime, annotators, overlap=overlap, items=ITEMS, categories=ANNOTATORS, name="queue"
    )
    outcome = load.label_queue(live_server, setup, differing=differing)
    findings = load.check(runtime, setup, outcome, differing=differing)
    assert findings.problems() == {}
    # Every slot of every item was labeled, each label answered 201 once.
    assert outcome.statuses() == {201: ITEMS * overlap}


def test_simultaneous_first_submits_on_an_overlap_2_item_are_both_stored(
    runtime: Runtime, live_server: str, annotators: list[tuple[int, str]]
) -> None:
    setup = load.build(runtime, annotators, overlap=2, items=ITEMS, categories=2, name="first")
    outcome = load.first_submits(live_server, setup)
    findings = load.check(runtime, setup, outcome, differing=True)
    assert findings.problems() == {}
    assert outcome.statuses() == {201: 2 * ITEMS}


def test_a_replay_racing_its_original_gets_the_original_answer(
    runtime: Runtime, live_server: str, annotators: list[tuple[int, str]]
) -> None:
    setup = load.build(runtime, annotators, overlap=1, items=ITEMS, categories=2, name="replay")
    outcome = load.replays(live_server, setup)
    findings = load.check(runtime, setup, outcome, differing=None, replayed=True)
    assert findings.problems() == {}
    statuses: dict[int, Any] = dict(outcome.statuses())
    assert statuses == {201: ITEMS, 200: ITEMS}

"""Concurrent annotators against a real server on loopback, on SQLite and PostgreSQL: no
5xx, no lost or duplicated label, no item stuck, simultaneous first submits both stored, a
replay racing its original answered with it.

These are the scenarios of ``benchmarks/concurrency.py`` (100 annotators there), bounded:
20 annotators, a few dozen items each. Users have global roles (as elsewhere in the suite).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlmodel import col, select

from benchmarks import concurrency as load
from scholia.core import annotations, labels, lifecycle, queue
from scholia.core.models import Assignment
from scholia.core.runtime import Runtime

from .conftest import seed

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


def test_a_label_posted_while_its_annotator_claims_the_item_finds_that_claim(
    runtime: Runtime,
) -> None:
    """The labeling page claims its item as the first label may already be on its way: the
    label waits for the claim's lock on the item, then finds the slot the claim took (on
    PostgreSQL the label's read of the slots is older than the lock it waited for)."""
    user, project, item = seed(runtime, annotation_types=("classification",), categories=("a",))
    assert user.id is not None and item.id is not None and project.id is not None
    with runtime.session() as session:
        category = labels.live_categories(session, project.id)[0].id
    claimed = threading.Event()

    def claim() -> None:
        with runtime.session() as session:
            locked = lifecycle.lock(session, item.id)  # type: ignore[arg-type]
            queue.ensure_slot(session, locked, user.id)  # type: ignore[arg-type]
            claimed.set()
            time.sleep(0.5)  # the label's read starts, and waits for this lock

    claiming = threading.Thread(target=claim)
    claiming.start()
    assert claimed.wait(10)
    with runtime.session() as session:
        result = annotations.submit(
            session,
            runtime.plugins,
            item_id=item.id,
            annotator_id=user.id,
            annotation_type="classification",
            payload={"category_ids": [category]},
        )
    claiming.join()
    assert result.created
    with runtime.session() as session:
        held = session.exec(select(Assignment).where(col(Assignment.item_id) == item.id)).all()
    assert [(slot.annotator_id, slot.submitted_at is not None) for slot in held] == [
        (user.id, True)
    ]

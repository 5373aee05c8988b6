"""Overlap and consensus: an item is labeled once N annotators are in, then compared."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import col, select

from scholia.core import annotations, items, queue
from scholia.core.models import AuditEvent, Item, Project, User
from scholia.core.revisions import current_annotations
from scholia.core.runtime import Runtime

from .conftest import png_bytes, seed


def _project(
    runtime: Runtime,
    types: tuple[str, ...] = ("classification",),
    images: int = 3,
    **settings: Any,
) -> tuple[User, Project, list[int]]:
    """A project of ``types`` (by default single-label classification) with categories cat,
    dog and bird, and three images (or ``images``)."""
    owner, project, first = seed(
        runtime,
        annotation_types=types,
        categories=("cat", "dog", "bird"),
        settings=settings,
    )
    ids = [first.id]
    with runtime.session() as session:
        for n in range(images - 1):
            ids.append(
                items.ingest(
                    session,
                    runtime.store,
                    runtime.plugins,
                    project,
                    name=f"more{n}.png",
                    source=io.BytesIO(png_bytes(colour=(10, (60 * n) % 256, 200))),
                    actor_id=owner.id,  # type: ignore[arg-type]
                ).item.id
            )
    return owner, project, ids  # type: ignore[return-value]


def _submit(runtime: Runtime, user: User, item_id: int, type_name: str, payload: Any) -> None:
    with runtime.session() as session:
        annotations.submit(
            session,
            runtime.plugins,
            item_id=item_id,
            annotator_id=user.id,  # type: ignore[arg-type]
            annotation_type=type_name,
            payload=payload,
        )


def _label(runtime: Runtime, user: User, item_id: int, category: int) -> None:
    _submit(runtime, user, item_id, "classification", {"category_ids": [category]})


def _status(runtime: Runtime, item_id: int) -> str:
    with runtime.session() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return item.status


def test_an_item_with_overlap_two_is_labeled_only_when_both_annotators_are_in(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, _, ids = _project(runtime, overlap=2)
    first, second = make_user("annotator"), make_user("annotator")
    _label(runtime, first, ids[0], 1)
    assert _status(runtime, ids[0]) == "in_progress"
    _label(runtime, second, ids[0], 1)
    assert _status(runtime, ids[0]) == "labeled"


def test_each_item_goes_to_distinct_annotators(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, project, ids = _project(runtime, overlap=2)
    people = [make_user("annotator") for _ in range(3)]
    with runtime.session() as session:
        claimed = [queue.claim_next(session, project.id, p.id) for p in people]  # type: ignore[arg-type]
    # However their orders go, no item gets a third annotator.
    got = [c.id for c in claimed if c is not None]
    assert len(got) == 3 and set(got) <= set(ids)
    assert max(got.count(i) for i in got) <= 2


def test_disagreement_routes_the_item_to_adjudication_with_the_reason(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, _, ids = _project(runtime, overlap=2)
    first, second = make_user("annotator"), make_user("annotator")
    _label(runtime, first, ids[0], 1)
    _label(runtime, second, ids[0], 2)
    assert _status(runtime, ids[0]) == "adjudication"
    with runtime.session() as session:
        event = session.exec(
            select(AuditEvent).where(
                col(AuditEvent.entity_id) == str(ids[0]), AuditEvent.to_state == "adjudication"
            )
        ).one()
    assert event.reason == "agreement 0.00 below 0.50 (2 annotators)"
    assert event.actor_id is None  # the rule moved it, not an annotator


def test_a_tied_vote_goes_to_adjudication_even_when_agreement_clears_the_bar(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    # Four annotators, two and two: mean pairwise agreement 2/6 = 0.33, above a 0.3 bar.
    _, _, ids = _project(runtime, overlap=4, adjudication={"below": 0.3})
    for category in (1, 1, 2, 2):
        _label(runtime, make_user("annotator"), ids[0], category)
    assert _status(runtime, ids[0]) == "adjudication"
    with runtime.session() as session:
        reasons = [
            e.reason
            for e in session.exec(select(AuditEvent).where(AuditEvent.to_state == "adjudication"))
        ]
    assert reasons == ["the vote is tied (4 annotators)"]


def test_a_clear_majority_stays_labeled_for_review(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    # 4 of 5 agree: mean pairwise agreement 6/10 = 0.6, above the default 0.5.
    _, _, ids = _project(runtime, overlap=5)
    for category in (3, 3, 3, 3, 1):
        _label(runtime, make_user("annotator"), ids[0], category)
    assert _status(runtime, ids[0]) == "labeled"


@pytest.mark.parametrize(("auto_accept", "expected"), [(True, "approved"), (False, "labeled")])
def test_unanimous_items_are_auto_accepted_only_if_the_project_says_so(
    runtime: Runtime, make_user: Callable[..., User], auto_accept: bool, expected: str
) -> None:
    _, _, ids = _project(runtime, overlap=2, adjudication={"auto_accept_unanimous": auto_accept})
    _label(runtime, make_user("annotator"), ids[0], 2)
    _label(runtime, make_user("annotator"), ids[0], 2)
    assert _status(runtime, ids[0]) == expected


def test_withdrawing_one_of_two_labels_takes_the_item_back_to_in_progress(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, _, ids = _project(runtime, overlap=2)
    first, second = make_user("annotator"), make_user("annotator")
    _label(runtime, first, ids[0], 1)
    _label(runtime, second, ids[0], 1)
    with runtime.session() as session:
        mine = [a for a in current_annotations(session, ids[0]) if a.annotator_id == first.id]
        annotations.withdraw(session, runtime.plugins, annotation_id=mine[0].id, actor_id=first.id)  # type: ignore[arg-type]
    assert _status(runtime, ids[0]) == "in_progress"


def test_withdrawing_my_only_label_gives_the_item_back_to_my_queue_as_to_do(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    """Taking back my last label on an item (undo, or unticking the last category) leaves
    it mine to do: the queue hands it to me again instead of counting it done with no label."""
    _, project, ids = _project(runtime)
    annotator = make_user("annotator")
    assert annotator.id is not None and project.id is not None
    _label(runtime, annotator, ids[0], 1)
    with runtime.session() as session:
        assert queue.my_statuses(session, [session.get(Item, ids[0])], annotator.id) == {  # type: ignore[list-item]
            ids[0]: "done"
        }
        (mine,) = current_annotations(session, ids[0])
        annotations.withdraw(session, runtime.plugins, annotation_id=mine.id, actor_id=annotator.id)
    with runtime.session() as session:
        item = session.get(Item, ids[0])
        assert item is not None
        assert queue.my_statuses(session, [item], annotator.id) == {ids[0]: "todo"}
        assert queue.my_queue_counts(session, project.id, annotator.id)["done"] == 0
        next_item = queue.claim_next(session, project.id, annotator.id)
        assert next_item is not None and next_item.id == ids[0]


def test_work_from_a_voided_slot_no_longer_counts(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    from scholia.core.consensus import valid_annotations
    from scholia.core.models import Assignment
    from scholia.core.models.types import utcnow

    _, _, ids = _project(runtime)
    annotator = make_user("annotator")
    _label(runtime, annotator, ids[0], 1)
    with runtime.session() as session:
        slot = session.exec(select(Assignment).where(Assignment.item_id == ids[0])).one()
        slot.voided_at, slot.void_reason = utcnow(), "test"
        session.add(slot)
    with runtime.session() as session:
        assert valid_annotations(session, [ids[0]]) == {}
        assert len(current_annotations(session, ids[0])) == 1  # nothing is deleted


def test_the_database_refuses_a_second_slot_for_one_annotator_on_one_item(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    from sqlalchemy.exc import IntegrityError

    from scholia.core.models import Assignment

    _, _, ids = _project(runtime, overlap=2)
    annotator = make_user("annotator")
    _label(runtime, annotator, ids[0], 1)
    with pytest.raises(IntegrityError), runtime.session() as session:
        session.add(Assignment(item_id=ids[0], slot=7, annotator_id=annotator.id))
        session.flush()


def _set_overlap(runtime: Runtime, owner: User, project: Project, overlap: int) -> None:
    from scholia.core import projects

    with runtime.session() as session:
        projects.update_settings(
            session,
            runtime.plugins,
            project.id,
            {"overlap": overlap},
            actor_id=owner.id,  # type: ignore[arg-type]
        )


def test_raising_the_overlap_gives_items_still_being_labeled_their_new_slots(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    owner, project, ids = _project(runtime)
    first, second = make_user("annotator"), make_user("annotator")
    _label(runtime, first, ids[0], 1)  # labeled under overlap 1: stays as it is
    _set_overlap(runtime, owner, project, 2)
    _label(runtime, first, ids[1], 2)
    assert _status(runtime, ids[1]) == "in_progress"
    with runtime.session() as session:  # the second annotator can take the new slot
        item = session.get(Item, ids[1])
        assert item is not None
        assert queue.ensure_slot(session, item, second.id).annotator_id == second.id  # type: ignore[arg-type]
    _label(runtime, second, ids[1], 2)
    assert (_status(runtime, ids[0]), _status(runtime, ids[1])) == ("labeled", "labeled")


def test_lowering_the_overlap_settles_items_that_already_have_enough_work(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    owner, project, ids = _project(runtime, overlap=3)
    _label(runtime, make_user("annotator"), ids[0], 1)
    _label(runtime, make_user("annotator"), ids[0], 1)
    assert _status(runtime, ids[0]) == "in_progress"
    _set_overlap(runtime, owner, project, 2)
    assert _status(runtime, ids[0]) == "labeled"

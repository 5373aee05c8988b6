"""Gold slots are added on demand, one per annotator: the next slot number is taken safely
however many annotators draw the same gold item at once."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlmodel import col, select

from scholia.core.models import Assignment, User
from scholia.core.runtime import Runtime
from scholia.core.slots import add_slot

from .test_standing import gold_project


def test_concurrent_gold_draws_of_one_item_get_distinct_slots(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    _, _, _, golden = gold_project(runtime, production=1, gold_items=1)
    annotators = [make_user() for _ in range(8)]
    barrier = threading.Barrier(len(annotators))
    errors: list[BaseException] = []

    def draw(annotator: User) -> None:
        try:
            barrier.wait(timeout=30)
            with runtime.session() as session:
                add_slot(session, golden[0], annotator.id)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=draw, args=(a,)) for a in annotators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    with runtime.session() as session:
        slots = session.exec(
            select(Assignment)
            .where(col(Assignment.item_id) == golden[0])
            .order_by(col(Assignment.slot))
        ).all()
    assert [s.slot for s in slots] == list(range(9)), "the import slot and one per annotator"
    assert sorted(s.annotator_id for s in slots[1:]) == sorted(a.id for a in annotators)  # type: ignore[type-var]

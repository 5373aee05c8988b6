"""Annotators' queues: claiming items through assignment slots, one annotator per slot however
the requests interleave, reserving slots ahead, skipping; and reading beside writers."""

from __future__ import annotations

import io
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import col, select

from scholia.core import annotations, items, queue, slots
from scholia.core.errors import Conflict
from scholia.core.models import Assignment, Item, Project, User
from scholia.core.runtime import Runtime

from .conftest import png_bytes, seed


def add_items(runtime: Runtime, project: Project, user: User, count: int) -> list[int]:
    ids = []
    with runtime.session() as session:
        project = session.get(Project, project.id)  # type: ignore[assignment]
        for n in range(count):
            ingested = items.ingest(
                session,
                runtime.store,
                runtime.plugins,
                project,
                name=f"extra{n}.png",
                source=io.BytesIO(png_bytes(colour=(n, 2 * n % 256, 77))),
                actor_id=user.id,  # type: ignore[arg-type]
            )
            ids.append(ingested.item.id)
    return ids  # type: ignore[return-value]


def claim(runtime: Runtime, project_id: int, user: User) -> int | None:
    with runtime.session() as session:
        item = queue.claim_next(session, project_id, user.id)  # type: ignore[arg-type]
        return item.id if item is not None else None


def holders(runtime: Runtime) -> dict[int, list[int | None]]:
    with runtime.session() as session:
        rows = session.exec(select(Assignment).order_by(col(Assignment.item_id))).all()
    found: dict[int, list[int | None]] = {}
    for row in rows:
        found.setdefault(row.item_id, []).append(row.annotator_id)
    return found


def test_claiming_takes_an_open_item_and_resumes_it_until_submitted(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    owner, project, first = seed(runtime, annotation_types=("classification",), categories=("a",))
    ids = [first.id, *add_items(runtime, project, owner, 2)]
    annotator = make_user()
    taken = claim(runtime, project.id, annotator)  # type: ignore[arg-type]
    assert taken in ids
    assert claim(runtime, project.id, annotator) == taken  # type: ignore[arg-type]
    with runtime.session() as session:
        assert session.get(Item, taken).status == "in_progress"  # type: ignore[union-attr]
        annotations.submit(
            session,
            runtime.plugins,
            item_id=taken,  # type: ignore[arg-type]
            annotator_id=annotator.id,  # type: ignore[arg-type]
            annotation_type="classification",
            payload={"category_ids": [1]},
        )
    after = claim(runtime, project.id, annotator)  # type: ignore[arg-type]
    assert after in ids and after != taken


def test_two_annotators_never_get_the_same_item_with_overlap_one(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    owner, project, first = seed(runtime)
    (second,) = add_items(runtime, project, owner, 1)
    ann, bob, cy = make_user(), make_user(), make_user()
    got = {claim(runtime, project.id, ann), claim(runtime, project.id, bob)}  # type: ignore[arg-type]
    assert got == {first.id, second}
    assert claim(runtime, project.id, cy) is None  # type: ignore[arg-type]


def test_concurrent_claims_give_every_slot_to_exactly_one_annotator(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    """Eight annotators claim at once, each on its own connection, released together by a
    barrier, until the queue is empty: no slot is held twice and no item is lost."""
    owner, project, first = seed(runtime)
    ids = [first.id, *add_items(runtime, project, owner, 23)]
    annotators = [make_user() for _ in range(8)]
    barrier = threading.Barrier(len(annotators))
    claimed: dict[int, list[int]] = {a.id: [] for a in annotators}  # type: ignore[misc]
    errors: list[BaseException] = []

    def work(annotator: User) -> None:
        try:
            barrier.wait(timeout=30)
            for _ in range(10):
                with runtime.session() as session:
                    queue.reserve(session, project.id, annotator.id, 2)  # type: ignore[arg-type]
                    held = session.exec(
                        select(Assignment.item_id).where(
                            col(Assignment.annotator_id) == annotator.id
                        )
                    ).all()
                claimed[annotator.id] = list(held)  # type: ignore[index]
                # Submit what is held so the next round claims more.
                for item_id in held:
                    with runtime.session() as session:
                        slot = session.exec(
                            select(Assignment).where(
                                col(Assignment.item_id) == item_id,
                                col(Assignment.annotator_id) == annotator.id,
                            )
                        ).one()
                        slots.mark_submitted(session, slot)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(a,)) for a in annotators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    by_item = holders(runtime)
    assert sorted(by_item) == sorted(ids)
    assert all(len(slots) == 1 and slots[0] is not None for slots in by_item.values())
    everything = [i for held in claimed.values() for i in held]
    assert Counter(everything) == Counter(ids), "each item claimed exactly once"


def test_with_overlap_two_an_item_goes_to_two_different_annotators(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    owner, project, _ = seed(runtime)
    with runtime.session() as session:
        stored = session.get(Project, project.id)
        assert stored is not None
        stored.settings = {**stored.settings, "overlap": 2}
        session.add(stored)
    (item_id,) = add_items(runtime, project, owner, 1)
    ann, bob, cy = make_user(), make_user(), make_user()
    with runtime.session() as session:
        item = session.get(Item, item_id)
        assert item is not None
        assert queue.ensure_slot(session, item, ann.id).slot == 0  # type: ignore[arg-type]
        assert queue.ensure_slot(session, item, ann.id).slot == 0  # type: ignore[arg-type]
        assert queue.ensure_slot(session, item, bob.id).slot == 1  # type: ignore[arg-type]
    refused = pytest.raises(Conflict, match="already assigned to other annotators")
    with refused, runtime.session() as session:
        item = session.get(Item, item_id)
        queue.ensure_slot(session, item, cy.id)  # type: ignore[arg-type]
    assert holders(runtime)[item_id] == [ann.id, bob.id]


def test_the_queue_api_hands_out_the_next_item_and_says_when_there_is_none(
    runtime: Runtime, api_for: Callable[..., Any]
) -> None:
    _, project, first = seed(runtime)
    annotator = api_for("annotator", project=project)
    url = f"/api/v1/projects/{project.id}/queue/next"
    response = annotator.post(url)
    assert response.status_code == 200, response.text
    assert response.json()["item"]["id"] == first.id
    other = api_for("annotator", project=project)
    assert other.post(url).json() == {"item": None}


def test_skipping_through_the_api_marks_the_item_skipped_and_moves_on(
    runtime: Runtime, api_for: Callable[..., Any]
) -> None:
    owner, project, first = seed(runtime)
    (second,) = add_items(runtime, project, owner, 1)
    annotator = api_for("annotator", project=project)
    next_url = f"/api/v1/projects/{project.id}/queue/next"
    taken = annotator.post(next_url).json()["item"]["id"]
    assert taken in (first.id, second)
    skipped = annotator.post(f"/api/v1/items/{taken}/skip", json={"reason": "blurry"})
    assert skipped.status_code == 200, skipped.text
    assert annotator.get(f"/api/v1/items/{taken}").json()["status"] == "skipped"
    assert annotator.post(next_url).json()["item"]["id"] == ({first.id, second} - {taken}).pop()


def test_only_the_holder_of_a_slot_skips_an_item_and_nothing_is_stored_otherwise(
    runtime: Runtime, api_for: Callable[..., Any]
) -> None:
    owner, project, first = seed(runtime)
    (second,) = add_items(runtime, project, owner, 1)
    holder, other = api_for("annotator", project=project), api_for("annotator", project=project)
    held = holder.post(f"/api/v1/projects/{project.id}/queue/next").json()["item"]["id"]
    (free,) = {first.id, second} - {held}  # each annotator's queue has its own order
    before = holders(runtime)
    # Neither the item someone else holds nor one nobody holds yet can be skipped.
    for item_id in (held, free):
        refused = other.post(f"/api/v1/items/{item_id}/skip", json={"reason": "not mine"})
        assert refused.status_code == 409, refused.text
        assert "only an item from your own queue" in refused.json()["error"]["message"]
    assert holders(runtime) == before
    with runtime.session() as session:
        assert session.get(Item, held).status == "in_progress"  # type: ignore[union-attr]
        assert session.get(Item, free).status == "unlabeled"  # type: ignore[union-attr]
    assert holder.post(f"/api/v1/items/{held}/skip", json={}).status_code == 200


def test_read_runs_again_as_a_normal_session_when_its_write_loses_to_another(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    """``Runtime.read`` reads beside writers; if it writes after someone else did, SQLite
    refuses at once and the work is run again, waiting for the lock like any writer."""
    reader, writer = make_user(), make_user()
    calls: list[int] = []

    def work(session: Any) -> str:
        calls.append(1)
        me = session.get(User, reader.id)
        if len(calls) == 1:  # someone else writes between our read and our write
            with runtime.session() as other:
                them = other.get(User, writer.id)
                them.display_name = "Changed meanwhile"
                other.add(them)
        me.display_name = "Renamed"
        session.add(me)
        session.flush()
        return str(me.display_name)

    assert runtime.read(work) == "Renamed"
    assert len(calls) == (2 if runtime.engine.dialect.name == "sqlite" else 1)
    with runtime.session() as session:
        assert session.get(User, reader.id).display_name == "Renamed"  # type: ignore[union-attr]
        assert session.get(User, writer.id).display_name == "Changed meanwhile"  # type: ignore[union-attr]


def test_reading_does_not_wait_for_a_writer_holding_the_lock(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    """While another unit of work holds the write lock (and has not committed), a reading unit
    of work still reads, and sees the data as committed before that write."""
    user = make_user()
    locked, release = threading.Event(), threading.Event()

    def writer() -> None:
        with runtime.session() as session:
            me = session.get(User, user.id)
            me.display_name = "Uncommitted"  # type: ignore[union-attr]
            session.add(me)
            session.flush()
            locked.set()
            release.wait(timeout=60)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert locked.wait(timeout=30)
        with runtime.reading() as session:
            seen = session.get(User, user.id)
            assert seen is not None and seen.display_name != "Uncommitted"
    finally:
        release.set()
        thread.join(timeout=60)
    with runtime.reading() as session:
        assert session.get(User, user.id).display_name == "Uncommitted"  # type: ignore[union-attr]


def test_changing_data_in_a_reading_unit_of_work_raises_and_saves_nothing(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    user = make_user()
    with pytest.raises(RuntimeError, match=r"use Runtime\.session"), runtime.reading() as session:
        me = session.get(User, user.id)
        me.display_name = "Changed"  # type: ignore[union-attr]
    with runtime.reading() as session:
        assert session.get(User, user.id).display_name != "Changed"  # type: ignore[union-attr]

"""The labeling page's queue filter: all, to do, done and skipped, with exact counts, and
previous / next following the queue as filtered."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from scholia.core import queue
from scholia.core.models import Item
from scholia.core.runtime import Runtime

from .conftest import label_page, upload_images

Client = TestClient[Any]


@pytest.fixture
def worked(
    runtime: Runtime, project: dict[str, Any], client_for: Callable[..., Client]
) -> tuple[Client, list[int]]:
    """An annotator holding five items: the first two rated, the third skipped, two to do."""
    ids = upload_images(project["manager"], project["id"], 5)
    annotator = client_for("annotator", project=project["id"])
    # Opening the labeling page claims an item and holds a few more; the rest are taken here.
    assert annotator.post(f"/projects/{project['id']}/label").status_code == 200
    with runtime.session() as session:
        for item_id in ids:
            queue.ensure_slot(session, session.get(Item, item_id), annotator.user.id)  # type: ignore[arg-type, attr-defined]
    for item_id in ids[:2]:
        rated = annotator.post(
            f"/api/v1/items/{item_id}/annotations",
            json={"annotation_type": "rating", "payload": {"value": 4}},
        )
        assert rated.status_code == 201, rated.text
    skipped = annotator.post(f"/api/v1/items/{ids[2]}/skip", json={})
    assert skipped.status_code == 200, skipped.text
    return annotator, ids


def window(runtime: Runtime, project_id: int, user_id: int, around: int, **kw: Any) -> list[int]:
    with runtime.session() as session:
        return [i.id for i in queue.my_queue(session, project_id, user_id, around, **kw)]  # type: ignore[misc]


def test_each_filter_lists_only_its_items_in_id_order(
    runtime: Runtime, project: dict[str, Any], worked: tuple[Client, list[int]]
) -> None:
    annotator, ids = worked
    me, pid = annotator.user.id, project["id"]  # type: ignore[attr-defined]
    assert window(runtime, pid, me, ids[0]) == ids
    assert window(runtime, pid, me, ids[0], show="todo") == ids[3:]
    assert window(runtime, pid, me, ids[0], show="done") == ids[:2]
    assert window(runtime, pid, me, ids[0], show="skipped") == [ids[2]]


def test_a_filtered_window_is_read_around_an_item_outside_it(
    runtime: Runtime, project: dict[str, Any], worked: tuple[Client, list[int]]
) -> None:
    annotator, ids = worked
    me, pid = annotator.user.id, project["id"]  # type: ignore[attr-defined]
    # Around the skipped item, "to do" and "done" still list their items on either side.
    assert window(runtime, pid, me, ids[2], show="todo", before=1, after=0) == [ids[3]]
    assert window(runtime, pid, me, ids[2], show="done", before=1, after=5) == [ids[1]]
    assert window(runtime, pid, me, ids[4], before=1, after=0) == [ids[3], ids[4]]


def test_the_counts_are_exact_per_filter_and_per_annotator(
    runtime: Runtime,
    project: dict[str, Any],
    worked: tuple[Client, list[int]],
    client_for: Callable[..., Client],
) -> None:
    annotator, _ = worked
    other = client_for("annotator", project=project["id"])
    with runtime.session() as session:
        mine = queue.my_queue_counts(session, project["id"], annotator.user.id)  # type: ignore[attr-defined]
        theirs = queue.my_queue_counts(session, project["id"], other.user.id)  # type: ignore[attr-defined]
    assert mine == {"all": 5, "todo": 2, "done": 2, "skipped": 1}
    assert theirs == {"all": 0, "todo": 0, "done": 0, "skipped": 0}


def test_an_unknown_filter_is_refused_by_the_core_naming_the_choices(
    runtime: Runtime, project: dict[str, Any], worked: tuple[Client, list[int]]
) -> None:
    annotator, ids = worked
    with pytest.raises(ValueError, match="all, todo, done, skipped"):
        window(runtime, project["id"], annotator.user.id, ids[0], show="mine")  # type: ignore[attr-defined]


# --- the page -------------------------------------------------------------------------------


def queue_links(page: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" data-queue-item=', page)


def test_the_page_shows_the_filter_with_counts_and_keeps_it_on_every_link(
    project: dict[str, Any], worked: tuple[Client, list[int]]
) -> None:
    annotator, ids = worked
    pid = project["id"]
    page, state = label_page(annotator, pid, ids[3], "?queue=todo")
    counts = dict(re.findall(r'data-count="queue-(\w+)">(\d+)<', page))
    assert counts == {"all": "5", "todo": "2", "done": "2", "skipped": "1"}
    assert re.search(r'<a href="[^"]+\?queue=todo" data-queue-filter="todo" class="active"', page)
    assert queue_links(page) == [f"/projects/{pid}/label/{i}?queue=todo" for i in ids[3:]]
    assert f'href="/projects/{pid}/label?queue=todo" data-next-link' in page
    assert (state["queue"], state["query"]) == ("todo", "?queue=todo")
    assert (state["previous"], state["next"]) == (None, ids[4])


def test_previous_and_next_follow_the_filtered_queue_even_from_an_item_outside_it(
    project: dict[str, Any], worked: tuple[Client, list[int]]
) -> None:
    annotator, ids = worked
    _, state = label_page(annotator, project["id"], ids[4], "?queue=done")
    assert (state["previous"], state["next"]) == (ids[1], None)
    _, state = label_page(annotator, project["id"], ids[0], "?queue=done")
    assert (state["previous"], state["next"]) == (None, ids[1])
    _, state = label_page(annotator, project["id"], ids[2])
    assert (state["previous"], state["next"], state["query"]) == (ids[1], ids[3], "")


def test_an_empty_filter_says_so_and_an_unknown_one_shows_the_whole_queue(
    runtime: Runtime,
    project: dict[str, Any],
    worked: tuple[Client, list[int]],
) -> None:
    annotator, ids = worked
    with runtime.session() as session:
        for item_id in ids[3:]:
            item = session.get(Item, item_id)
            assert item is not None
            queue.skip(session, item, annotator.user.id)  # type: ignore[attr-defined]
    page, state = label_page(annotator, project["id"], ids[4], "?queue=todo")
    assert queue_links(page) == []
    assert "Nothing left to do in your queue." in page
    page, state = label_page(annotator, project["id"], ids[0], "?queue=everything")
    assert state["queue"] == "all" and len(queue_links(page)) == 5


def test_the_queue_redirect_keeps_the_filter(
    project: dict[str, Any], worked: tuple[Client, list[int]]
) -> None:
    annotator, ids = worked
    response = annotator.post(f"/projects/{project['id']}/label?queue=todo", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == f"/projects/{project['id']}/label/{ids[3]}?queue=todo"


def test_with_nothing_left_the_empty_queue_page_links_to_what_i_labeled(
    project: dict[str, Any], worked: tuple[Client, list[int]]
) -> None:
    annotator, ids = worked
    for item_id in ids[3:]:
        annotator.post(
            f"/api/v1/items/{item_id}/annotations",
            json={"annotation_type": "rating", "payload": {"value": 3}},
        )
    page = annotator.post(f"/projects/{project['id']}/label").text
    assert "Your queue is empty" in page
    assert f'href="/projects/{project["id"]}/label/{ids[0]}?queue=done" data-done-link' in page

"""Exact counters (per status, group, category), grid filters and keyset pages, in the core
and through the API."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, text
from sqlmodel import Session, col, select

from scholia.core import annotations, counts, items, labels, lifecycle, projects
from scholia.core.errors import InvalidInput
from scholia.core.item_state import ItemState
from scholia.core.models import Item, ItemCategory
from scholia.core.revisions import current_annotations
from scholia.core.runtime import Runtime
from tests.conftest import PG_URL, png_bytes, seed


def classified_project(
    runtime: Runtime,
    n: int,
    labels_of: Callable[[int], str | None],
    *,
    categories: tuple[str, ...] = ("cat", "dog", "bird", "fish"),
    annotation_types: tuple[str, ...] = ("classification",),
) -> tuple[int, int, list[int], dict[str, int]]:
    """A classification project with ``n`` items; item ``i`` gets the category named
    ``labels_of(i)`` (submitted through the core, so it ends ``labeled``) or stays unlabeled.
    Returns (user id, project id, item ids in order, category ids by name)."""
    user, project, first = seed(
        runtime,
        annotation_types=annotation_types,
        categories=categories,
        file=("item-000.png", png_bytes((0, 0, 0))),
    )
    assert user.id is not None and project.id is not None and first.id is not None
    ids = [first.id]
    with runtime.session() as session:
        stored = projects.get_project(session, project.id)
        for i in range(1, n):
            made = items.ingest(
                session,
                runtime.store,
                runtime.plugins,
                stored,
                name=f"item-{i:03}.png",
                source=io.BytesIO(png_bytes((i % 256, (i * 7) % 256, (i * 13) % 256))),
                actor_id=user.id,
            )
            assert made.created
            ids.append(made.item.id)  # type: ignore[arg-type]
        by_name = {c.name: c.id for c in labels.live_categories(session, project.id)}
        for i, item_id in enumerate(ids):
            name = labels_of(i)
            if name is not None:
                annotations.submit(
                    session,
                    runtime.plugins,
                    item_id=item_id,
                    annotator_id=user.id,
                    annotation_type="classification",
                    payload={"category_ids": [by_name[name]]},
                )
    return user.id, project.id, ids, by_name


CYCLE = ["cat", "cat", "dog", None, "bird", None]  # fish is never used


def by_cycle(i: int) -> str | None:
    return CYCLE[i % len(CYCLE)]


def truth(session: Session, project_id: int) -> dict[str, Any]:
    """The figures counted the naive way, straight from the rows."""
    rows = list(session.exec(select(Item).where(col(Item.project_id) == project_id)))
    pairs = list(
        session.exec(
            select(ItemCategory.category_id, func.count())
            .where(col(ItemCategory.project_id) == project_id)
            .group_by(col(ItemCategory.category_id))
        )
    )
    return {
        "statuses": {s.value: sum(1 for r in rows if r.status == s) for s in ItemState},
        "categories": dict(pairs),  # type: ignore[arg-type]
    }


def test_counts_are_exact_per_status_group_and_category(runtime: Runtime) -> None:
    user_id, project_id, ids, cats = classified_project(runtime, 18, by_cycle)
    with runtime.session() as session:
        lifecycle.transition(session, ids[0], "approved", actor_id=user_id)
        lifecycle.transition(session, ids[1], "needs_review", actor_id=user_id)
        lifecycle.transition(session, ids[3], "in_progress", actor_id=user_id)
        found = counts.project_counts(session, project_id)
        expected = truth(session, project_id)
    assert found.statuses == expected["statuses"]
    assert found.statuses == {
        "unlabeled": 5,
        "in_progress": 1,
        "labeled": 10,
        "skipped": 0,
        "needs_review": 1,
        "approved": 1,
        "rejected": 0,
        "adjudication": 0,
    }
    assert found.groups == {"all": 18, "unlabeled": 6, "in_review": 11, "done": 1}
    assert [(c.name, c.count) for c in found.categories] == [
        ("cat", 6),
        ("dog", 3),
        ("bird", 3),
        ("fish", 0),
    ]
    assert {c.id: c.count for c in found.categories if c.count} == expected["categories"]
    assert cats["fish"] not in expected["categories"]


def test_project_summaries_count_in_the_same_place(runtime: Runtime) -> None:
    _, project_id, _, _ = classified_project(runtime, 6, by_cycle)
    with runtime.session() as session:
        assert projects.summarize(session, project_id).counts == (
            counts.project_counts(session, project_id).statuses
        )


def test_a_soft_deleted_category_leaves_the_category_counts(runtime: Runtime) -> None:
    user_id, project_id, _, cats = classified_project(runtime, 6, by_cycle)
    with runtime.session() as session:
        labels.update_category(session, project_id, cats["bird"], actor_id=user_id, deleted=True)
        names = [c.name for c in counts.category_counts(session, project_id)]
    assert names == ["cat", "dog", "fish"]


def test_filters_and_keyset_pages(runtime: Runtime) -> None:
    user_id, project_id, ids, cats = classified_project(runtime, 23, by_cycle)
    with runtime.session() as session:
        done = [ids[0], ids[1], ids[2], ids[4]]
        for item_id in done:
            lifecycle.transition(session, item_id, "approved", actor_id=user_id)

        def walk(**filters: Any) -> list[int]:
            seen: list[int] = []
            after = None
            while True:
                found = items.list_items(session, project_id, after_id=after, limit=5, **filters)
                if not found:
                    return seen
                seen += [i.id for i in found]  # type: ignore[misc]
                after = found[-1].id

        def walk_back(**filters: Any) -> list[int]:
            pages = [items.list_items(session, project_id, last=True, limit=5, **filters)]
            while pages[-1]:
                pages.append(
                    items.list_items(
                        session, project_id, before_id=pages[-1][0].id, limit=5, **filters
                    )
                )
            return [i.id for page in reversed(pages) for i in page]  # type: ignore[misc]

        status = {i.id: i.status for i in session.exec(select(Item))}
        cat_of = {r.item_id: r.category_id for r in session.exec(select(ItemCategory))}
        expectations: list[tuple[dict[str, Any], list[int]]] = [
            ({}, ids),
            ({"group": "all"}, ids),
            ({"group": "unlabeled"}, [i for i in ids if status[i] == "unlabeled"]),
            ({"group": "in_review"}, [i for i in ids if status[i] == "labeled"]),
            ({"group": "done"}, done),
            ({"status": "approved"}, done),
            ({"category_id": cats["cat"]}, [i for i in ids if cat_of.get(i) == cats["cat"]]),
            ({"category_id": cats["fish"]}, []),
            (
                {"category_id": cats["cat"], "group": "done"},
                [i for i in done if cat_of.get(i) == cats["cat"]],
            ),
            ({"status": "approved", "group": "unlabeled"}, []),
        ]
        for filters, expected in expectations:
            assert walk(**filters) == expected, filters
            assert walk_back(**filters) == expected, filters
        last = items.list_items(session, project_id, last=True, limit=5)
        assert [i.id for i in last] == ids[-5:]
        with pytest.raises(InvalidInput, match="Unknown group 'nope'"):
            items.list_items(session, project_id, group="nope")
        with pytest.raises(InvalidInput, match="Unknown status"):
            items.list_items(session, project_id, status="done")
        with pytest.raises(InvalidInput, match="not both"):
            items.list_items(session, project_id, after_id=1, last=True)


@pytest.mark.skipif(PG_URL is not None, reason="EXPLAIN QUERY PLAN is SQLite's")
def test_grid_pages_read_an_index_range_not_the_table(runtime: Runtime) -> None:
    _, project_id, _, cats = classified_project(runtime, 4, by_cycle)
    statements: list[str] = []
    from sqlalchemy import event

    def record(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM item" in statement:
            statements.append((statement, params))  # type: ignore[arg-type]

    event.listen(runtime.engine, "before_cursor_execute", record)
    try:
        with runtime.session() as session:
            for kwargs in (
                {},
                {"last": True},
                {"after_id": 2},
                {"group": "in_review"},
                {"group": "done", "last": True},
                {"status": "labeled", "before_id": 3},
                {"category_id": cats["cat"]},
                {"category_id": cats["cat"], "last": True, "group": "in_review"},
            ):
                items.list_items(session, project_id, limit=10, **kwargs)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", record)
    assert statements
    with runtime.engine.connect() as connection:
        for statement, params in statements:
            plan = " | ".join(
                row[-1]
                for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            )
            assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, (statement, plan)
            assert "TEMP B-TREE" not in plan, (statement, plan)  # no sort of every match
            assert "SCAN item" not in plan.replace("SCAN item_category", ""), plan


def test_counts_api(runtime: Runtime, api_for: Callable[..., TestClient[Any]]) -> None:
    _, project_id, _, cats = classified_project(runtime, 12, by_cycle)
    body = (
        api_for("reviewer", project=project_id).get(f"/api/v1/projects/{project_id}/counts").json()
    )
    assert body["groups"] == {"all": 12, "unlabeled": 4, "in_review": 8, "done": 0}
    assert body["statuses"]["labeled"] == 8
    assert body["categories"] == [
        {"id": cats["cat"], "name": "cat", "count": 4},
        {"id": cats["dog"], "name": "dog", "count": 2},
        {"id": cats["bird"], "name": "bird", "count": 2},
        {"id": cats["fish"], "name": "fish", "count": 0},
    ]
    assert (
        api_for("reviewer", project=project_id).get("/api/v1/projects/999/counts").status_code
        == 404
    )


def test_list_items_api_filters_and_pages(
    runtime: Runtime, api_for: Callable[..., TestClient[Any]]
) -> None:
    _, project_id, ids, cats = classified_project(runtime, 12, by_cycle)
    client = api_for("reviewer", project=project_id)
    url = f"/api/v1/projects/{project_id}/items"
    cat_ids = [i for n, i in enumerate(ids) if by_cycle(n) == "cat"]
    first = client.get(url, params={"category": cats["cat"], "limit": 3}).json()
    assert [i["id"] for i in first["items"]] == cat_ids[:3]
    assert first["next_after"] == cat_ids[2]
    rest = client.get(url, params={"category": cats["cat"], "after": cat_ids[2]}).json()
    assert [i["id"] for i in rest["items"]] == cat_ids[3:] and rest["next_after"] is None
    last = client.get(url, params={"last": "true", "limit": 5}).json()
    assert [i["id"] for i in last["items"]] == ids[-5:] and last["next_after"] is None
    back = client.get(url, params={"before": ids[-5], "limit": 5}).json()
    assert [i["id"] for i in back["items"]] == ids[-10:-5]
    assert back["next_after"] == ids[-6]
    unl = client.get(url, params={"group": "unlabeled"}).json()
    assert [i["id"] for i in unl["items"]] == [i for n, i in enumerate(ids) if by_cycle(n) is None]
    bad = client.get(url, params={"group": "finished"})
    assert bad.status_code == 422 and "groups are all, unlabeled, in_review, done" in bad.text
    unknown = client.get(url, params={"category": 77})
    assert unknown.status_code == 422 and "has no category 77" in unknown.text
    both = client.get(url, params={"after": 1, "before": 5})
    assert both.status_code == 422


def test_counts_match_the_database_row_count(runtime: Runtime) -> None:
    _, project_id, _, _ = classified_project(runtime, 9, by_cycle)
    with runtime.session() as session:
        raw = session.execute(
            text("SELECT count(*) FROM item WHERE project_id = :p"), {"p": project_id}
        ).scalar_one()
        assert counts.project_counts(session, project_id).total == raw == 9


def test_counts_kept_by_the_database_equal_a_count_through_every_kind_of_change(
    runtime: Runtime,
) -> None:
    """Submissions, a revision that changes the category, transitions and a fold: the counter
    rows the triggers write always sum to what ``COUNT`` says, in the writer's transaction."""
    user_id, project_id, ids, cats = classified_project(runtime, 12, by_cycle)
    _, other_project, _, _ = classified_project(runtime, 3, by_cycle)
    with runtime.session() as session:
        (first,) = current_annotations(session, ids[0])
        annotations.submit(  # ids[0] was cat: now dog
            session,
            runtime.plugins,
            supersedes_id=first.id,
            item_id=ids[0],
            annotator_id=user_id,
            annotation_type="classification",
            payload={"category_ids": [cats["dog"]]},
        )
        lifecycle.transition(session, ids[1], "approved", actor_id=user_id)
        lifecycle.transition(session, ids[3], "in_progress", actor_id=user_id)
        # Inside the writer's own transaction, before commit, the counts already agree.
        kept, exact = (
            counts.project_counts(session, project_id),
            counts.exact_counts(session, project_id),
        )
        assert (kept.statuses, kept.categories) == (exact.statuses, exact.categories)
        assert kept.statuses["approved"] == 1 and kept.statuses["in_progress"] == 1
    with runtime.session() as session:
        before = counts.project_counts(session, project_id)
        assert before.statuses == counts.exact_counts(session, project_id).statuses
        assert before.categories == counts.exact_counts(session, project_id).categories
        assert before.changes > len([n for n in before.statuses.values() if n])
        removed = counts.fold(session, project_id)
    assert removed == before.changes
    with runtime.session() as session:
        after = counts.project_counts(session, project_id)
        assert (after.statuses, after.categories) == (before.statuses, before.categories)
        # One row per key left: a state or a category in use.
        in_use = [n for n in after.statuses.values() if n] + [
            c for c in after.categories if c.count
        ]
        assert after.changes == len(in_use)
        other = counts.exact_counts(session, other_project)
        assert counts.project_counts(session, other_project).statuses == other.statuses

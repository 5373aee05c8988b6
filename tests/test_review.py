"""Review decisions: the core (per-item, refusals named), the API and the review page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlmodel import col, select

from scholia.core import annotations, counts, items, lifecycle, review
from scholia.core.errors import Conflict, InvalidInput
from scholia.core.models import AuditEvent, Item, Review
from scholia.core.runtime import Runtime
from tests.conftest import export, labels_of, seed
from tests.test_counts import by_cycle, classified_project


def test_decide_per_item_names_the_refused_and_records_the_reviewer(
    runtime: Runtime, make_user: Callable[..., Any]
) -> None:
    _, project_id, ids, _ = classified_project(runtime, 6, by_cycle)
    # by_cycle: ids[0..2] and ids[4] labeled, ids[3] and ids[5] unlabeled
    reviewer = make_user("reviewer")
    with runtime.session() as session:
        result = review.decide(
            session,
            item_ids=[ids[0], ids[1], ids[3], ids[0]],
            decision="approved",
            reviewer_id=reviewer.id,
            comment="  looks right ",
            project_id=project_id,
        )
    assert result.decided == [ids[0], ids[1]]
    assert len(result.refused) == 1
    refused = result.refused[0]
    assert (refused.item_id, refused.current, refused.allowed) == (
        ids[3],
        "unlabeled",
        ["in_progress"],
    )
    assert "cannot move to 'approved'" in refused.message
    with runtime.session() as session:
        status = {i.id: i.status for i in session.exec(select(Item))}
        rows = list(session.exec(select(Review).order_by(col(Review.id))))
        events = list(
            session.exec(
                select(AuditEvent).where(
                    col(AuditEvent.action) == "transition", col(AuditEvent.to_state) == "approved"
                )
            )
        )
    assert status[ids[0]] == status[ids[1]] == "approved" and status[ids[3]] == "unlabeled"
    assert [(r.item_id, r.reviewer_id, r.decision, r.comment) for r in rows] == [
        (ids[0], reviewer.id, "approved", "looks right"),
        (ids[1], reviewer.id, "approved", "looks right"),
    ]
    assert sorted(int(e.entity_id) for e in events) == [ids[0], ids[1]]
    assert {(e.actor_id, e.from_state, e.reason) for e in events} == {
        (reviewer.id, "labeled", "looks right")
    }


def test_a_decision_twice_is_refused_the_second_time(
    runtime: Runtime, make_user: Callable[..., Any]
) -> None:
    _, _, ids, _ = classified_project(runtime, 3, by_cycle)
    reviewer = make_user("reviewer")
    with runtime.session() as session:
        review.decide(session, item_ids=[ids[0]], decision="approved", reviewer_id=reviewer.id)
    with runtime.session() as session:
        again = review.decide(
            session, item_ids=[ids[0], ids[1]], decision="approved", reviewer_id=reviewer.id
        )
        needs = review.decide(
            session, item_ids=[ids[0]], decision="needs_review", reviewer_id=reviewer.id
        )
    assert again.decided == [ids[1]]
    assert again.refused[0].current == "approved"
    assert again.refused[0].allowed == ["in_progress", "needs_review"]
    assert needs.decided == [ids[0]]  # an approved item can be sent back
    with runtime.session() as session:
        reviews = list(session.exec(select(Review.decision).order_by(col(Review.id))))
        assert reviews == ["approved", "approved", "needs_review"]
        assert session.get(Item, ids[0]).status == "needs_review"  # type: ignore[union-attr]


def test_bad_decisions_are_clear_errors(runtime: Runtime, make_user: Callable[..., Any]) -> None:
    _, project_id, ids, _ = classified_project(runtime, 2, by_cycle)
    _, _, other_item = seed(runtime, categories=("x",))
    reviewer = make_user("reviewer")
    with runtime.session() as session:
        with pytest.raises(InvalidInput, match="Unknown decision 'labeled'"):
            review.decide(session, item_ids=ids, decision="labeled", reviewer_id=reviewer.id)
        with pytest.raises(InvalidInput, match="Select at least one item"):
            review.decide(session, item_ids=[], decision="approved", reviewer_id=reviewer.id)
        # Another project's item (or no item) is a mistake in the request: named by its
        # index, and nothing is decided, not even the good ids before it.
        with pytest.raises(InvalidInput, match=f"Project {project_id} has no item") as other:
            review.decide(
                session,
                item_ids=[ids[0], other_item.id, 424242],  # type: ignore[list-item]
                decision="approved",
                reviewer_id=reviewer.id,
                project_id=project_id,
            )
        assert other.value.path == "$.item_ids[1]"
    with runtime.session() as session:
        assert session.exec(select(Review)).all() == []


def test_issues_panel_counts_missing_labels_and_skipped(runtime: Runtime) -> None:
    user_id, project_id, ids, _ = classified_project(
        runtime, 5, by_cycle, annotation_types=("classification", "rating")
    )
    with runtime.session() as session:
        # ids[3]: labeled with a rating only (no category); ids[2]: skipped
        annotations.submit(
            session,
            runtime.plugins,
            item_id=ids[3],
            annotator_id=user_id,
            annotation_type="rating",
            payload={"value": 3},
        )
        lifecycle.transition(session, ids[2], "in_progress", actor_id=user_id)
        lifecycle.transition(session, ids[2], "skipped", actor_id=user_id)
        found = counts.issues(session, project_id)
    assert (found.missing_labels, found.missing_label_ids) == (1, [ids[3]])
    assert (found.skipped, found.skipped_ids) == (1, [ids[2]])


def test_review_api_changes_the_counts_exactly(
    runtime: Runtime, api_for: Callable[..., TestClient[Any]]
) -> None:
    _, project_id, ids, cats = classified_project(runtime, 12, by_cycle)
    reviewer = api_for("reviewer", project=project_id)
    url = f"/api/v1/projects/{project_id}"
    before = reviewer.get(f"{url}/counts").json()
    assert before["groups"] == {"all": 12, "unlabeled": 4, "in_review": 8, "done": 0}
    cat_items = reviewer.get(f"{url}/items", params={"category": cats["cat"]}).json()["items"]
    chosen = [i["id"] for i in cat_items] + [ids[3]]  # ids[3] is unlabeled
    response = reviewer.post(f"{url}/reviews", json={"item_ids": chosen, "decision": "approved"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["decided"] == chosen[:-1] and len(chosen) == 5
    assert body["refused"] == [
        {
            "item_id": ids[3],
            "current": "unlabeled",
            "allowed": ["in_progress"],
            "message": body["refused"][0]["message"],
        }
    ]
    after = reviewer.get(f"{url}/counts").json()
    assert after["groups"] == {"all": 12, "unlabeled": 4, "in_review": 4, "done": 4}
    assert after["statuses"]["approved"] == 4 and after["statuses"]["labeled"] == 4
    assert after["categories"] == before["categories"]  # labels unchanged by a review
    with runtime.session() as session:
        rows = list(session.exec(select(Review)))
    assert {r.reviewer_id for r in rows} == {reviewer.user.id}  # type: ignore[attr-defined]
    assert len(rows) == 4


def test_review_api_needs_the_reviewer_role(
    runtime: Runtime, api_for: Callable[..., TestClient[Any]]
) -> None:
    _, project_id, ids, _ = classified_project(runtime, 2, by_cycle)
    payload = {"item_ids": ids, "decision": "approved"}
    url = f"/api/v1/projects/{project_id}/reviews"
    denied = api_for("annotator", project=project_id).post(url, json=payload)
    assert denied.status_code == 403 and "reviewer role" in denied.text
    assert api_for("manager", project=project_id).post(url, json=payload).status_code == 200
    bad = api_for("reviewer", project=project_id).post(
        url, json={"item_ids": ids, "decision": "ok"}
    )
    assert bad.status_code == 422 and "Unknown decision 'ok'" in bad.text
    assert (
        api_for("reviewer", project=project_id)
        .post("/api/v1/projects/999/reviews", json=payload)
        .status_code
        == 404
    )


def test_review_page_bulk_approve_refreshes_counts_and_grid(
    runtime: Runtime, client_for: Callable[..., TestClient[Any]]
) -> None:
    _, project_id, ids, cats = classified_project(runtime, 12, by_cycle)
    reviewer = client_for("reviewer", project=project_id)
    page = reviewer.get(f"/projects/{project_id}/review", params={"category": cats["dog"]})
    assert page.status_code == 200
    assert 'data-count="group-in_review">8<' in page.text
    assert f'data-count="category-{cats["dog"]}">2<' in page.text
    dog_ids = [i for n, i in enumerate(ids) if by_cycle(n) == "dog"]
    for item_id in dog_ids:
        assert f'name="item_ids" value="{item_id}"' in page.text
    assert f'name="item_ids" value="{ids[0]}"' not in page.text  # a cat: filtered out
    response = reviewer.post(
        f"/projects/{project_id}/review",
        data={
            "item_ids": [*dog_ids, str(ids[3])],
            "decision": "approved",
            "category": str(cats["dog"]),
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.text
    text = response.text
    assert text.lstrip().startswith('<div id="review"')  # the partial htmx swaps in
    assert "Approved: 2 item(s)." in text
    assert f'data-refused-item="{ids[3]}"' in text and "is &#39;unlabeled&#39;" in text
    assert 'data-count="group-done">2<' in text and 'data-count="group-in_review">6<' in text
    with runtime.session() as session:
        assert {session.get(Item, i).status for i in dog_ids} == {"approved"}  # type: ignore[union-attr]


def test_review_page_without_htmx_redirects_with_the_outcome(
    runtime: Runtime, client_for: Callable[..., TestClient[Any]]
) -> None:
    _, project_id, ids, _ = classified_project(runtime, 3, by_cycle)
    reviewer = client_for("reviewer", project=project_id)
    response = reviewer.post(
        f"/projects/{project_id}/review",
        data={"item_ids": [str(ids[0])], "decision": "needs_review", "group": "in_review"},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303)
    assert response.headers["location"] == f"/projects/{project_id}/review?group=in_review"
    shown = reviewer.get(response.headers["location"])
    assert "Sent back for review: 1 item(s)." in shown.text


def test_review_page_is_for_reviewers_and_linked_from_the_project(
    runtime: Runtime, client_for: Callable[..., TestClient[Any]]
) -> None:
    _, project_id, _, _ = classified_project(runtime, 3, by_cycle)
    annotator = client_for("annotator", project=project_id)
    assert annotator.get(f"/projects/{project_id}/review").status_code == 403
    assert (
        annotator.post(
            f"/projects/{project_id}/review", data={"item_ids": ["1"], "decision": "approved"}
        ).status_code
        == 403
    )
    assert (
        f'href="/projects/{project_id}/review"' not in annotator.get(f"/projects/{project_id}").text
    )
    manager_page = client_for("manager", project=project_id).get(f"/projects/{project_id}").text
    assert f'href="/projects/{project_id}/review"' in manager_page


def test_project_grid_filters_counts_and_pager(
    runtime: Runtime, client_for: Callable[..., TestClient[Any]]
) -> None:
    _, project_id, ids, cats = classified_project(runtime, 60, by_cycle)
    client = client_for("reviewer", project=project_id)
    first = client.get(f"/projects/{project_id}").text
    assert 'data-count="group-all">60<' in first
    assert (
        'data-count="group-unlabeled">20<' in first and 'data-count="group-in_review">40<' in first
    )
    assert f'data-count="category-{cats["cat"]}">20<' in first
    assert f'data-item-id="{ids[0]}"' in first and f'data-item-id="{ids[48]}"' not in first
    assert f'href="/projects/{project_id}?last=1"' in first
    last = client.get(f"/projects/{project_id}", params={"last": "1"}).text
    assert f'data-item-id="{ids[-1]}"' in last and f'data-item-id="{ids[11]}"' not in last
    assert f'data-item-id="{ids[12]}"' in last
    assert f'href="/projects/{project_id}?before={ids[12]}"' in last
    cat_page = client.get(f"/projects/{project_id}", params={"category": cats["cat"]}).text
    assert cat_page.count('class="thumb"') == 20
    empty = client.get(
        f"/projects/{project_id}", params={"group": "done", "category": cats["cat"]}
    ).text
    assert "No items here" in empty


def _commented(runtime: Runtime, labeled: dict[str, Any]) -> int:
    """Item 5 of ``labeled`` sent back, relabeled, then approved, each with a comment."""
    item_id = labeled["ids"][4]
    reviewer = labeled["reviewer"].id
    with runtime.session() as session:
        review.decide(
            session,
            item_ids=[item_id],
            decision="rejected",
            reviewer_id=reviewer,
            comment="The dog is hidden by the bird; label what you see.",
        )
        lifecycle.transition(session, item_id, "in_progress", actor_id=reviewer, reason="reopen")
        lifecycle.transition(session, item_id, "labeled", actor_id=reviewer, reason="relabel")
        review.decide(
            session,
            item_ids=[item_id],
            decision="approved",
            reviewer_id=reviewer,
            comment="Fine now.",
        )
    return int(item_id)


def test_review_comments_are_shown_on_the_item_page(
    runtime: Runtime, labeled: dict[str, Any], client_for: Callable[..., TestClient[Any]]
) -> None:
    item_id = _commented(runtime, labeled)
    text = client_for("admin").get(f"/projects/{labeled['project'].id}/items/{item_id}").text
    section = text[text.index('<section class="card" id="reviews">') :]
    first = section.index("The dog is hidden by the bird; label what you see.")
    assert first < section.index("Fine now.")
    assert labeled["reviewer"].display_name in section


def test_review_comments_are_in_the_dataset_provenance(
    runtime: Runtime, labeled: dict[str, Any]
) -> None:
    item_id = _commented(runtime, labeled)
    version = export(runtime, labeled["project"].id)
    (entry,) = [e for e in labels_of(runtime, version) if e["item_id"] == item_id]
    assert entry["review"]["decision"] == "approved"
    assert entry["review"]["comment"] == "Fine now."
    assert [(r["decision"], r["comment"]) for r in entry["reviews"]] == [
        ("rejected", "The dog is hidden by the bird; label what you see."),
        ("approved", "Fine now."),
    ]
    assert {r["reviewer"] for r in entry["reviews"]} == {labeled["reviewer"].pseudonym}


def test_deciding_on_every_matching_item_goes_in_batches_and_resumes_without_doubles(
    runtime: Runtime, make_user: Callable[..., Any]
) -> None:
    # by_cycle over 14 items: cat, cat, dog, -, bird, - ...: 10 labeled, 4 unlabeled.
    _, project_id, ids, cats = classified_project(runtime, 14, by_cycle)
    reviewer = make_user("reviewer")
    everything = review.ItemFilter()
    with runtime.session() as session:
        assert items.count_items(session, project_id) == 14
        first = review.decide_matching(
            session,
            project_id=project_id,
            matching=everything,
            decision="approved",
            reviewer_id=reviewer.id,
            expected=14,
            batch=4,
        )
    # The first batch: ids[0..3], of which ids[3] is unlabeled and stays so.
    assert first.decided == ids[0:3] and first.refused == {"unlabeled": 1}
    assert first.next_after == ids[3]
    # Resumed from the cursor, batch after batch, until none is left.
    seen = list(first.decided)
    cursor = first.next_after
    while cursor is not None:
        with runtime.session() as session:
            batch = review.decide_matching(
                session,
                project_id=project_id,
                matching=everything,
                decision="approved",
                reviewer_id=reviewer.id,
                after_id=cursor,
                batch=4,
            )
        seen += batch.decided
        cursor = batch.next_after
    labeled = [i for n, i in enumerate(ids) if by_cycle(n) is not None]
    assert seen == labeled
    with runtime.session() as session:
        assert [r.item_id for r in session.exec(select(Review).order_by(col(Review.id)))] == labeled
        kept = counts.project_counts(session, project_id)
        assert kept.statuses == counts.exact_counts(session, project_id).statuses
        assert kept.groups["done"] == 10
        # A filter by category and state counts what it pages through.
        assert items.count_items(session, project_id, category_id=cats["cat"]) == 6
        assert items.count_items(session, project_id, group="done", category_id=cats["dog"]) == 2
        assert items.count_items(session, project_id, name="item-00") == 10


def test_a_stale_selection_of_all_matching_items_decides_nothing(
    runtime: Runtime, make_user: Callable[..., Any]
) -> None:
    _, project_id, ids, _ = classified_project(runtime, 6, by_cycle)
    reviewer = make_user("reviewer")
    in_review = review.ItemFilter(group="in_review")
    with runtime.session() as session:  # the reviewer saw 4; a colleague approves one
        review.decide(session, item_ids=[ids[0]], decision="approved", reviewer_id=reviewer.id)
    stale = "matched 4 items when they were selected and matches 3"
    with runtime.session() as session, pytest.raises(Conflict, match=stale):
        review.decide_matching(
            session,
            project_id=project_id,
            matching=in_review,
            decision="needs_review",
            reviewer_id=reviewer.id,
            expected=4,
        )
    with runtime.session() as session:
        assert len(session.exec(select(Review)).all()) == 1


def test_grid_search_annotator_filter_and_sorted_keyset_pages(
    runtime: Runtime, make_user: Callable[..., Any]
) -> None:
    user_id, project_id, ids, _ = classified_project(runtime, 9, by_cycle)
    with runtime.session() as session:
        # Names item-000 .. item-008; sorted by name descending, three per page.
        page1 = items.list_items(session, project_id, sort="-name", limit=3)
        page2 = items.list_items(session, project_id, sort="-name", after_id=page1[-1].id, limit=3)
        back = items.list_items(session, project_id, sort="-name", before_id=page2[0].id, limit=3)
        last = items.list_items(session, project_id, sort="-name", last=True, limit=3)
        assert [i.name for i in page1] == ["item-008.png", "item-007.png", "item-006.png"]
        assert [i.name for i in page2] == ["item-005.png", "item-004.png", "item-003.png"]
        assert back == page1
        assert [i.name for i in last] == ["item-002.png", "item-001.png", "item-000.png"]
        # A search is a substring of the name, any case, with % and _ taken literally.
        assert [i.id for i in items.list_items(session, project_id, name="EM-00")] == ids
        assert items.list_items(session, project_id, name="item_0") == []
        assert [i.id for i in items.list_items(session, project_id, name="-004")] == [ids[4]]
        # The annotator who submitted: the seeded user labeled 6 of the 9.
        mine = items.list_items(session, project_id, annotator_id=user_id)
        assert [i.id for i in mine] == [i for n, i in enumerate(ids) if by_cycle(n)]
        by_group = items.list_items(
            session, project_id, group="in_review", annotator_id=user_id, sort="-added"
        )
        assert [i.id for i in by_group] == [i.id for i in mine][::-1]
        with pytest.raises(InvalidInput, match="Unknown sort"):
            items.list_items(session, project_id, sort="agreement")


def test_review_api_on_every_matching_item_and_its_hostile_cases(
    runtime: Runtime, api_for: Callable[..., TestClient[Any]]
) -> None:
    _, project_id, ids, cats = classified_project(runtime, 12, by_cycle)
    _, _, other_ids, _ = classified_project(runtime, 2, by_cycle)
    reviewer = api_for("reviewer", project=project_id)
    annotator = api_for("annotator", project=project_id)
    url = f"/api/v1/projects/{project_id}"
    counted = reviewer.get(f"{url}/items/count", params={"category": cats["cat"]})
    assert counted.status_code == 200 and counted.json() == {"total": 4}
    body = {"matching": {"category": cats["cat"]}, "decision": "approved", "expected": 4}

    # An annotator cannot review: 403 naming the role.
    refused = annotator.post(f"{url}/reviews/matching", json=body)
    assert refused.status_code == 403 and "reviewer" in refused.text
    # Another project's item in a list of ids: 422 at its index.
    mixed = reviewer.post(
        f"{url}/reviews", json={"item_ids": [ids[0], other_ids[0]], "decision": "approved"}
    )
    assert mixed.status_code == 422
    assert "$.item_ids[1]" in mixed.text and f"has no item {other_ids[0]}" in mixed.text
    # A category of another project, a negative id, a stale count.
    bad = reviewer.post(f"{url}/reviews/matching", json={**body, "matching": {"category": 999_999}})
    assert bad.status_code == 422 and "$.matching.category" in bad.text
    negative = reviewer.post(f"{url}/reviews/matching", json={**body, "matching": {"category": -1}})
    assert negative.status_code == 400 and "$.matching.category" in negative.text
    stale = reviewer.post(f"{url}/reviews/matching", json={**body, "expected": 5})
    assert stale.status_code == 409 and "$.expected" in stale.text

    done = reviewer.post(f"{url}/reviews/matching", json=body)
    assert done.status_code == 200, done.text
    assert done.json() == {
        "decision": "approved",
        "decided": [i for n, i in enumerate(ids) if by_cycle(n) == "cat"],
        "refused": {},
        "next_after": None,
    }
    assert reviewer.get(f"{url}/counts").json()["groups"]["done"] == 4
    found = reviewer.get(f"{url}/items", params={"q": "item-00", "sort": "-name", "limit": 3})
    assert [i["name"] for i in found.json()["items"]] == [
        "item-009.png",
        "item-008.png",
        "item-007.png",
    ]
    assert reviewer.get(f"{url}/items", params={"sort": "agreement"}).status_code == 422
    with runtime.session() as session:
        assert session.get(Item, other_ids[0]).status == "labeled"  # type: ignore[union-attr]


def test_item_page_shows_the_review_history_and_decides_from_there(
    runtime: Runtime, client_for: Callable[..., TestClient[Any]]
) -> None:
    _, project_id, ids, _ = classified_project(runtime, 3, by_cycle)
    reviewer = client_for("reviewer", project=project_id)
    item_url = f"/projects/{project_id}/items/{ids[0]}"
    shown = reviewer.get(item_url).text
    assert "No review yet." in shown and "data-item-review" in shown
    # The raw payload is behind a disclosure; the type's view draws it (static/editors.js).
    assert '<details class="annotation-json" data-raw-json><summary>Raw JSON</summary>' in shown
    response = reviewer.post(
        f"/projects/{project_id}/review",
        data={
            "item_ids": [str(ids[0])],
            "decision": "rejected",
            "comment": "Both animals are visible",
            "back": item_url,
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == item_url
    shown = reviewer.get(item_url).text
    assert "Rejected: 1 item(s)." in shown
    assert 'class="review-comment">Both animals are visible</blockquote>' in shown
    # Anywhere else than this project's item pages, back is ignored.
    elsewhere = reviewer.post(
        f"/projects/{project_id}/review",
        data={"item_ids": [str(ids[1])], "decision": "approved", "back": "https://evil.test/"},
        follow_redirects=False,
    )
    assert elsewhere.headers["location"] == f"/projects/{project_id}/review"

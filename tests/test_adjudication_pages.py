"""Adjudication from the web and the API: the backlog of items the annotators disagreed on,
a case's versions side by side with each annotator's evidence, and the decision (reasoning
required) that approves the item and moves on to the next case."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlmodel import col, select

from scholia.core import annotations
from scholia.core.models import Adjudication, Annotation, Item, User
from scholia.core.runtime import Runtime
from tests.browser.labeling import labeling_project

from .conftest import add_member, csrf_token

Client = TestClient[Any]
CAT, DOG, BIRD = 1, 2, 3
CONFIDENCE = ("certain", "probable", "uncertain")


def disputed(
    runtime: Runtime, make_user: Callable[..., User], votes: list[list[int]]
) -> dict[str, Any]:
    """A classification project (cat, dog, bird) with overlap ``len(votes[0])``: item n gets
    the categories ``votes[n]``, one per annotator, each with time spent, confidence and
    reasoning; items are submitted in order, so they are routed in order."""
    manager = make_user("manager")
    overlap = len(votes[0])
    project_id = labeling_project(
        runtime, manager, count=len(votes), name="Disputes", settings={"overlap": overlap}
    )
    people = [make_user("annotator") for _ in range(overlap)]
    with runtime.session() as session:
        ids = [
            i.id
            for i in session.exec(
                select(Item).where(col(Item.project_id) == project_id).order_by(col(Item.id))
            )
        ]
    for item_id, picks in zip(ids, votes, strict=True):
        for n, (person, category) in enumerate(zip(people, picks, strict=True)):
            with runtime.session() as session:
                annotations.submit(
                    session,
                    runtime.plugins,
                    item_id=item_id,  # type: ignore[arg-type]
                    annotator_id=person.id,  # type: ignore[arg-type]
                    annotation_type="classification",
                    payload={"category_ids": [category]},
                    time_spent_ms=1500 + 1000 * n,
                    annotator_confidence=CONFIDENCE[n % 3],
                    reasoning=f"reason {n} on item {item_id}",
                )
    return {"project_id": project_id, "ids": ids, "annotators": people}


def status_of(runtime: Runtime, item_id: int) -> str:
    with runtime.session() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return item.status


def text_of(response: Any) -> str:
    return html.unescape(response.text)


def version_radios(page: str) -> list[str]:
    """The version radios of a case page, in order."""
    return re.findall(r'<input type="radio" name="annotation_id"[^>]*>', page)


def checked_version(page: str) -> int | None:
    """Which version (1, 2…) is selected on a case page, if any."""
    picked = [n for n, tag in enumerate(version_radios(page), 1) if re.search(r"\bchecked\b", tag)]
    assert len(picked) <= 1
    return picked[0] if picked else None


def version_choice(page: str, number: int) -> str:
    """The annotation id that picking version ``number`` sends."""
    found = re.search(r'value="([^"]+)"', version_radios(page)[number - 1])
    assert found
    return found.group(1)


@pytest.fixture
def adjudicator(client_for: Callable[..., Client]) -> Client:
    return client_for("adjudicator")


# --- the backlog ------------------------------------------------------------------------------


def test_items_the_annotators_disagree_on_are_in_the_backlog_page(
    runtime: Runtime, make_user: Callable[..., User], adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG], [DOG, DOG], [BIRD, CAT]])
    add_member(runtime, case["project_id"], adjudicator.user)  # type: ignore[attr-defined]
    first, agreed, third = case["ids"]
    response = adjudicator.get(f"/projects/{case['project_id']}/adjudication")
    assert response.status_code == 200, response.text
    page = text_of(response)
    rows = re.findall(r'<tr data-case="(\d+)">(.*?)</tr>', page, re.S)
    assert [int(i) for i, _ in rows] == [first, third]
    assert "data-backlog-count>2</span>" in page
    for _, row in rows:
        assert "agreement 0.00 below 0.50 (2 annotators)" in row
        assert re.search(r"data-versions>2<", row)
        assert "/thumb?" in row
        assert "just now" in row
    assert status_of(runtime, agreed) == "labeled"
    assert (
        f'href="/projects/{case["project_id"]}/adjudication/{first}" data-start-adjudicating'
        in page
    )


def test_an_empty_backlog_says_it_is_clear(
    runtime: Runtime, make_user: Callable[..., User], adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[CAT, CAT]])
    add_member(runtime, case["project_id"], adjudicator.user)  # type: ignore[attr-defined]
    page = text_of(adjudicator.get(f"/projects/{case['project_id']}/adjudication"))
    assert "The backlog is clear" in page
    assert "data-case=" not in page
    assert "data-backlog-count>0</span>" in page


def test_only_adjudicators_and_admins_adjudicate(
    runtime: Runtime, make_user: Callable[..., User], client_for: Callable[..., Client]
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG]])
    project_id, item_id = case["project_id"], case["ids"][0]
    for role in ("annotator", "reviewer", "manager"):
        client = client_for(role, project=case["project_id"])
        assert client.get(f"/projects/{project_id}/adjudication").status_code == 403
        assert client.get(f"/projects/{project_id}/adjudication/{item_id}").status_code == 403
        refused = client.post(
            f"/projects/{project_id}/adjudication/{item_id}",
            data={"reasoning": "mine", "_csrf_token": csrf_token(client)},
        )
        assert refused.status_code == 403
    assert status_of(runtime, item_id) == "adjudication"
    admin = client_for("admin")
    assert admin.get(f"/projects/{project_id}/adjudication/{item_id}").status_code == 200


def test_the_project_page_links_to_the_backlog_for_adjudicators(
    runtime: Runtime, make_user: Callable[..., User], client_for: Callable[..., Client]
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG]])
    link = f'href="/projects/{case["project_id"]}/adjudication"'
    assert (
        link
        in client_for("adjudicator", project=case["project_id"])
        .get(f"/projects/{case['project_id']}")
        .text
    )
    assert (
        link
        not in client_for("annotator", project=case["project_id"])
        .get(f"/projects/{case['project_id']}")
        .text
    )


# --- a case -----------------------------------------------------------------------------------


def test_the_case_shows_each_version_with_its_annotators_evidence(
    runtime: Runtime, make_user: Callable[..., User], adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG]])
    add_member(runtime, case["project_id"], adjudicator.user)  # type: ignore[attr-defined]
    item_id = case["ids"][0]
    response = adjudicator.get(f"/projects/{case['project_id']}/adjudication/{item_id}")
    assert response.status_code == 200, response.text
    page = text_of(response)
    first, second = case["annotators"]
    versions = re.split(r'<div class="adj-version[^"]*" data-version="', page)[1:]
    assert len(versions) == 2
    assert "cat" in versions[0] and first.pseudonym in versions[0]
    assert "1.5 s" in versions[0] and "certain" in versions[0]
    assert f"reason 0 on item {item_id}" in versions[0]
    assert "dog" in versions[1] and second.pseudonym in versions[1]
    assert "2.5 s" in versions[1] and "probable" in versions[1]
    assert f"reason 1 on item {item_id}" in versions[1]
    assert "agreement 0.00 below 0.50" in page
    assert "/media/" in page
    assert first.display_name not in page  # adjudicators judge labels, not people
    # Each version is drawn by its editor's view, its categories until then, its payload
    # folded (closed) under it; the item shows in its modality's viewer.
    for version in versions:
        assert '<template data-annotation-view="classification"' in version
        assert '<details class="adj-payload">' in version and "data-view-fallback" in version
    assert "Raw payloads" not in page
    assert '<div class="viewer-root" data-viewer-root="image">' in page
    assert '"module": "/static/plugins/scholia-image/viewer.js"' in page


def test_the_most_common_version_is_pre_selected(
    runtime: Runtime, make_user: Callable[..., User], adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[DOG, CAT, DOG]])
    add_member(runtime, case["project_id"], adjudicator.user)  # type: ignore[attr-defined]
    page = text_of(adjudicator.get(f"/projects/{case['project_id']}/adjudication/{case['ids'][0]}"))
    assert checked_version(page) == 1
    first = page.split('data-version="2"')[0].split('data-version="1"')[1]
    assert "dog" in first and "Most common" in first and "<strong>2</strong> of 3" in first
    assert "data-tie" not in page


def test_a_tie_pre_selects_nothing_and_says_it_is_a_tie(
    runtime: Runtime, make_user: Callable[..., User], adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG]])
    add_member(runtime, case["project_id"], adjudicator.user)  # type: ignore[attr-defined]
    page = text_of(adjudicator.get(f"/projects/{case['project_id']}/adjudication/{case['ids'][0]}"))
    assert checked_version(page) is None
    assert "It is a tie" in page
    assert "Most common" not in page


def test_a_type_without_categories_shows_each_versions_payload(
    runtime: Runtime, make_user: Callable[..., User], adjudicator: Client
) -> None:
    manager = make_user("manager")
    project_id = labeling_project(
        runtime, manager, count=1, annotation_types=("rating",), settings={"overlap": 2}
    )
    add_member(runtime, project_id, adjudicator.user)  # type: ignore[attr-defined]
    with runtime.session() as session:
        item_id = session.exec(select(Item.id).where(col(Item.project_id) == project_id)).one()
    for stars in (2, 5):
        with runtime.session() as session:
            annotations.submit(
                session,
                runtime.plugins,
                item_id=item_id,  # type: ignore[arg-type]
                annotator_id=make_user("annotator").id,  # type: ignore[arg-type]
                annotation_type="rating",
                payload={"value": stars},
            )
    assert status_of(runtime, item_id) == "adjudication"  # type: ignore[arg-type]
    page = text_of(adjudicator.get(f"/projects/{project_id}/adjudication/{item_id}"))
    # Each version is where its editor's view() draws it; with nothing else to show of it
    # (no categories), its payload is open under "Payload".
    assert page.count('<template data-annotation-view="rating"') == 2
    payloads = re.findall(r'<details class="adj-payload" open>(.*?)</details>', page, re.S)
    shown = [re.sub(r"<[^>]+>", "", p).replace("Payload", "").strip() for p in payloads]
    assert shown == ['{"comment": "", "value": 2}', '{"comment": "", "value": 5}']
    assert 'data-editor-root="rating"' in page


def test_an_item_not_in_adjudication_has_no_case_page(
    runtime: Runtime, make_user: Callable[..., User], adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[CAT, CAT]])
    add_member(runtime, case["project_id"], adjudicator.user)  # type: ignore[attr-defined]
    response = adjudicator.get(f"/projects/{case['project_id']}/adjudication/{case['ids'][0]}")
    assert response.status_code == 409
    assert "is not waiting for adjudication" in text_of(response)


# --- deciding on the page ---------------------------------------------------------------------


def decide_form(client: Client, project_id: int, item_id: int, **fields: str) -> Any:
    return client.post(
        f"/projects/{project_id}/adjudication/{item_id}",
        data={**fields, "_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )


def test_deciding_without_reasoning_is_refused_and_keeps_the_pick(
    runtime: Runtime, make_user: Callable[..., User], adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG]])
    add_member(runtime, case["project_id"], adjudicator.user)  # type: ignore[attr-defined]
    project_id, item_id = case["project_id"], case["ids"][0]
    page = text_of(adjudicator.get(f"/projects/{project_id}/adjudication/{item_id}"))
    dog = version_choice(page, 2)
    response = decide_form(adjudicator, project_id, item_id, annotation_id=dog, reasoning="   ")
    assert response.status_code == 422
    page = text_of(response)
    assert "adjudication needs reasoning" in page
    assert 'data-field-error="reasoning"' in page
    assert checked_version(page) == 2
    assert status_of(runtime, item_id) == "adjudication"
    with runtime.session() as session:
        assert session.exec(select(Adjudication)).first() is None


def test_deciding_without_a_version_is_refused_and_keeps_the_reasoning(
    runtime: Runtime, make_user: Callable[..., User], adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG]])
    add_member(runtime, case["project_id"], adjudicator.user)  # type: ignore[attr-defined]
    project_id, item_id = case["project_id"], case["ids"][0]
    response = decide_form(adjudicator, project_id, item_id, reasoning="Clearly a dog's ear.")
    assert response.status_code == 422
    page = text_of(response)
    assert "Choose one of the labels" in page
    assert "Clearly a dog's ear.</textarea>" in page
    assert status_of(runtime, item_id) == "adjudication"


def test_a_label_of_ones_own_is_decided_from_the_form(
    runtime: Runtime, make_user: Callable[..., User], adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG]])
    add_member(runtime, case["project_id"], adjudicator.user)  # type: ignore[attr-defined]
    project_id, item_id = case["project_id"], case["ids"][0]
    page = text_of(adjudicator.get(f"/projects/{project_id}/adjudication/{item_id}"))
    assert 'data-editor-root="classification"' in page
    response = decide_form(
        adjudicator,
        project_id,
        item_id,
        annotation_id="own",
        payload='{"category_ids": [3]}',
        annotation_type="classification",
        reasoning="Neither: it has wings.",
    )
    assert response.status_code in (302, 303), response.text
    with runtime.session() as session:
        record = session.exec(select(Adjudication)).one()
        decision = session.exec(
            select(Annotation).where(col(Annotation.adjudication_id) == record.id)
        ).one()
    assert record.chosen_annotation_id is None
    assert decision.payload == {"category_ids": [BIRD]}
    assert status_of(runtime, item_id) == "approved"


def test_a_label_of_ones_own_must_be_made_and_valid_and_is_kept_when_refused(
    runtime: Runtime, make_user: Callable[..., User], adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG]])
    add_member(runtime, case["project_id"], adjudicator.user)  # type: ignore[attr-defined]
    project_id, item_id = case["project_id"], case["ids"][0]
    unmade = decide_form(adjudicator, project_id, item_id, annotation_id="own", reasoning="Mine.")
    assert unmade.status_code == 422
    assert 'data-field-error="payload"' in text_of(unmade)
    assert "A label of your own" in text_of(unmade)
    unknown = decide_form(
        adjudicator,
        project_id,
        item_id,
        annotation_id="own",
        payload='{"category_ids": [42]}',
        annotation_type="classification",
        reasoning="A new kind.",
    )
    assert unknown.status_code == 422
    page = text_of(unknown)
    assert "no category 42" in page
    assert checked_version(page) == 3  # after the two versions: one's own
    assert 'value="own"' in version_radios(page)[2]
    assert '"own": {"annotation_type": "classification", "payload": {"category_ids": [42]}}' in page
    assert "A new kind.</textarea>" in page
    assert status_of(runtime, item_id) == "adjudication"


def test_deciding_approves_the_item_and_opens_the_next_case(
    runtime: Runtime, make_user: Callable[..., User], adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG], [BIRD, DOG], [CAT, BIRD]])
    add_member(runtime, case["project_id"], adjudicator.user)  # type: ignore[attr-defined]
    project_id = case["project_id"]
    first, second, third = case["ids"]
    # Open the second case first: deciding it goes on to the third, then back to the first.
    page = text_of(adjudicator.get(f"/projects/{project_id}/adjudication/{second}"))
    assert "Case 2 of 3" in page
    bird = version_choice(page, 1)
    response = decide_form(
        adjudicator, project_id, second, annotation_id=bird, reasoning="The beak is visible."
    )
    assert response.status_code in (302, 303), response.text
    assert response.headers["location"] == f"/projects/{project_id}/adjudication/{third}"
    assert status_of(runtime, second) == "approved"
    with runtime.session() as session:
        record = session.exec(select(Adjudication)).one()
        decision = session.exec(
            select(Annotation).where(col(Annotation.adjudication_id) == record.id)
        ).one()
    assert record.item_id == second
    assert record.reasoning == "The beak is visible."
    assert record.adjudicator_id == adjudicator.user.id  # type: ignore[attr-defined]
    assert str(record.chosen_annotation_id) == bird
    assert len(record.considered) == 2
    assert decision.source == "adjudication"
    assert decision.payload == {"category_ids": [BIRD]}
    next_page = text_of(adjudicator.get(response.headers["location"]))
    assert f"Item {second} approved" in next_page
    assert "Case 2 of 2" in next_page

    third_page = next_page
    response = decide_form(
        adjudicator,
        project_id,
        third,
        annotation_id=version_choice(third_page, 2),
        reasoning="Feathers.",
    )
    assert response.headers["location"] == f"/projects/{project_id}/adjudication/{first}"
    first_page = text_of(adjudicator.get(response.headers["location"]))
    response = decide_form(
        adjudicator,
        project_id,
        first,
        annotation_id=version_choice(first_page, 1),
        reasoning="Whiskers.",
    )
    assert response.headers["location"] == f"/projects/{project_id}/adjudication"
    assert "The backlog is clear" in text_of(adjudicator.get(response.headers["location"]))
    assert {status_of(runtime, i) for i in case["ids"]} == {"approved"}


def test_a_case_decided_meanwhile_goes_back_to_the_backlog_saying_so(
    runtime: Runtime, make_user: Callable[..., User], client_for: Callable[..., Client]
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG]])
    project_id, item_id = case["project_id"], case["ids"][0]
    one, other = (
        client_for("adjudicator", project=case["project_id"]),
        client_for("adjudicator", project=case["project_id"]),
    )
    page = text_of(one.get(f"/projects/{project_id}/adjudication/{item_id}"))
    cat = version_choice(page, 1)
    decided = decide_form(one, project_id, item_id, annotation_id=cat, reasoning="Cat.")
    assert decided.status_code in (302, 303)
    late = decide_form(other, project_id, item_id, annotation_id=cat, reasoning="Also cat.")
    assert late.headers["location"] == f"/projects/{project_id}/adjudication"
    assert "is not waiting for adjudication" in text_of(other.get(late.headers["location"]))
    with runtime.session() as session:
        assert len(session.exec(select(Adjudication)).all()) == 1


# --- the JSON API -----------------------------------------------------------------------------


@pytest.fixture
def api_adjudicator(api_for: Callable[..., Client]) -> Client:
    return api_for("adjudicator")


def test_api_the_backlog_lists_waiting_items_oldest_first(
    runtime: Runtime, make_user: Callable[..., User], api_adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG], [CAT, CAT], [DOG, BIRD]])
    add_member(runtime, case["project_id"], api_adjudicator.user)  # type: ignore[attr-defined]
    response = api_adjudicator.get(f"/api/v1/projects/{case['project_id']}/adjudication")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [c["item"]["id"] for c in body] == [case["ids"][0], case["ids"][2]]
    assert body[0]["reason"] == "agreement 0.00 below 0.50 (2 annotators)"
    assert body[0]["versions"] == 2 and body[0]["annotators"] == 2
    assert body[0]["item"]["status"] == "adjudication"
    assert "/thumb?" in body[0]["thumbnail_url"]
    assert "is_gold" not in body[0]["item"]


def test_api_the_case_carries_each_annotators_evidence(
    runtime: Runtime, make_user: Callable[..., User], api_adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[DOG, CAT, DOG]])
    add_member(runtime, case["project_id"], api_adjudicator.user)  # type: ignore[attr-defined]
    item_id = case["ids"][0]
    body = api_adjudicator.get(f"/api/v1/items/{item_id}/adjudication").json()
    assert body["tie"] is False
    assert body["reason"].startswith("agreement 0.33 below 0.50")
    dog, cat = body["versions"]
    assert (dog["labels"], dog["count"], dog["suggested"]) == (["dog"], 2, True)
    assert (cat["labels"], cat["count"], cat["suggested"]) == (["cat"], 1, False)
    assert dog["payload"] == {"category_ids": [DOG]}
    first, second, third = case["annotators"]
    assert [o["annotator"] for o in dog["annotators"]] == [first.pseudonym, third.pseudonym]
    evidence = cat["annotators"][0]
    assert evidence["annotator"] == second.pseudonym
    assert evidence["time_spent_ms"] == 2500
    assert evidence["annotator_confidence"] == "probable"
    assert evidence["reasoning"] == f"reason 1 on item {item_id}"


def test_api_a_tie_suggests_no_version(
    runtime: Runtime, make_user: Callable[..., User], api_adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[DOG, CAT]])
    add_member(runtime, case["project_id"], api_adjudicator.user)  # type: ignore[attr-defined]
    body = api_adjudicator.get(f"/api/v1/items/{case['ids'][0]}/adjudication").json()
    assert body["tie"] is True
    assert [v["suggested"] for v in body["versions"]] == [False, False]


@pytest.mark.parametrize("body", [{"reasoning": "  \n "}, {}], ids=["blank", "missing"])
def test_api_a_decision_without_reasoning_is_refused_at_reasoning(
    runtime: Runtime,
    make_user: Callable[..., User],
    api_adjudicator: Client,
    body: dict[str, Any],
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG]])
    add_member(runtime, case["project_id"], api_adjudicator.user)  # type: ignore[attr-defined]
    item_id = case["ids"][0]
    chosen = api_adjudicator.get(f"/api/v1/items/{item_id}/adjudication").json()
    annotation_id = chosen["versions"][0]["annotators"][0]["annotation_id"]
    response = api_adjudicator.post(
        f"/api/v1/items/{item_id}/adjudication", json={**body, "annotation_id": annotation_id}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["path"] == "$.reasoning"
    assert "reasoning" in error["message"]
    assert status_of(runtime, item_id) == "adjudication"


def test_api_a_decision_approves_the_item_and_is_linked_from_its_annotation(
    runtime: Runtime, make_user: Callable[..., User], api_adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG]])
    add_member(runtime, case["project_id"], api_adjudicator.user)  # type: ignore[attr-defined]
    item_id = case["ids"][0]
    evidence = api_adjudicator.get(f"/api/v1/items/{item_id}/adjudication").json()
    dog = evidence["versions"][1]["annotators"][0]["annotation_id"]
    response = api_adjudicator.post(
        f"/api/v1/items/{item_id}/adjudication",
        json={"annotation_id": dog, "reasoning": "Floppy ears: a dog."},
    )
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["item_id"] == item_id
    assert record["item_status"] == "approved"
    assert record["reasoning"] == "Floppy ears: a dog."
    assert record["adjudicator"] == api_adjudicator.user.pseudonym  # type: ignore[attr-defined]
    assert record["chosen_annotation_id"] == dog
    considered = {o["annotation_id"] for v in evidence["versions"] for o in v["annotators"]}
    assert set(record["considered"]) == considered
    assert record["evidence"]["routed_because"] == evidence["reason"]
    current = api_adjudicator.get(f"/api/v1/items/{item_id}/annotations").json()
    decision = [a for a in current if a["source"] == "adjudication"]
    assert len(decision) == 1
    assert decision[0]["adjudication_id"] == record["id"]
    assert decision[0]["payload"] == {"category_ids": [DOG]}
    assert status_of(runtime, item_id) == "approved"
    gone = api_adjudicator.get(f"/api/v1/projects/{case['project_id']}/adjudication").json()
    assert gone == []


def test_api_an_adjudicator_may_give_a_label_of_their_own(
    runtime: Runtime, make_user: Callable[..., User], api_adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG]])
    add_member(runtime, case["project_id"], api_adjudicator.user)  # type: ignore[attr-defined]
    item_id = case["ids"][0]
    response = api_adjudicator.post(
        f"/api/v1/items/{item_id}/adjudication",
        json={"payload": {"category_ids": [BIRD]}, "reasoning": "Both missed the bird."},
    )
    assert response.status_code == 201, response.text
    assert response.json()["chosen_annotation_id"] is None
    current = api_adjudicator.get(f"/api/v1/items/{item_id}/annotations").json()
    assert [a["payload"] for a in current if a["source"] == "adjudication"] == [
        {"category_ids": [BIRD]}
    ]


def test_api_a_label_of_ones_own_is_checked_like_any_annotation(
    runtime: Runtime, make_user: Callable[..., User], api_adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG]])
    add_member(runtime, case["project_id"], api_adjudicator.user)  # type: ignore[attr-defined]
    item_id = case["ids"][0]
    response = api_adjudicator.post(
        f"/api/v1/items/{item_id}/adjudication",
        json={"payload": {"category_ids": [42]}, "reasoning": "A new kind."},
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["path"].endswith("category_ids[0]")
    assert "no category 42" in error["message"]
    assert status_of(runtime, item_id) == "adjudication"


def test_api_an_annotation_of_another_item_is_refused_at_annotation_id(
    runtime: Runtime, make_user: Callable[..., User], api_adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG], [DOG, BIRD]])
    add_member(runtime, case["project_id"], api_adjudicator.user)  # type: ignore[attr-defined]
    first, second = case["ids"]
    other = api_adjudicator.get(f"/api/v1/items/{second}/adjudication").json()
    elsewhere = other["versions"][0]["annotators"][0]["annotation_id"]
    response = api_adjudicator.post(
        f"/api/v1/items/{first}/adjudication",
        json={"annotation_id": elsewhere, "reasoning": "Wrong item."},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["path"] == "$.annotation_id"


def test_api_an_item_not_in_adjudication_is_a_conflict(
    runtime: Runtime, make_user: Callable[..., User], api_adjudicator: Client
) -> None:
    case = disputed(runtime, make_user, [[CAT, CAT]])
    add_member(runtime, case["project_id"], api_adjudicator.user)  # type: ignore[attr-defined]
    item_id = case["ids"][0]
    assert api_adjudicator.get(f"/api/v1/items/{item_id}/adjudication").status_code == 409
    response = api_adjudicator.post(
        f"/api/v1/items/{item_id}/adjudication",
        json={"payload": {"category_ids": [CAT]}, "reasoning": "Agreed anyway."},
    )
    assert response.status_code == 409, response.text
    assert "is not waiting for adjudication" in response.json()["error"]["message"]
    assert api_adjudicator.get("/api/v1/items/999999/adjudication").status_code == 404


def test_api_adjudication_needs_the_adjudicator_role(
    runtime: Runtime, make_user: Callable[..., User], api_for: Callable[..., Client]
) -> None:
    case = disputed(runtime, make_user, [[CAT, DOG]])
    reviewer = api_for("reviewer", project=case["project_id"])
    item_id = case["ids"][0]
    assert reviewer.get(f"/api/v1/projects/{case['project_id']}/adjudication").status_code == 403
    assert reviewer.get(f"/api/v1/items/{item_id}/adjudication").status_code == 403
    response = reviewer.post(
        f"/api/v1/items/{item_id}/adjudication",
        json={"payload": {"category_ids": [CAT]}, "reasoning": "Not mine to decide."},
    )
    assert response.status_code == 403
    assert status_of(runtime, item_id) == "adjudication"

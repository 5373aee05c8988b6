"""The items API: uploading media (each file judged alone), de-duplication by content, reading
items and paging through them by keyset."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlmodel import select

from scholia.core.models import Blob, Item
from scholia.core.runtime import Runtime
from scholia.server.app import create_app

from .conftest import png_bytes

Client = TestClient[Any]


def items_url(project: dict[str, Any]) -> str:
    return f"/api/v1/projects/{project['id']}/items"


def upload(project: dict[str, Any], *files: tuple[str, bytes]) -> Any:
    return project["manager"].post(
        items_url(project), files=[("files", (name, data, "image/png")) for name, data in files]
    )


def distinct_pngs(count: int) -> list[tuple[str, bytes]]:
    return [(f"img{i:02d}.png", png_bytes(colour=(i * 7 % 256, 10, 200 - i))) for i in range(count)]


def all_items(project: dict[str, Any]) -> list[dict[str, Any]]:
    response = project["manager"].get(items_url(project), params={"limit": 500})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def truncated_png() -> bytes:
    """A noisy PNG (so its pixel data is long) cut off halfway through."""
    import io
    import random

    from PIL import Image

    rng = random.Random(7)
    image = Image.new("RGB", (64, 64))
    image.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(64 * 64)])
    out = io.BytesIO()
    image.save(out, format="PNG")
    data = out.getvalue()
    return data[: len(data) // 2]


# --- uploading ------------------------------------------------------------------------------


def test_uploading_an_image_creates_an_unlabeled_item_with_probed_size(
    project: dict[str, Any],
) -> None:
    response = upload(project, ("red.png", png_bytes(size=(40, 30))))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["existing"] == [] and body["errors"] == []
    (item,) = body["created"]
    assert item["name"] == "red.png"
    assert item["project_id"] == project["id"]
    assert item["media_type"] == "image/png"
    assert item["status"] == "unlabeled"
    assert item["meta"]["width"] == 40 and item["meta"]["height"] == 30
    assert len(item["content_hash"]) == 64
    assert item["media_url"].startswith(f"/media/{item['content_hash']}/original?")
    assert "is_gold" not in item


def test_a_bad_file_in_a_batch_is_reported_by_name_and_the_good_ones_go_in(
    project: dict[str, Any], runtime: Runtime
) -> None:
    response = upload(
        project,
        ("first.png", png_bytes(colour=(1, 2, 3))),
        ("notes.png", b"These are my notes, not a picture.\n"),
        ("empty.png", b""),
        ("half.png", truncated_png()),
        ("second.png", png_bytes(colour=(4, 5, 6))),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert sorted(i["name"] for i in body["created"]) == ["first.png", "second.png"]
    problems = {p["file"]: p["message"] for p in body["errors"]}
    assert set(problems) == {"notes.png", "empty.png", "half.png"}
    assert "'notes.png'" in problems["notes.png"] and "not an image" in problems["notes.png"]
    assert "'empty.png'" in problems["empty.png"] and "empty" in problems["empty.png"]
    assert "'half.png'" in problems["half.png"] and "damaged" in problems["half.png"]
    assert sorted(i["name"] for i in all_items(project)) == ["first.png", "second.png"]
    with runtime.session() as session:
        assert len(session.exec(select(Blob)).all()) == 2
    stored = [p for p in runtime.store.root.rglob("*") if p.is_file()]
    assert len(stored) == 2, "refused files leave nothing behind, not even a staged copy"


def test_an_upload_larger_than_the_limit_is_413_and_keeps_what_was_saved(
    project: dict[str, Any], item: dict[str, Any], runtime: Runtime
) -> None:
    small = dataclasses.replace(runtime.settings, max_upload_bytes=1024 * 1024)
    limited = dataclasses.replace(runtime, settings=small)
    with TestClient(create_app(limited)) as client:
        client.headers["Authorization"] = project["manager"].headers["Authorization"]
        big = png_bytes()[:8] + os.urandom(1200 * 1024)
        response = client.post(items_url(project), files=[("files", ("big.png", big, "image/png"))])
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "too_large"
    assert "larger than this server accepts (1 MB per request)" in error["message"]
    assert [i["id"] for i in all_items(project)] == [item["id"]]


def test_a_file_with_a_foreign_extension_is_refused_naming_the_accepted_ones(
    project: dict[str, Any],
) -> None:
    response = project["manager"].post(
        items_url(project), files=[("files", ("readme.txt", b"hello", "text/plain"))]
    )
    assert response.status_code == 201
    (problem,) = response.json()["errors"]
    assert problem["file"] == "readme.txt"
    assert ".png" in problem["message"] and ".jpg" in problem["message"]
    assert all_items(project) == []


def test_reuploading_the_same_bytes_returns_the_existing_item_without_a_duplicate(
    project: dict[str, Any], item: dict[str, Any]
) -> None:
    response = upload(project, ("renamed-copy.png", png_bytes()))
    assert response.status_code == 201
    body = response.json()
    assert body["created"] == []
    (existing,) = body["existing"]
    assert existing["id"] == item["id"]
    assert existing["name"] == item["name"]
    assert [i["id"] for i in all_items(project)] == [item["id"]]


def test_the_same_bytes_twice_in_one_batch_make_one_item(project: dict[str, Any]) -> None:
    body = upload(project, ("a.png", png_bytes()), ("b.png", png_bytes())).json()
    assert [i["name"] for i in body["created"]] == ["a.png"]
    assert [i["name"] for i in body["existing"]] == ["a.png"]
    assert len(all_items(project)) == 1


def test_the_same_bytes_in_two_projects_make_an_item_in_each(
    project: dict[str, Any], item: dict[str, Any]
) -> None:
    manager = project["manager"]
    other = manager.post(
        "/api/v1/projects",
        json={"name": "Other", "modality": "image", "annotation_types": ["rating"]},
    ).json()
    body = upload({**project, "id": other["id"]}, ("red.png", png_bytes())).json()
    (created,) = body["created"]
    assert created["project_id"] == other["id"]
    assert created["id"] != item["id"]
    assert created["content_hash"] == item["content_hash"]


def test_an_upload_without_files_is_422_at_files(project: dict[str, Any]) -> None:
    response = project["manager"].post(items_url(project), files=[("other", ("x.png", b"x"))])
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["path"] == "$.files"
    assert "'files'" in error["message"]


def test_an_annotator_cannot_upload(
    project: dict[str, Any], bearer: Callable[..., dict[str, str]]
) -> None:
    response = project["manager"].post(
        items_url(project),
        files=[("files", ("red.png", png_bytes(), "image/png"))],
        headers=bearer("annotator", project=project),
    )
    assert response.status_code == 403
    assert all_items(project) == []


def test_uploading_to_an_unknown_project_is_404(project: dict[str, Any]) -> None:
    response = upload({**project, "id": 4242}, ("red.png", png_bytes()))
    assert response.status_code == 404
    assert "4242" in response.json()["error"]["message"]


# --- reading --------------------------------------------------------------------------------


def test_getting_an_item_returns_it(
    project: dict[str, Any], item: dict[str, Any], bearer: Callable[..., dict[str, str]]
) -> None:
    response = project["manager"].get(
        f"/api/v1/items/{item['id']}", headers=bearer("reviewer", project=project)
    )
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("id", "name", "content_hash", "status")} == {
        k: item[k] for k in ("id", "name", "content_hash", "status")
    }


def test_an_unknown_item_is_404_naming_it(project: dict[str, Any]) -> None:
    response = project["manager"].get("/api/v1/items/31337")
    assert response.status_code == 404
    assert "31337" in response.json()["error"]["message"]


def test_keyset_pages_return_every_item_exactly_once_in_id_order(
    project: dict[str, Any],
) -> None:
    created = upload(project, *distinct_pngs(7)).json()["created"]
    assert len(created) == 7
    seen: list[int] = []
    pages = 0
    after: int | None = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if after is not None:
            params["after"] = after
        page = project["manager"].get(items_url(project), params=params).json()
        pages += 1
        assert len(page["items"]) <= 3
        seen += [i["id"] for i in page["items"]]
        after = page["next_after"]
        if after is None:
            break
        assert after == seen[-1]
    assert pages == 3
    assert seen == sorted(i["id"] for i in created)


def test_the_last_full_page_says_there_is_no_next_page(project: dict[str, Any]) -> None:
    upload(project, *distinct_pngs(4))
    page = project["manager"].get(items_url(project), params={"limit": 4}).json()
    assert len(page["items"]) == 4
    assert page["next_after"] is None


def test_filtering_by_status_lists_only_items_in_that_state(
    project: dict[str, Any], item: dict[str, Any]
) -> None:
    manager = project["manager"]
    unlabeled = manager.get(items_url(project), params={"status": "unlabeled"}).json()
    assert [i["id"] for i in unlabeled["items"]] == [item["id"]]
    approved = manager.get(items_url(project), params={"status": "approved"}).json()
    assert approved == {"items": [], "next_after": None}


def test_an_unknown_status_filter_is_422_listing_the_statuses(project: dict[str, Any]) -> None:
    response = project["manager"].get(items_url(project), params={"status": "done"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["path"] == "$.status"
    assert "'done'" in error["message"]
    assert "unlabeled" in error["message"] and "approved" in error["message"]


@pytest.mark.parametrize("limit", [0, -5])
def test_a_page_size_below_one_is_422_at_limit(
    project: dict[str, Any], item: dict[str, Any], limit: int
) -> None:
    response = project["manager"].get(items_url(project), params={"limit": limit})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["path"] == "$.limit"
    assert "limit" in error["message"]


def test_listing_items_of_an_unknown_project_is_404(project: dict[str, Any]) -> None:
    response = project["manager"].get("/api/v1/projects/555/items")
    assert response.status_code == 404
    assert "555" in response.json()["error"]["message"]


def test_items_of_one_project_do_not_appear_in_another(
    project: dict[str, Any], item: dict[str, Any], runtime: Runtime
) -> None:
    other = (
        project["manager"]
        .post(
            "/api/v1/projects",
            json={"name": "Empty", "modality": "image", "annotation_types": ["rating"]},
        )
        .json()
    )
    assert all_items({**project, "id": other["id"]}) == []
    with runtime.session() as session:
        assert [i.project_id for i in session.exec(select(Item))] == [project["id"]]

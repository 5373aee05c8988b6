"""The categories editor page (htmx form posts), the schema-versions API, and the
classification mode on the new-project form."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlmodel import select

from scholia.core import labels
from scholia.core.models import Project
from scholia.core.runtime import Runtime

Client = TestClient[Any]
HTMX = {"HX-Request": "true"}


@pytest.fixture
def manager(client_for: Callable[..., Client]) -> Client:
    return client_for("manager")


@pytest.fixture
def pid(manager: Client) -> int:
    """A project with categories 1 cat, 2 dog, 3 bird (schema 1.0.0)."""
    response = manager.post(
        "/api/v1/projects",
        json={
            "name": "Pets",
            "modality": "image",
            "annotation_types": ["classification"],
            "categories": ["cat", "dog", "bird"],
        },
    )
    assert response.status_code == 201, response.text
    project_id: int = response.json()["id"]
    return project_id


def url(pid: int, tail: str = "") -> str:
    return f"/projects/{pid}/categories{tail}"


def categories(client: Client, pid: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/projects/{pid}/categories?include_deleted=true")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def live_order(client: Client, pid: int) -> list[tuple[int, str]]:
    return [(c["id"], c["name"]) for c in categories(client, pid) if not c["deleted"]]


def versions(client: Client, pid: int) -> list[str]:
    response = client.get(f"/api/v1/projects/{pid}/schema-versions")
    assert response.status_code == 200, response.text
    return [v["schema_version"] for v in response.json()]


def text_of(response: Any) -> str:
    return html.unescape(response.text)


def post(client: Client, path: str, data: dict[str, str] | None = None) -> Any:
    return client.post(path, data=data or {}, headers=HTMX)


# --- the page -------------------------------------------------------------------------------


def test_a_manager_sees_the_editor(manager: Client, pid: int) -> None:
    response = manager.get(url(pid))
    assert response.status_code == 200
    page = text_of(response)
    assert "<h1>Categories</h1>" in page
    assert 'id="categories-editor"' in page
    for category_id, name in [(1, "cat"), (2, "dog"), (3, "bird")]:
        assert f'data-category-id="{category_id}"' in page
        assert f'id="cat-{category_id}-name"' in page and f'value="{name}"' in page
    assert 'id="cat-1-up"' in page and re.search(r'id="cat-1-up"[^>]*disabled', page)
    assert not re.search(r'id="cat-3-up"[^>]*disabled', page)
    assert re.search(r'id="cat-3-down"[^>]*disabled', page)
    assert "Add category" in page
    assert "Deleting a category bumps the" in page and "<strong>major</strong>" in page
    assert '<tr data-schema-version="1.0.0">' in page
    assert "initial categories" in page


def test_an_annotator_sees_it_read_only_and_cannot_post(
    client_for: Callable[..., Client], pid: int
) -> None:
    annotator = client_for("annotator", project=pid)
    response = annotator.get(url(pid))
    assert response.status_code == 200
    page = text_of(response)
    assert "Add category" not in page and '<form class="cat-edit"' not in page
    assert "Restore" not in page and 'id="cat-1-delete"' not in page
    assert "cat" in page and "dog" in page and "bird" in page
    assert '<tr data-schema-version="1.0.0">' in page
    refused = post(annotator, url(pid), {"name": "fish"})
    assert refused.status_code == 403
    assert versions(annotator, pid) == ["1.0.0"]


def test_an_unknown_project_is_a_404_page(manager: Client) -> None:
    assert manager.get(url(999)).status_code == 404
    assert post(manager, url(999), {"name": "x"}).status_code == 404


# --- actions --------------------------------------------------------------------------------


def test_add_rename_recolour_reorder_delete_restore_keep_ids_and_bump_versions(
    manager: Client, pid: int
) -> None:
    added = post(manager, url(pid), {"name": "fish", "color": "#123456"})
    assert added.status_code == 200, added.text
    fragment = text_of(added)
    assert "<html" not in fragment  # the fragment, not the whole page
    assert 'id="categories-editor"' in fragment
    assert "Added category 4 “fish”. Schema is now v1.1.0." in fragment
    assert live_order(manager, pid) == [(1, "cat"), (2, "dog"), (3, "bird"), (4, "fish")]
    assert categories(manager, pid)[3]["color"] == "#123456"

    renamed = post(manager, url(pid, "/2"), {"name": "puppy", "color": "#dc2626", "hotkey": ""})
    assert renamed.status_code == 200, renamed.text
    assert "Schema is now v1.2.0" in text_of(renamed)
    assert live_order(manager, pid) == [(1, "cat"), (2, "puppy"), (3, "bird"), (4, "fish")]

    styled = post(manager, url(pid, "/4"), {"name": "fish", "color": "#00AA00", "hotkey": "f"})
    assert "Schema is now v1.2.1" in text_of(styled)
    fish = categories(manager, pid)[3]
    assert (fish["id"], fish["color"], fish["hotkey"]) == (4, "#00aa00", "f")

    unchanged = post(manager, url(pid, "/4"), {"name": "fish", "color": "#00aa00", "hotkey": "f"})
    assert unchanged.status_code == 200
    assert "Nothing to save for category 4" in text_of(unchanged)

    moved = post(manager, url(pid, "/4/move"), {"direction": "up"})
    assert moved.status_code == 200, moved.text
    assert "Moved category 4 “fish” up. Schema is now v1.2.2." in text_of(moved)
    assert live_order(manager, pid) == [(1, "cat"), (2, "puppy"), (4, "fish"), (3, "bird")]
    moved = post(manager, url(pid, "/1/move"), {"direction": "down"})
    assert live_order(manager, pid) == [(2, "puppy"), (1, "cat"), (4, "fish"), (3, "bird")]

    deleted = post(manager, url(pid, "/1/delete"))
    assert "Schema is now v2.0.0" in text_of(deleted)
    page = text_of(deleted)
    assert 'aria-label="Deleted categories"' in page and 'id="cat-1-restore"' in page
    assert live_order(manager, pid) == [(2, "puppy"), (4, "fish"), (3, "bird")]

    restored = post(manager, url(pid, "/1/restore"))
    assert "Restored category 1 “cat”. Schema is now v2.1.0." in text_of(restored)
    assert live_order(manager, pid) == [(2, "puppy"), (1, "cat"), (4, "fish"), (3, "bird")]

    assert versions(manager, pid) == [
        "2.1.0",
        "2.0.0",
        "1.2.3",
        "1.2.2",
        "1.2.1",
        "1.2.0",
        "1.1.0",
        "1.0.0",
    ]
    history = text_of(manager.get(url(pid)))
    rows = re.findall(r'<tr data-schema-version="([\d.]+)">', history)
    assert rows == versions(manager, pid)  # newest first


def test_without_htmx_an_action_redirects_back_with_a_message(manager: Client, pid: int) -> None:
    response = manager.post(url(pid), data={"name": "fish"}, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == url(pid)
    page = text_of(manager.get(url(pid)))
    assert "Added category 4 “fish”. Schema is now v1.1.0." in page


def assert_refused(
    manager: Client, pid: int, response: Any, message: str, before: list[dict[str, Any]]
) -> str:
    assert response.status_code == 422, response.text
    page = text_of(response)
    assert 'role="alert"' in page and message in page, page
    assert categories(manager, pid) == before
    return page


@pytest.mark.parametrize(
    ("name", "message"),
    [("   ", "A category needs a name"), ("DOG", "Category 2 is already called 'dog'.")],
)
def test_adding_an_empty_or_duplicate_name_is_refused_inline(
    manager: Client, pid: int, name: str, message: str
) -> None:
    before = categories(manager, pid)
    page = assert_refused(manager, pid, post(manager, url(pid), {"name": name}), message, before)
    assert (
        f'id="cat-new-name" name="name" maxlength="200" placeholder="e.g. bicycle" value="{name}"'
        in page
    )
    assert versions(manager, pid) == ["1.0.0"]


def test_renaming_to_a_duplicate_or_empty_name_keeps_what_was_typed(
    manager: Client, pid: int
) -> None:
    before = categories(manager, pid)
    response = post(manager, url(pid, "/3"), {"name": "Cat", "color": "#abcdef", "hotkey": "b"})
    page = assert_refused(manager, pid, response, "Category 1 is already called 'cat'.", before)
    assert 'id="cat-3-error"' in page
    assert re.search(r'id="cat-3-name"[^>]*value="Cat"', page)
    assert re.search(r'id="cat-3-color"[^>]*value="#abcdef"', page)
    assert re.search(r'id="cat-3-hotkey"[^>]*value="b"', page)
    response = post(manager, url(pid, "/3"), {"name": "", "color": "#abcdef", "hotkey": ""})
    assert_refused(manager, pid, response, "A category needs a name", before)
    assert versions(manager, pid) == ["1.0.0"]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "bird", "color": "#abcdef", "hotkey": "xy"}, "A hotkey is a single key"),
        (
            {"name": "bird", "color": "#abcdef", "hotkey": "1"},
            "The key '1' picks the category at that position on the labeling page",
        ),
        (
            {"name": "bird", "color": "#abcdef", "hotkey": "S"},
            "The key 'S' skips the item on the labeling page",
        ),
        ({"name": "bird", "color": "red", "hotkey": ""}, "A colour is written #rrggbb, not 'red'"),
    ],
)
def test_a_bad_hotkey_or_colour_is_refused_inline(
    manager: Client, pid: int, form: dict[str, str], message: str
) -> None:
    before = categories(manager, pid)
    assert_refused(manager, pid, post(manager, url(pid, "/3"), form), message, before)
    assert versions(manager, pid) == ["1.0.0"]


def test_a_hotkey_another_category_uses_is_refused_inline(manager: Client, pid: int) -> None:
    post(manager, url(pid, "/1"), {"name": "cat", "color": "#2563eb", "hotkey": "c"})
    before = categories(manager, pid)
    form = {"name": "bird", "color": "#abcdef", "hotkey": "C"}
    response = post(manager, url(pid, "/3"), form)
    assert_refused(manager, pid, response, "Hotkey 'C' is already used by 'cat'.", before)


def test_moving_past_either_end_is_refused_and_changes_nothing(manager: Client, pid: int) -> None:
    before = categories(manager, pid)
    up = post(manager, url(pid, "/1/move"), {"direction": "up"})
    assert_refused(
        manager, pid, up, "Category 1 ('cat') is already first; it cannot move up", before
    )
    down = post(manager, url(pid, "/3/move"), {"direction": "down"})
    assert_refused(manager, pid, down, "Category 3 ('bird') is already last", before)
    sideways = post(manager, url(pid, "/2/move"), {"direction": "left"})
    assert_refused(manager, pid, sideways, "direction must be 'up' or 'down'", before)
    assert versions(manager, pid) == ["1.0.0"]


def test_restoring_into_a_name_now_in_use_is_refused(manager: Client, pid: int) -> None:
    post(manager, url(pid, "/2/delete"))
    added = post(manager, url(pid), {"name": "dog"})
    assert "Added category 4 “dog”" in text_of(added)  # a new id: 2 is never reused
    before = categories(manager, pid)
    response = post(manager, url(pid, "/2/restore"))
    page = assert_refused(manager, pid, response, "Category 4 is already called 'dog'.", before)
    assert 'id="cat-2-error"' in page
    assert versions(manager, pid) == ["2.1.0", "2.0.0", "1.0.0"]
    again = post(manager, url(pid, "/1/restore"))
    assert_refused(manager, pid, again, "Category 1 is not deleted", before)
    twice = post(manager, url(pid, "/2/delete"))
    assert_refused(manager, pid, twice, "Category 2 is already deleted", before)


def test_a_deleted_category_cannot_be_moved_and_an_unknown_one_is_404(
    manager: Client, pid: int
) -> None:
    post(manager, url(pid, "/2/delete"))
    before = categories(manager, pid)
    moved = post(manager, url(pid, "/2/move"), {"direction": "up"})
    assert_refused(manager, pid, moved, "is deleted; restore it before moving it", before)
    missing = post(manager, url(pid, "/9/delete"))
    assert missing.status_code == 404
    assert "No category with id 9" in text_of(missing)
    assert 'id="categories-editor"' in text_of(missing)


def test_moving_categories_that_share_a_position_renumbers_then_swaps(
    manager: Client, runtime: Runtime, pid: int
) -> None:
    for category_id in (1, 2, 3):
        response = manager.patch(
            f"/api/v1/projects/{pid}/categories/{category_id}", json={"display_order": 5}
        )
        assert response.status_code == 200, response.text
    assert live_order(manager, pid) == [(1, "cat"), (2, "dog"), (3, "bird")]
    with runtime.session() as session:
        labels.move_category(session, pid, 3, "up", actor_id=manager.user.id)  # type: ignore[attr-defined]
    assert live_order(manager, pid) == [(1, "cat"), (3, "bird"), (2, "dog")]
    by_id = sorted(categories(manager, pid), key=lambda c: c["id"])
    assert [c["display_order"] for c in by_id] == [0, 2, 1]
    assert versions(manager, pid)[:2] == ["1.0.4", "1.0.3"]  # three PATCHes, then one move


# --- API ------------------------------------------------------------------------------------


def test_the_api_lists_schema_versions_newest_first(
    manager: Client, api_for: Callable[..., Client], pid: int
) -> None:
    post(manager, url(pid), {"name": "fish"})
    post(manager, url(pid, "/2/delete"))
    reader = api_for("annotator", project=pid)
    response = reader.get(f"/api/v1/projects/{pid}/schema-versions")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [v["schema_version"] for v in body] == ["2.0.0", "1.1.0", "1.0.0"]
    newest = body[0]
    assert newest["change"] == "category 2: deleted"
    assert newest["created_by"] == manager.user.id  # type: ignore[attr-defined]
    assert len(newest["labels_hash"]) == 64 and newest["created_at"]
    assert [(c["id"], c["deleted"]) for c in newest["categories"]] == [
        (1, False),
        (2, True),
        (3, False),
        (4, False),
    ]
    assert body[1]["labels_hash"] != body[2]["labels_hash"]
    current = reader.get(f"/api/v1/projects/{pid}").json()
    assert (current["schema_version"], current["labels_hash"]) == ("2.0.0", newest["labels_hash"])
    missing = reader.get("/api/v1/projects/999/schema-versions")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


# --- new project: each type's options -------------------------------------------------------


def new_project_form(**extra: Any) -> dict[str, Any]:
    return {"name": "Birds", "modality": "image", "categories": "gull\ntern", **extra}


def stored_settings(runtime: Runtime, name: str) -> dict[str, Any]:
    with runtime.session() as session:
        project = session.exec(select(Project).where(Project.name == name)).one()
        return dict(project.settings)


MODE = "annotation_options.classification.mode"
"""The classification mode's field: the form draws each type's options from its Struct."""


def test_the_new_project_form_offers_each_types_options_from_its_struct(manager: Client) -> None:
    page = text_of(manager.get("/projects/new"))
    assert 'id="options-classification" data-for-type="classification"' in page
    assert "<span>Classification mode</span>" in page
    assert re.search(rf'<select name="{re.escape(MODE)}"', page)
    assert re.search(r'<option value="single" selected>Single-label: exactly one', page)
    assert re.search(r'<option value="multi" >Multi-label: one or more', page)
    assert "classification_mode" not in page


@pytest.mark.parametrize("mode", ["single", "multi"])
def test_creating_a_classification_project_stores_the_mode(
    manager: Client, runtime: Runtime, mode: str
) -> None:
    form = new_project_form(annotation_types="classification", **{MODE: mode})
    response = manager.post("/projects", data=form, follow_redirects=False)
    assert response.status_code in (302, 303), response.text
    settings = stored_settings(runtime, "Birds")
    assert settings["annotation_options"] == {"classification": {"mode": mode}}
    project_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert versions(manager, project_id) == ["1.0.0"]


def test_the_mode_defaults_to_single_and_is_ignored_without_classification(
    manager: Client, runtime: Runtime
) -> None:
    response = manager.post("/projects", data=new_project_form(annotation_types="classification"))
    assert response.status_code == 200
    assert stored_settings(runtime, "Birds")["annotation_options"] == {
        "classification": {"mode": "single"}
    }
    rating = new_project_form(name="Rated", annotation_types="rating", **{MODE: "multi"})
    assert manager.post("/projects", data=rating).status_code == 200
    assert stored_settings(runtime, "Rated")["annotation_options"] == {}


def test_an_unknown_mode_is_refused_with_the_form_kept(manager: Client, runtime: Runtime) -> None:
    form = new_project_form(annotation_types="classification", **{MODE: "many"})
    response = manager.post("/projects", data=form)
    assert response.status_code == 422
    page = text_of(response)
    assert "Invalid enum value 'many'. Classification options: mode: 'multi' or" in page
    assert 'value="Birds"' in page
    assert 'id="options-classification"' in page  # the options are offered again
    with runtime.session() as session:
        assert session.exec(select(Project)).all() == []

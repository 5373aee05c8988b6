"""The projects API: creating, listing and reading projects, and editing their categories.

Category ids are assigned once and never change or get reused; every change to the categories
writes a schema version whose number and labels_hash say what kind of change it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from scholia.core import identity
from scholia.core.runtime import Runtime
from tests.conftest import add_member

Client = TestClient[Any]

RATING_PROJECT = {
    "name": "Street scenes",
    "modality": "image",
    "annotation_types": ["rating"],
    "categories": ["car", "bus"],
    "guidelines": "Rate how sharp the photo is.",
}


def categories_url(project: dict[str, Any], category_id: int | None = None) -> str:
    url = f"/api/v1/projects/{project['id']}/categories"
    return url if category_id is None else f"{url}/{category_id}"


def schema_of(project: dict[str, Any]) -> tuple[str, str]:
    body = project["manager"].get(f"/api/v1/projects/{project['id']}").json()
    return body["schema_version"], body["labels_hash"]


def live_names(project: dict[str, Any]) -> dict[int, str]:
    return {c["id"]: c["name"] for c in project["manager"].get(categories_url(project)).json()}


# --- creating, listing, reading -------------------------------------------------------------


def test_creating_a_project_starts_at_schema_1_0_0_and_guideline_version_1(
    api_for: Callable[..., Client],
) -> None:
    manager = api_for("manager")
    response = manager.post("/api/v1/projects", json=RATING_PROJECT)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Street scenes"
    assert body["modality"] == "image"
    assert body["annotation_types"] == ["rating"]
    assert body["schema_version"] == "1.0.0"
    assert len(body["labels_hash"]) == 64
    assert set(body["labels_hash"]) <= set("0123456789abcdef")
    assert body["guideline_version"] == 1
    assert body["counts"]["unlabeled"] == 0
    assert set(body["counts"]) >= {"unlabeled", "labeled", "approved"}


def test_initial_categories_get_ids_in_the_order_given(project: dict[str, Any]) -> None:
    found = project["manager"].get(categories_url(project)).json()
    assert [(c["id"], c["name"], c["display_order"]) for c in found] == [
        (1, "cat", 0),
        (2, "dog", 1),
        (3, "bird", 2),
    ]


def test_projects_list_shows_the_callers_projects_newest_first(
    runtime: Runtime, project: dict[str, Any], make_user: Callable[..., Any]
) -> None:
    manager = project["manager"]
    second = manager.post("/api/v1/projects", json=RATING_PROJECT).json()
    third = manager.post("/api/v1/projects", json=RATING_PROJECT).json()
    annotator = make_user("annotator", project=project)
    add_member(runtime, third, annotator)
    with runtime.session() as session:
        _, raw = identity.create_api_token(session, annotator, "tests")
    response = manager.get("/api/v1/projects", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert [p["id"] for p in response.json()] == [third["id"], project["id"]]
    everything = manager.get("/api/v1/projects").json()
    assert [p["id"] for p in everything] == [third["id"], second["id"], project["id"]]


def test_getting_a_project_returns_what_was_created(
    project: dict[str, Any], bearer: Callable[..., dict[str, str]]
) -> None:
    response = project["manager"].get(
        f"/api/v1/projects/{project['id']}", headers=bearer("annotator", project=project)
    )
    assert response.status_code == 200
    body = response.json()
    for key in ("id", "name", "modality", "schema_version", "labels_hash", "guideline_version"):
        assert body[key] == project[key]


def test_unknown_project_is_404_json_naming_the_id(project: dict[str, Any]) -> None:
    response = project["manager"].get("/api/v1/projects/9999")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert "9999" in error["message"]
    assert "project" in error["message"]


def test_categories_of_an_unknown_project_is_404(project: dict[str, Any]) -> None:
    response = project["manager"].get("/api/v1/projects/9999/categories")
    assert response.status_code == 404
    assert "9999" in response.json()["error"]["message"]


def test_unknown_modality_is_422_at_modality_naming_what_is_installed(
    api_for: Callable[..., Client],
) -> None:
    response = api_for("manager").post(
        "/api/v1/projects", json={**RATING_PROJECT, "modality": "hologram"}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["path"] == "$.modality"
    assert "'hologram'" in error["message"]
    assert "installed: image" in error["message"]


def test_unknown_annotation_type_is_422_at_its_index_naming_what_is_installed(
    api_for: Callable[..., Client],
) -> None:
    response = api_for("manager").post(
        "/api/v1/projects", json={**RATING_PROJECT, "annotation_types": ["sentiment"]}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["path"] == "$.annotation_types[0]"
    assert "'sentiment'" in error["message"]
    assert "rating" in error["message"]


def test_a_failed_create_leaves_no_project_behind(api_for: Callable[..., Client]) -> None:
    manager = api_for("manager")
    manager.post("/api/v1/projects", json={**RATING_PROJECT, "modality": "hologram"})
    manager.post("/api/v1/projects", json={**RATING_PROJECT, "annotation_types": []})
    assert manager.get("/api/v1/projects").json() == []


def test_duplicate_initial_category_names_are_refused(api_for: Callable[..., Client]) -> None:
    manager = api_for("manager")
    response = manager.post(
        "/api/v1/projects", json={**RATING_PROJECT, "categories": ["car", "Car"]}
    )
    assert response.status_code == 409
    assert "'car'" in response.json()["error"]["message"]
    assert manager.get("/api/v1/projects").json() == []


def test_bad_quality_settings_are_422_with_the_settings_path(
    api_for: Callable[..., Client],
) -> None:
    response = api_for("manager").post(
        "/api/v1/projects", json={**RATING_PROJECT, "settings": {"overlap": 0}}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["path"].startswith("$.settings")
    assert "overlap" in error["message"]


@pytest.mark.parametrize(
    ("annotation_types", "options", "path", "message"),
    [
        (
            ["classification"],
            {"classification": {"mode": "many"}},
            "$.settings.annotation_options.classification.mode",
            "Invalid enum value 'many'. Classification options: mode: 'multi' or 'single' "
            "(default 'single')",
        ),
        (
            ["classification"],
            {"classification": {"mood": "single"}},
            "$.settings.annotation_options.classification",
            "unknown field `mood`",
        ),
        (
            ["rating"],
            {"classification": {"mode": "multi"}},
            "$.settings.annotation_options.classification",
            "not one of this project's annotation types (rating)",
        ),
        (
            ["rating"],
            {"rating": {"scale": 10}},
            "$.settings.annotation_options.rating",
            "Annotation type 'rating' takes no options",
        ),
    ],
)
def test_annotation_options_are_checked_against_what_the_plugin_declares(
    api_for: Callable[..., Client],
    annotation_types: list[str],
    options: dict[str, Any],
    path: str,
    message: str,
) -> None:
    manager = api_for("manager")
    body = {
        **RATING_PROJECT,
        "annotation_types": annotation_types,
        "settings": {"annotation_options": options},
    }
    response = manager.post("/api/v1/projects", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["path"] == path
    assert message in error["message"]
    assert manager.get("/api/v1/projects").json() == []


def test_a_multi_label_classification_project_keeps_its_mode(
    api_for: Callable[..., Client],
) -> None:
    body = {
        **RATING_PROJECT,
        "annotation_types": ["classification"],
        "settings": {"annotation_options": {"classification": {"mode": "multi"}}},
    }
    response = api_for("manager").post("/api/v1/projects", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["settings"]["annotation_options"] == {
        "classification": {"mode": "multi"}
    }


def test_an_annotator_cannot_create_a_project(api_for: Callable[..., Client]) -> None:
    annotator = api_for("annotator")
    response = annotator.post("/api/v1/projects", json=RATING_PROJECT)
    assert response.status_code == 403
    assert "manager" in response.json()["error"]["message"]
    assert annotator.get("/api/v1/projects").json() == []


def test_the_projects_api_needs_a_signed_in_caller(app: Any) -> None:
    with TestClient(app) as anonymous:
        response = anonymous.get("/api/v1/projects")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_signed_in"


# --- categories -----------------------------------------------------------------------------


def test_adding_a_category_takes_the_next_id_and_bumps_minor(project: dict[str, Any]) -> None:
    manager = project["manager"]
    _, hash_before = schema_of(project)
    response = manager.post(categories_url(project), json={"name": "fish"})
    assert response.status_code == 201, response.text
    assert response.json()["id"] == 4
    assert response.json()["display_order"] == 3
    version, labels_hash = schema_of(project)
    assert version == "1.1.0"
    assert labels_hash != hash_before
    assert live_names(project) == {1: "cat", 2: "dog", 3: "bird", 4: "fish"}


def test_renaming_a_category_keeps_its_id_and_bumps_minor(project: dict[str, Any]) -> None:
    manager = project["manager"]
    _, hash_before = schema_of(project)
    response = manager.patch(categories_url(project, 2), json={"name": "puppy"})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == 2
    assert live_names(project) == {1: "cat", 2: "puppy", 3: "bird"}
    version, labels_hash = schema_of(project)
    assert version == "1.1.0"
    assert labels_hash != hash_before


def test_reordering_categories_keeps_their_ids_and_bumps_patch_only(
    project: dict[str, Any],
) -> None:
    manager = project["manager"]
    _, hash_before = schema_of(project)
    assert manager.patch(categories_url(project, 3), json={"display_order": -1}).status_code == 200
    listed = manager.get(categories_url(project)).json()
    assert [(c["id"], c["name"]) for c in listed] == [(3, "bird"), (1, "cat"), (2, "dog")]
    version, labels_hash = schema_of(project)
    assert version == "1.0.1"
    assert labels_hash == hash_before


def test_changing_a_colour_bumps_patch_and_keeps_the_labels_hash(project: dict[str, Any]) -> None:
    manager = project["manager"]
    _, hash_before = schema_of(project)
    response = manager.patch(categories_url(project, 1), json={"color": "#000000"})
    assert response.json()["color"] == "#000000"
    assert schema_of(project) == ("1.0.1", hash_before)


def test_a_patch_that_changes_nothing_writes_no_schema_version(project: dict[str, Any]) -> None:
    manager = project["manager"]
    before = schema_of(project)
    response = manager.patch(categories_url(project, 1), json={"name": "cat", "deleted": False})
    assert response.status_code == 200
    assert schema_of(project) == before


def test_deleting_a_category_is_soft_keeps_its_id_and_bumps_major(
    project: dict[str, Any],
) -> None:
    manager = project["manager"]
    _, hash_before = schema_of(project)
    response = manager.patch(categories_url(project, 2), json={"deleted": True})
    assert response.status_code == 200
    assert response.json() == {**response.json(), "id": 2, "name": "dog", "deleted": True}
    assert live_names(project) == {1: "cat", 3: "bird"}
    everything = manager.get(categories_url(project), params={"include_deleted": True}).json()
    assert {c["id"]: c["deleted"] for c in everything} == {1: False, 2: True, 3: False}
    version, labels_hash = schema_of(project)
    assert version == "2.0.0"
    assert labels_hash != hash_before


def test_restoring_a_deleted_category_brings_back_the_same_id_and_hash(
    project: dict[str, Any],
) -> None:
    manager = project["manager"]
    _, original_hash = schema_of(project)
    manager.patch(categories_url(project, 2), json={"deleted": True})
    response = manager.patch(categories_url(project, 2), json={"deleted": False})
    assert response.status_code == 200
    assert response.json()["deleted"] is False
    assert live_names(project) == {1: "cat", 2: "dog", 3: "bird"}
    assert schema_of(project) == ("2.1.0", original_hash)


def test_ids_of_deleted_categories_are_never_reused(project: dict[str, Any]) -> None:
    manager = project["manager"]
    manager.patch(categories_url(project, 3), json={"deleted": True})
    response = manager.post(categories_url(project), json={"name": "parrot"})
    assert response.json()["id"] == 4
    # The deleted name is free again, but under a new id: old labels keep their meaning.
    again = manager.post(categories_url(project), json={"name": "bird"})
    assert again.status_code == 201, again.text
    assert again.json()["id"] == 5
    assert live_names(project) == {1: "cat", 2: "dog", 4: "parrot", 5: "bird"}


def test_a_duplicate_category_name_is_409_and_changes_nothing(project: dict[str, Any]) -> None:
    manager = project["manager"]
    before = schema_of(project)
    response = manager.post(categories_url(project), json={"name": "  DOG "})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert "'dog'" in error["message"]
    assert schema_of(project) == before
    assert live_names(project) == {1: "cat", 2: "dog", 3: "bird"}


def test_renaming_onto_another_categorys_name_is_409(project: dict[str, Any]) -> None:
    manager = project["manager"]
    response = manager.patch(categories_url(project, 1), json={"name": "Bird"})
    assert response.status_code == 409
    assert "'bird'" in response.json()["error"]["message"]
    assert live_names(project) == {1: "cat", 2: "dog", 3: "bird"}


def test_restoring_a_category_whose_name_was_taken_meanwhile_is_409(
    project: dict[str, Any],
) -> None:
    manager = project["manager"]
    manager.patch(categories_url(project, 2), json={"deleted": True})
    manager.post(categories_url(project), json={"name": "dog"})
    response = manager.patch(categories_url(project, 2), json={"deleted": False})
    assert response.status_code == 409
    assert "'dog'" in response.json()["error"]["message"]
    assert live_names(project) == {1: "cat", 3: "bird", 4: "dog"}


def test_an_empty_category_name_is_422_at_name(project: dict[str, Any]) -> None:
    response = project["manager"].post(categories_url(project), json={"name": "   "})
    assert response.status_code == 422
    assert response.json()["error"]["path"] == "$.name"


def test_patching_an_unknown_category_is_404_naming_it(project: dict[str, Any]) -> None:
    response = project["manager"].patch(categories_url(project, 77), json={"name": "x"})
    assert response.status_code == 404
    assert "77" in response.json()["error"]["message"]


def test_an_unknown_field_in_a_category_patch_is_400_naming_it(project: dict[str, Any]) -> None:
    response = project["manager"].patch(categories_url(project, 1), json={"colour": "#fff"})
    assert response.status_code == 400
    assert "colour" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("patch", "status", "message"),
    [
        ({"hotkey": "xy"}, 422, "A hotkey is a single key, not 'xy'"),
        ({"hotkey": "3"}, 422, "The key '3' picks the category at that position"),
        ({"hotkey": "?"}, 422, "The key '?' shows the keys on the labeling page"),
        ({"hotkey": "C"}, 409, "Hotkey 'C' is already used by 'cat'."),
        ({"color": "red"}, 422, "A colour is written #rrggbb, not 'red'"),
    ],
)
def test_the_api_refuses_bad_hotkeys_and_colours_like_the_page(
    project: dict[str, Any], patch: dict[str, str], status: int, message: str
) -> None:
    manager = project["manager"]
    assert manager.patch(categories_url(project, 1), json={"hotkey": "c"}).status_code == 200
    before = manager.get(categories_url(project)).json()
    response = manager.patch(categories_url(project, 3), json=patch)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]["message"]
    assert manager.get(categories_url(project)).json() == before


def test_adding_a_category_with_a_bad_colour_is_422(project: dict[str, Any]) -> None:
    response = project["manager"].post(
        categories_url(project), json={"name": "fish", "color": "blue"}
    )
    assert response.status_code == 422
    assert "A colour is written #rrggbb, not 'blue'" in response.json()["error"]["message"]
    assert live_names(project) == {1: "cat", 2: "dog", 3: "bird"}


@pytest.mark.parametrize("method", ["post", "patch"])
def test_an_annotator_cannot_change_categories(
    project: dict[str, Any], bearer: Callable[..., dict[str, str]], method: str
) -> None:
    url = categories_url(project) if method == "post" else categories_url(project, 1)
    send = getattr(project["manager"], method)
    response = send(url, json={"name": "intruder"}, headers=bearer("annotator", project=project))
    assert response.status_code == 403
    assert live_names(project) == {1: "cat", 2: "dog", 3: "bird"}

"""Server-rendered pages: projects, the create form, an item with its plugin's editor, static
files, the OpenAPI schema and signed media URLs."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from litestar.testing import TestClient

from scholia.core.runtime import Runtime
from scholia.server.media import media_url

from .conftest import png_bytes

Client = TestClient[Any]


@pytest.fixture
def manager(client_for: Callable[..., Client]) -> Client:
    """A signed-in manager's browser (the test's only client)."""
    return client_for("manager")


@pytest.fixture
def site(manager: Client) -> dict[str, Any]:
    """A rating project with one image, made through the manager's browser."""
    project = manager.post(
        "/api/v1/projects",
        json={
            "name": "Harbour photos",
            "modality": "image",
            "annotation_types": ["rating"],
            "categories": ["boat", "gull"],
            "guidelines": "Rate how sharp each photo is.",
        },
    )
    assert project.status_code == 201, project.text
    uploaded = manager.post(
        f"/api/v1/projects/{project.json()['id']}/items",
        files=[("files", ("boat.png", png_bytes(), "image/png"))],
    )
    assert uploaded.status_code == 201, uploaded.text
    return {"project": project.json(), "item": uploaded.json()["created"][0]}


def item_page(site: dict[str, Any]) -> str:
    return f"/projects/{site['project']['id']}/items/{site['item']['id']}"


def text_of(response: Any) -> str:
    return html.unescape(response.text)


# --- projects -------------------------------------------------------------------------------


def test_an_empty_projects_list_invites_a_manager_to_create_one(manager: Client) -> None:
    page = manager.get("/projects")
    assert page.status_code == 200
    assert "No projects yet" in page.text
    assert 'href="/projects/new"' in page.text


def test_an_empty_projects_list_tells_an_annotator_to_wait_for_a_manager(
    client_for: Callable[..., Client],
) -> None:
    page = client_for("annotator").get("/projects")
    assert "No projects yet" in page.text
    assert "When a manager creates a project" in page.text
    assert 'href="/projects/new"' not in page.text


def _card(page: Any, project_id: int) -> str:
    found = re.search(rf'<a [^>]*data-project-id="{project_id}".*?</a>', text_of(page), re.S)
    assert found is not None
    return found.group(0)


def test_an_annotator_s_card_shows_their_own_work_not_an_upload_prompt(
    client_for: Callable[..., Client], site: dict[str, Any]
) -> None:
    project_id, item_id = site["project"]["id"], site["item"]["id"]
    annotator = client_for("annotator", project=project_id)
    card = _card(annotator.get("/projects"), project_id)
    assert "upload" not in card.lower()
    assert "<strong>0</strong><span>labeled by you</span>" in card
    assert "Open it to start labeling." in card
    submitted = annotator.post(
        f"/api/v1/items/{item_id}/annotations",
        json={"annotation_type": "rating", "payload": {"value": 3}},
    )
    assert submitted.status_code == 201, submitted.text
    card = _card(annotator.get("/projects"), project_id)
    assert "<strong>1</strong><span>labeled by you</span>" in card
    assert "Open it to start labeling." not in card and "upload" not in card.lower()


def test_an_annotator_s_card_of_a_project_without_items_says_there_is_nothing_yet(
    client_for: Callable[..., Client], manager: Client
) -> None:
    created = manager.post(
        "/api/v1/projects",
        json={"name": "Empty", "modality": "image", "annotation_types": ["rating"]},
    )
    assert created.status_code == 201, created.text
    annotator = client_for("annotator", project=created.json()["id"])
    card = _card(annotator.get("/projects"), created.json()["id"])
    assert "Nothing to label yet" in card and "upload" not in card.lower()
    assert "upload media to start" in _card(manager.get("/projects"), created.json()["id"])


def test_the_projects_list_shows_each_project(manager: Client, site: dict[str, Any]) -> None:
    page = manager.get("/projects")
    assert f'data-project-id="{site["project"]["id"]}"' in page.text
    assert "Harbour photos" in page.text
    assert "No projects yet" not in page.text


def test_the_new_project_form_offers_the_installed_modalities_and_types(
    manager: Client,
) -> None:
    page = manager.get("/projects/new")
    assert page.status_code == 200
    assert 'name="modality" value="image"' in page.text
    assert 'name="annotation_types" value="rating"' in page.text


def test_creating_a_project_by_form_leads_to_its_page(manager: Client) -> None:
    response = manager.post(
        "/projects",
        data={
            "name": "Field birds",
            "modality": "image",
            "annotation_types": "rating",
            "categories": "heron\negret\n",
        },
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text
    target = response.headers["location"]
    assert target.startswith("/projects/")
    page = manager.get(target)
    assert "Project “Field birds” created." in page.text
    assert "heron" in page.text and "egret" in page.text


def test_a_create_form_error_rerenders_with_422_and_keeps_what_was_typed(
    manager: Client,
) -> None:
    response = manager.post(
        "/projects",
        data={
            "name": "Field birds",
            "description": "Spring survey",
            "modality": "image",
            "categories": "heron\negret",
            "guidelines": "Only adults.",
        },
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "Choose at least one annotation type" in page
    assert 'value="Field birds"' in page
    assert "Spring survey</textarea>" in page
    assert "heron\negret</textarea>" in page
    assert "Only adults.</textarea>" in page
    assert manager.get("/api/v1/projects").json() == []


def test_a_create_form_with_an_unknown_modality_names_what_is_installed(
    manager: Client,
) -> None:
    response = manager.post(
        "/projects",
        data={"name": "Scans", "modality": "mri", "annotation_types": "rating"},
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "'mri'" in page and "installed: image" in page
    assert 'value="Scans"' in page


def test_an_unknown_project_is_a_404_page_saying_what_was_not_found(manager: Client) -> None:
    response = manager.get("/projects/4040")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "No project with id 4040." in response.text
    assert 'href="/projects"' in response.text


def test_an_unknown_address_is_a_404_page(manager: Client) -> None:
    response = manager.get("/no/such/page")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "There is nothing at /no/such/page." in response.text


def test_the_project_page_shows_its_items_categories_schema_and_guidelines(
    manager: Client, site: dict[str, Any]
) -> None:
    page = manager.get(f"/projects/{site['project']['id']}")
    assert page.status_code == 200
    assert f'data-item-id="{site["item"]["id"]}"' in page.text
    assert "boat" in page.text and "gull" in page.text
    assert "v1.0.0" in page.text
    assert "Rate how sharp each photo is." in page.text


def test_uploading_through_the_page_reports_bad_files_and_keeps_the_good_ones(
    manager: Client, site: dict[str, Any]
) -> None:
    project_id = site["project"]["id"]
    response = manager.post(
        f"/projects/{project_id}/items",
        files=[
            ("files", ("gull.png", png_bytes(colour=(9, 9, 9)), "image/png")),
            ("files", ("notes.png", b"just text", "image/png")),
        ],
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "1 added" in page
    assert "Not added: 'notes.png' cannot be read" in page
    names = [i["name"] for i in manager.get(f"/api/v1/projects/{project_id}/items").json()["items"]]
    assert names == ["boat.png", "gull.png"]


# --- an item and its editor -----------------------------------------------------------------


def test_the_item_page_renders_the_rating_plugins_editor_and_loads_its_module(
    manager: Client, site: dict[str, Any]
) -> None:
    page = manager.get(item_page(site))
    assert page.status_code == 200
    assert "data-rating-editor" in page.text
    assert 'data-editor-root="rating"' in page.text
    assert '"module": "/static/plugins/scholia-rating/rating.js"' in page.text
    assert site["item"]["media_url"].replace("&", "&amp;") in page.text


def test_the_item_page_shows_the_item_through_its_modality_s_viewer(
    manager: Client, site: dict[str, Any]
) -> None:
    """The image plugin's viewer draws the item (the page names no media type); the page's
    state names its module for static/viewers.js to mount and hand to the editors."""
    page = manager.get(item_page(site)).text
    assert '<div class="viewer-root" data-viewer-root="image">' in page
    assert re.search(r'<img src="/media/[^"]+" alt="boat.png" draggable="false" data-image>', page)
    assert '"module": "/static/plugins/scholia-image/viewer.js"' in page
    assert "data-viewer-fallback" not in page
    assert '<script type="module" src="/static/item.js">' in page


def test_the_item_page_prefills_the_editor_with_my_current_annotation(
    manager: Client, site: dict[str, Any]
) -> None:
    created = manager.post(
        f"/api/v1/items/{site['item']['id']}/annotations",
        json={"annotation_type": "rating", "payload": {"value": 2, "comment": "soft focus"}},
    ).json()
    page = manager.get(item_page(site)).text
    assert f'"id": "{created["id"]}"' in page
    assert re.search(r'value="2"\s+checked', page)
    assert not re.search(r'value="[13-5]"\s+checked', page)
    assert "soft focus</textarea>" in page


def test_an_item_of_another_project_is_a_404_page(manager: Client, site: dict[str, Any]) -> None:
    other = manager.post(
        "/api/v1/projects",
        json={"name": "Other", "modality": "image", "annotation_types": ["rating"]},
    ).json()
    response = manager.get(f"/projects/{other['id']}/items/{site['item']['id']}")
    assert response.status_code == 404
    assert f"No item with id {site['item']['id']}." in response.text


def test_moving_an_item_from_its_page_shows_the_outcome(
    manager: Client, site: dict[str, Any]
) -> None:
    manager.post(
        f"/api/v1/items/{site['item']['id']}/annotations",
        json={"annotation_type": "rating", "payload": {"value": 4}},
    )
    moved = manager.post(f"{item_page(site)}/transition", data={"to": "approved"})
    assert moved.status_code == 200
    assert "Item moved to approved." in moved.text
    refused = manager.post(f"{item_page(site)}/transition", data={"to": "labeled"})
    assert refused.status_code == 200
    page = text_of(refused)
    assert "is 'approved' and cannot move to 'labeled'" in page
    assert manager.get(f"/api/v1/items/{site['item']['id']}").json()["status"] == "approved"


def test_the_plugins_page_lists_the_rating_plugin(manager: Client) -> None:
    page = manager.get("/plugins")
    assert page.status_code == 200
    assert 'data-plugin="scholia-rating"' in page.text
    assert "rating" in page.text


# --- static files and the API schema --------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/static/plugins/scholia-rating/rating.js",
        "/static/plugins/scholia-image/viewer.js",
        "/static/viewers.js",
        "/static/views.js",
        "/static/htmx.min.js",
        "/static/editor.js",
    ],
)
def test_editor_modules_and_htmx_are_served_as_javascript(app: Any, path: str) -> None:
    with TestClient(app) as browser:
        response = browser.get(path)
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert len(response.content) > 100


def test_plugin_stylesheets_are_served(app: Any) -> None:
    with TestClient(app) as browser:
        response = browser.get("/static/plugins/scholia-rating/rating.css")
    assert response.status_code == 200
    assert "text/css" in response.headers["content-type"]


def test_the_openapi_schema_documents_the_json_api(app: Any) -> None:
    with TestClient(app) as anybody:
        response = anybody.get("/api/v1/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/projects" in paths
    assert {"get", "post"} <= set(paths["/api/v1/projects"])
    assert "/api/v1/items/{item_id}/annotations" in paths
    pages = [p for p in paths if not p.startswith("/api/v1/") and p not in ("/healthz", "/readyz")]
    assert pages == [], "HTML pages do not belong in the API schema"


# --- signed media URLs ----------------------------------------------------------------------


def test_a_signed_media_url_serves_the_image(manager: Client, site: dict[str, Any]) -> None:
    response = manager.get(site["item"]["media_url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == png_bytes()


def test_a_signed_thumbnail_url_serves_a_webp(
    manager: Client, site: dict[str, Any], runtime: Runtime
) -> None:
    url = media_url(runtime.settings.secret_key, site["item"]["content_hash"], "thumb")
    response = manager.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert response.content[:4] == b"RIFF"


def test_a_thumbnail_asked_for_by_many_at_once_is_drawn_for_each(
    manager: Client, site: dict[str, Any], runtime: Runtime
) -> None:
    """A list and the labeling page's preload ask for the same new thumbnail together: each
    writes its own file before the rename, so none fails on another's."""
    url = media_url(runtime.settings.secret_key, site["item"]["content_hash"], "thumb")
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: manager.get(url).status_code, range(16)))
    assert statuses == [200] * 16
    thumbs = runtime.settings.data_dir / "thumbs"
    assert [p.suffix for p in thumbs.iterdir()] == [".webp"]  # no partial file left behind


def test_a_tampered_media_signature_is_403(manager: Client, site: dict[str, Any]) -> None:
    url = site["item"]["media_url"]
    signature = url.rsplit("signature=", 1)[1]
    forged = url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    response = manager.get(forged)
    assert response.status_code == 403
    assert "reload the page" in response.text


def test_a_media_url_whose_expiry_was_pushed_back_is_403(
    manager: Client, site: dict[str, Any]
) -> None:
    url = site["item"]["media_url"]
    expires = url.split("expires=", 1)[1].split("&", 1)[0]
    response = manager.get(url.replace(f"expires={expires}", f"expires={int(expires) + 86400}"))
    assert response.status_code == 403


def test_an_expired_media_url_is_403(
    manager: Client, site: dict[str, Any], runtime: Runtime
) -> None:
    url = media_url(
        runtime.settings.secret_key, site["item"]["content_hash"], now=time.time() - 3 * 3600
    )
    response = manager.get(url)
    assert response.status_code == 403
    assert "expired" in response.text


def test_a_media_url_signed_with_another_secret_is_403(
    manager: Client, site: dict[str, Any]
) -> None:
    url = media_url("some-other-secret-" + "y" * 32, site["item"]["content_hash"])
    assert manager.get(url).status_code == 403

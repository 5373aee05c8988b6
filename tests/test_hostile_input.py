"""Hostile input gets a clear 4xx with the field's path and stores nothing: ids beyond int64,
deep or huge or badly encoded JSON, NUL and bidi-override characters, over-long text, numbers
out of range, wrong types at depth."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from sqlmodel import select

from scholia.core import annotations, projects
from scholia.core.errors import InvalidInput
from scholia.core.models import Annotation, AuditEvent, Project
from scholia.core.runtime import Runtime

from .conftest import seed

Client = TestClient[Any]
HUGE = 99999999999999999999  # above int64 (9223372036854775807)


def error_of(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def stored_rows(runtime: Runtime) -> tuple[int, int, int]:
    """Projects, annotations and audit events: what a refused request must not add to."""
    with runtime.session() as session:
        return (
            len(session.exec(select(Project)).all()),
            len(session.exec(select(Annotation)).all()),
            len(session.exec(select(AuditEvent)).all()),
        )


# --- ids beyond int64 -------------------------------------------------------------------------


def test_path_ids_above_int64_answer_404_on_every_route(
    app: Any, api_for: Callable[..., Client]
) -> None:
    admin = api_for("admin")
    answers: dict[str, int] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or ":int}" not in route.path_format + route.path:
            continue
        path = re.sub(r"\{[^}:]+:int\}", str(HUGE), route.path)
        path = re.sub(r"\{[^}:]+:uuid\}", "00000000-0000-0000-0000-000000000000", path)
        path = re.sub(r"\{[^}:]+:(str|path)\}", "x", path)
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            response = admin.request(method, path, json={})
            answers[f"{method} {path}"] = response.status_code
    assert answers, "the app has routes with integer ids"
    wrong = {call: status for call, status in answers.items() if status != 404}
    assert wrong == {}


def test_an_item_id_above_int64_is_not_found_not_a_server_error(
    api_for: Callable[..., Client],
) -> None:
    response = api_for("admin").get(f"/api/v1/items/{HUGE}")
    assert response.status_code == 404, response.text
    assert error_of(response)["code"] == "not_found"


# --- JSON limits ------------------------------------------------------------------------------


def test_json_nested_deeper_than_the_limit_is_400_with_a_clear_message(
    project: dict[str, Any], item: dict[str, Any], runtime: Runtime
) -> None:
    before = stored_rows(runtime)
    deep = "[" * 1000 + "]" * 1000
    response = project["manager"].post(
        f"/api/v1/items/{item['id']}/annotations",
        content=f'{{"annotation_type": "rating", "payload": {deep}}}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert "nested" in error["message"] and "64" in error["message"]
    assert stored_rows(runtime) == before


def test_json_nested_within_the_limit_is_read_as_usual(project: dict[str, Any]) -> None:
    nested: Any = "leaf"
    for _ in range(40):
        nested = {"a": nested}
    response = project["manager"].patch(
        f"/api/v1/projects/{project['id']}/settings", json={"deep": nested}
    )
    assert response.status_code == 422, response.text  # an unknown setting, not a depth error
    assert "nested" not in error_of(response)["message"]


def test_a_json_body_over_the_size_limit_is_413_and_stores_nothing(
    api_for: Callable[..., Client], runtime: Runtime
) -> None:
    manager = api_for("manager")
    before = stored_rows(runtime)
    body = {
        "name": "Big",
        "modality": "image",
        "annotation_types": ["rating"],
        "categories": [f"c{n:07d}" for n in range(200_000)],
    }
    response = manager.post("/api/v1/projects", json=body)
    assert response.status_code == 413, response.text
    error = error_of(response)
    assert error["code"] == "too_large" and "JSON" in error["message"]
    assert stored_rows(runtime) == before


def test_invalid_utf8_in_a_json_body_is_400(
    api_for: Callable[..., Client], runtime: Runtime
) -> None:
    manager = api_for("manager")
    before = stored_rows(runtime)
    response = manager.post(
        "/api/v1/projects",
        content=b'{"name": "caf\xe9", "modality": "image", "annotation_types": ["rating"]}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert "UTF-8" in error_of(response)["message"]
    assert stored_rows(runtime) == before


# --- NUL and bidi-override characters ---------------------------------------------------------

BAD_CHARACTERS = ["\x00", "\u202e", "\u202a", "\u2066", "\u2069"]


def _new_project(text: str) -> dict[str, Any]:
    return {"name": "Ok", "modality": "image", "annotation_types": ["rating"], "guidelines": text}


@pytest.mark.parametrize("character", BAD_CHARACTERS, ids=["nul", "rlo", "lre", "lri", "pdi"])
def test_nul_and_bidi_overrides_in_a_project_are_422_with_the_path(
    character: str, api_for: Callable[..., Client], runtime: Runtime
) -> None:
    manager = api_for("manager")
    before = stored_rows(runtime)
    for body, path in [
        ({**_new_project(""), "name": f"evil{character}name"}, "$.name"),
        ({**_new_project(""), "description": f"a{character}b"}, "$.description"),
        ({**_new_project(""), "categories": ["cat", f"d{character}g"]}, "$.categories[1]"),
        (_new_project(f"Rate{character}it"), "$.guidelines"),
    ]:
        response = manager.post("/api/v1/projects", json=body)
        assert response.status_code == 422, response.text
        error = error_of(response)
        assert error["path"] == path, error
        assert "character" in error["message"]
    assert stored_rows(runtime) == before


def test_nul_in_the_fields_of_a_label_is_422_with_the_path(
    project: dict[str, Any], item: dict[str, Any], runtime: Runtime
) -> None:
    before = stored_rows(runtime)
    url = f"/api/v1/items/{item['id']}/annotations"
    good = {"annotation_type": "rating", "payload": {"value": 3}}
    for body, path in [
        ({**good, "reasoning": "because\x00"}, "$.reasoning"),
        ({**good, "client_op_id": "op\x00-1"}, "$.client_op_id"),
        ({**good, "payload": {"value": 1, "comment": "blurry\u202e"}}, "$.payload.comment"),
        ({"annotation_type": "rat\x00ing", "payload": {"value": 3}}, "$.annotation_type"),
    ]:
        response = project["manager"].post(url, json=body)
        assert response.status_code == 422, response.text
        assert error_of(response)["path"] == path
    assert stored_rows(runtime) == before


def test_nul_in_category_token_and_review_text_is_422(
    project: dict[str, Any], item: dict[str, Any], api_for: Callable[..., Client]
) -> None:
    manager = project["manager"]
    calls = [
        ("post", f"/api/v1/projects/{project['id']}/categories", {"name": "x\x00"}, "$.name"),
        ("patch", f"/api/v1/projects/{project['id']}/categories/1", {"name": "\u2066y"}, "$.name"),
        ("post", "/api/v1/tokens", {"name": "laptop\x00"}, "$.name"),
        (
            "post",
            f"/api/v1/projects/{project['id']}/reviews",
            {"item_ids": [item["id"]], "decision": "approved", "comment": "ok\x00"},
            "$.comment",
        ),
        ("post", f"/api/v1/items/{item['id']}/skip", {"reason": "\x00"}, "$.reason"),
        (
            "post",
            f"/api/v1/items/{item['id']}/transitions",
            {"to": "x", "reason": "\x00"},
            "$.reason",
        ),
    ]
    for method, url, body, path in calls:
        response = manager.request(method, url, json=body)
        assert response.status_code == 422, (url, response.text)
        assert error_of(response)["path"] == path, (url, response.text)
    tokens = manager.get("/api/v1/tokens").json()
    assert all("\x00" not in t["name"] for t in tokens)


def test_a_page_form_with_a_nul_answers_a_page_with_the_message(
    client_for: Callable[..., Client], runtime: Runtime
) -> None:
    browser = client_for("manager")
    before = stored_rows(runtime)
    response = browser.post(
        "/projects",
        data={"name": "Evil\x00", "modality": "image", "annotation_types": "rating"},
    )
    assert response.status_code == 422, response.text
    assert "text/html" in response.headers["content-type"]
    assert "character" in response.text and "name" in response.text
    assert stored_rows(runtime) == before


def test_hostile_query_numbers_never_answer_500(
    project: dict[str, Any], item: dict[str, Any]
) -> None:
    items = f"/api/v1/projects/{project['id']}/items"
    for params in ({"after": HUGE}, {"limit": HUGE}, {"after": -HUGE}, {"limit": -1}):
        response = project["manager"].get(items, params=params)
        assert response.status_code < 500, (params, response.text)


def test_an_over_long_file_name_is_refused_by_name_and_the_batch_goes_on(
    project: dict[str, Any],
) -> None:
    from .conftest import png_bytes

    long_name = "a" * 600 + ".png"
    response = project["manager"].post(
        f"/api/v1/projects/{project['id']}/items",
        files=[
            ("files", (long_name, png_bytes(colour=(1, 1, 1)), "image/png")),
            ("files", ("short.png", png_bytes(colour=(2, 2, 2)), "image/png")),
        ],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert [i["name"] for i in body["created"]] == ["short.png"]
    (problem,) = body["errors"]
    assert problem["file"] == long_name and "at most 255" in problem["message"]


def test_a_nul_in_an_uploaded_file_name_is_refused(project: dict[str, Any]) -> None:
    from .conftest import png_bytes

    response = project["manager"].post(
        f"/api/v1/projects/{project['id']}/items",
        files=[("files", ("bad\u202egnp.png", png_bytes(), "image/png"))],
    )
    assert response.status_code == 422, response.text
    assert error_of(response)["path"] == "$.files[0].filename"


# --- length limits ----------------------------------------------------------------------------


def test_over_long_text_is_refused_with_the_path(
    project: dict[str, Any], item: dict[str, Any], runtime: Runtime
) -> None:
    manager = project["manager"]
    before = stored_rows(runtime)
    response = manager.post("/api/v1/projects", json={**_new_project(""), "name": "n" * 201})
    assert response.status_code == 400, response.text  # the request's schema says so
    assert error_of(response)["path"] == "$.name"
    assert "length <= 200" in error_of(response)["message"]
    url = f"/api/v1/items/{item['id']}/annotations"
    good = {"annotation_type": "rating", "payload": {"value": 3}}
    for field, size in [("reasoning", 10_001), ("client_op_id", 101)]:
        response = manager.post(url, json={**good, field: "r" * size})
        assert response.status_code == 400, response.text
        assert error_of(response)["path"] == f"$.{field}"
    assert stored_rows(runtime) == before
    response = manager.post(url, json={**good, "reasoning": "r" * 10_000})
    assert response.status_code == 201, response.text


def test_a_ten_megabyte_reasoning_is_not_stored(
    project: dict[str, Any], item: dict[str, Any], runtime: Runtime
) -> None:
    before = stored_rows(runtime)
    response = project["manager"].post(
        f"/api/v1/items/{item['id']}/annotations",
        json={"annotation_type": "rating", "payload": {"value": 3}, "reasoning": "x" * 10_000_000},
    )
    assert response.status_code == 413, response.text
    assert stored_rows(runtime) == before


def test_the_openapi_schema_shows_the_length_limits(api_for: Callable[..., Client]) -> None:
    schema = api_for("annotator").get("/api/v1/schema/openapi.json").json()
    components = schema["components"]["schemas"]
    assert components["ProjectIn"]["properties"]["name"]["maxLength"] == 200
    annotation = components["AnnotationIn"]["properties"]
    reasoning = annotation["reasoning"]
    limits = [reasoning.get("maxLength")] + [o.get("maxLength") for o in reasoning.get("oneOf", [])]
    assert 10_000 in limits
    op_id = annotation["client_op_id"]
    limits = [op_id.get("maxLength")] + [o.get("maxLength") for o in op_id.get("oneOf", [])]
    assert 100 in limits
    assert components["CategoryIn"]["properties"]["name"]["maxLength"] == 200
    assert components["TokenIn"]["properties"]["name"]["maxLength"] == 200


def test_the_core_refuses_over_long_and_nul_text(runtime: Runtime) -> None:
    user, _, item = seed(runtime)
    assert user.id is not None and item.id is not None
    with runtime.session() as session:
        for name in ("n" * 201, "bad\x00"):
            with pytest.raises(InvalidInput) as refused:
                projects.create_project(
                    session,
                    runtime.plugins,
                    actor_id=user.id,
                    name=name,
                    modality="image",
                    annotation_types=("rating",),
                )
            assert refused.value.path == "$.name"
    with runtime.session() as session:
        with pytest.raises(InvalidInput) as refused:
            annotations.submit(
                session,
                runtime.plugins,
                item_id=item.id,
                annotator_id=user.id,
                annotation_type="rating",
                payload={"value": 3},
                reasoning="r" * 10_001,
            )
        assert refused.value.path == "$.reasoning"


# --- hostile bodies on the main write routes -------------------------------------------------


def test_hostile_numbers_and_types_are_4xx_with_a_path(
    project: dict[str, Any], item: dict[str, Any], runtime: Runtime
) -> None:
    manager = project["manager"]
    before = stored_rows(runtime)
    label = f"/api/v1/items/{item['id']}/annotations"
    good = {"annotation_type": "rating", "payload": {"value": 3}}
    pid = project["id"]
    calls: list[tuple[str, str, Any]] = [
        ("post", label, {**good, "time_spent_ms": 10**30}),
        ("post", label, {**good, "time_spent_ms": -5}),
        ("post", label, {**good, "time_spent_ms": 1.5}),
        ("post", label, {**good, "payload": {"value": {"deep": [1, {"x": None}]}}}),
        ("post", label, {**good, "payload": {"value": 10**30}}),
        ("post", label, {**good, "client_op_id": ""}),
        ("post", label, {"annotation_type": "", "payload": {"value": 3}}),
        ("post", label, [1, 2, 3]),
        ("post", f"/api/v1/projects/{pid}/categories", {"name": ""}),
        ("post", f"/api/v1/projects/{pid}/categories", {"name": ["a"]}),
        ("patch", f"/api/v1/projects/{pid}/categories/1", {"display_order": 10**30}),
        ("patch", f"/api/v1/projects/{pid}/categories/{HUGE}", {"name": "x"}),
        ("patch", f"/api/v1/projects/{pid}/settings", {"overlap": 10**30}),
        ("patch", f"/api/v1/projects/{pid}/settings", {"overlap": -3}),
        ("patch", f"/api/v1/projects/{pid}/settings", {"gold": {"rate": "x"}}),
        ("post", "/api/v1/projects", {**_new_project(""), "name": ""}),
        ("post", "/api/v1/projects", {**_new_project(""), "settings": {"overlap": 1.5}}),
        ("post", f"/api/v1/items/{item['id']}/skip", {"reason": 5}),
        ("post", "/api/v1/tokens", {"name": ""}),
        ("post", "/api/v1/tokens", {"name": {"a": 1}}),
        ("post", f"/api/v1/projects/{pid}/reviews", {"item_ids": [HUGE], "decision": "approved"}),
        ("post", f"/api/v1/projects/{pid}/suggestion-jobs", {"scope": "items", "item_ids": [HUGE]}),
        ("post", f"/api/v1/projects/{pid}/suggestion-jobs", {"model_id": HUGE}),
        ("post", f"/api/v1/projects/{pid}/datasets", {"selection": {"category_ids": [HUGE]}}),
    ]
    answers = {}
    for method, url, body in calls:
        response = manager.request(method, url, json=body)
        answers[f"{method} {url} {str(body)[:80]}"] = response.status_code
        assert 400 <= response.status_code < 500, (url, body, response.text)
        error = error_of(response)
        if response.status_code in (400, 422):
            assert error.get("path"), (url, body, response.text)
    assert stored_rows(runtime) == before

"""The access table holds for every route of the app: walked as each project role, as a
signed-in non-member and as an admin, against real objects of one project.

A route without an entry fails here (and is refused by the app); a non-member gets 404 on
every route under a project, exactly as for an object that does not exist; a member whose
role is too low gets 403 naming the role; an allowed role gets neither.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from sqlmodel import col, select

from scholia.core import datasets, membership, standing
from scholia.core.models import Expansion, Suggestion
from scholia.core.runtime import Runtime
from scholia.server.access import PROJECT_LEVELS, PUBLIC, AccessTable
from scholia.server.media import media_url

from .conftest import csrf_token, png_bytes
from .modelling import registered, run_job, train

ROLES = ("annotator", "reviewer", "adjudicator", "manager")

HANDLER_SAYS_NO: dict[tuple[str, str], set[int]] = {
    ("GET", "/api/v1/schema/{path}"): {404},  # Litestar's answer for an unknown schema path
    ("GET", "/sign-in/link"): {404},  # only offered by `scholia demo`
    ("POST", "/sign-in"): {401},  # no username and password in the body
    ("GET", "/metrics"): {403},  # the signed-in caller here manages no project
    # Nobody in the project has taken calibration, so there is no attempt to add to.
    ("POST", "/api/v1/projects/{project_id}/calibration/{annotator_id}/grant"): {404},
}
"""Allowed callers the handler itself refuses on this project's objects, and how."""


@dataclass
class World:
    app: Any
    clients: dict[str, TestClient[Any]]
    params: dict[str, Any]
    media: str


@pytest.fixture
def world(
    app: Any,
    runtime: Runtime,
    api_for: Callable[..., TestClient[Any]],
    make_user: Callable[..., Any],
    tmp_path: Path,
) -> World:
    """One project with one of everything (item, annotation, dataset version, model,
    suggestion job and suggestion, expansion, suspension), and a client per caller."""
    project = registered(api_for, train(tmp_path))
    project_id, manager = project["id"], project["manager"]
    clients = {role: api_for(role, project=project_id) for role in ROLES if role != "manager"}
    clients["manager"] = manager
    clients["outsider"] = api_for("manager")  # may create projects, but is no member here
    clients["admin"] = api_for("admin")
    annotator = clients["annotator"]
    item = annotator.post(f"/api/v1/projects/{project_id}/queue/next").json()["item"]
    annotation = annotator.post(
        f"/api/v1/items/{item['id']}/annotations",
        json={"annotation_type": "classification", "payload": {"category_ids": [1]}},
    ).json()
    job = run_job(manager, project_id)
    owner = manager.user.id  # type: ignore[attr-defined]
    suspended = make_user("annotator", project=project_id)
    with runtime.session() as session:
        suggestion = session.exec(
            select(Suggestion).where(col(Suggestion.project_id) == project_id)
        ).first()
        assert suggestion is not None
        version = datasets.create(
            session, project_id, datasets.parse_selection({"statuses": ["labeled"]}), owner
        )
        expansion = Expansion(
            project_id=project_id,
            source_sha256=item["content_hash"],
            name="clip.mp4",
            modality="image",
            options={},
            options_key="-",
            meta={"duration_ms": 2000, "fps": 25.0, "width": 32, "height": 24, "codec": "h264"},
            status="done",
            created_by=owner,
        )
        session.add(expansion)
        suspension = standing.suspend(
            session,
            project_id,
            suspended.id,
            reason="below the gold threshold",
            evidence={},
            since=datetime.now(UTC),
            actor_id=owner,
        )
        session.flush()
        ids = (version.id, expansion.id, suspension.id)
    datasets.build(runtime, ids[0])  # type: ignore[arg-type]
    token = clients["outsider"].post("/api/v1/tokens", json={"name": "spare"}).json()
    spare_api = make_user("annotator", project=project_id)
    spare_page = make_user("annotator", project=project_id)
    params = {
        "project_id": project_id,
        "item_id": item["id"],
        "annotation_id": annotation["id"],
        "version_id": ids[0],
        "model_id": project["model"]["id"],
        "job_id": job["id"],
        "suggestion_id": str(suggestion.id),
        "expansion_id": ids[1],
        "job_key": f"expansion-{ids[1]}",
        "suspension_id": ids[2],
        "category_id": 1,
        "annotator_id": annotator.user.id,  # type: ignore[attr-defined]
        "token_id": token["details"]["id"],
        "user_id": (spare_api.id, spare_page.id),
        "path": "nothing-here",
        "variant": "thumb",
        "sha256": item["content_hash"],
    }
    media = media_url(runtime.settings.secret_key, item["content_hash"], "thumb")
    return World(app=app, clients=clients, params=params, media=media)


@dataclass(frozen=True)
class Endpoint:
    method: str
    template: str


def endpoints(app: Any) -> Iterator[Endpoint]:
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                yield Endpoint(method, route.path_format)


def static_file(app: Any, template: str) -> str:
    """A real file under a static route, so the request reaches it."""
    runtime = app.state["runtime"]
    if template == "/static/{file_path}":
        return "scholia.css"
    name = template.split("/")[3]
    info = next(i for i in runtime.plugins.loaded if i.name == name)
    return (
        next(p for p in sorted(info.static_dir.rglob("*")) if p.is_file())
        .relative_to(info.static_dir)
        .as_posix()
    )


def url_of(world: World, endpoint: Endpoint) -> str:
    if endpoint.template == "/media/{sha256}/{variant}":
        return world.media

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "file_path":
            return static_file(world.app, endpoint.template)
        found = world.params[name]
        if name == "user_id":
            found = found[0] if endpoint.template.startswith("/api/") else found[1]
        return str(found)

    return re.sub(r"{(\w+)}", value, endpoint.template)


def call(client: TestClient[Any], endpoint: Endpoint, url: str) -> Any:
    """The request with a body no handler accepts, so an allowed call changes little."""
    if endpoint.method in ("GET", "DELETE"):
        return client.request(endpoint.method, url, follow_redirects=False)
    return client.request(
        endpoint.method,
        url,
        content=b"{not json",
        headers={"content-type": "application/json"},
        follow_redirects=False,
    )


def permits(role: str, who: str) -> bool:
    """Whether a member with ``role`` may call a route for ``who`` (any member, or a role)."""
    return who == "member" or membership.holds(role, who)


def test_every_route_has_an_access_rule_and_every_rule_a_route(app: Any) -> None:
    table: AccessTable = app.state["access"]
    found = list(endpoints(app))
    missing = [
        f"{e.method} {e.template}" for e in found if table.rule_for(e.method, e.template) is None
    ]
    assert missing == [], "add these routes to scholia.server.access.ACCESS"
    served = {(e.method, e.template) for e in found}
    stale = [f"{m} {t}" for m, t in table.rules if (m, t) not in served]
    assert stale == [], "these access rules name no route"


def test_each_route_refuses_non_members_and_too_low_roles_and_lets_the_others_in(
    world: World,
) -> None:
    table: AccessTable = world.app.state["access"]
    anonymous = TestClient(world.app)
    anonymous.headers["x-csrftoken"] = csrf_token(anonymous)  # refused by the table, not CSRF
    problems: list[str] = []
    for endpoint in endpoints(world.app):
        who = table.rule_for(endpoint.method, endpoint.template)
        assert who is not None
        url = url_of(world, endpoint)
        where = f"{endpoint.method} {endpoint.template}"
        handler_no = HANDLER_SAYS_NO.get((endpoint.method, endpoint.template), set())

        def allowed(
            caller: str, response: Any, where: str = where, no: set[int] = handler_no
        ) -> None:
            status = response.status_code
            if status in {401, 403, 404} - no or status >= 500:
                problems.append(f"{where}: {caller} (allowed) got {status} {response.text[:200]}")

        if who == PUBLIC:
            allowed("anonymous", call(anonymous, endpoint, url))
            continue
        refused = call(anonymous, endpoint, url)
        if refused.status_code not in (302, 303, 401):
            problems.append(f"{where}: anonymous got {refused.status_code}")
        if who not in PROJECT_LEVELS:
            caller = "admin" if who == "admin" else "outsider"
            allowed(caller, call(world.clients[caller], endpoint, url))
            continue
        outsider = call(world.clients["outsider"], endpoint, url)
        if outsider.status_code != 404:
            problems.append(f"{where}: a non-member got {outsider.status_code}, not 404")
        for role in ROLES:
            if not permits(role, who):
                response = call(world.clients[role], endpoint, url)
                if response.status_code != 403 or who not in response.text:
                    problems.append(f"{where}: {role} (needs {who}) got {response.status_code}")
        lowest = next(r for r in ROLES if permits(r, who))
        allowed(lowest, call(world.clients[lowest], endpoint, url))
        if endpoint.method == "GET":
            allowed("admin", call(world.clients["admin"], endpoint, url))
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/api/v1/projects/{project_id}", "project"),
        ("/api/v1/projects/{project_id}/categories", "project"),
        ("/api/v1/items/{item_id}", "item"),
        ("/api/v1/datasets/{version_id}", "dataset version"),
        ("/projects/{project_id}/items/{item_id}", "project"),
    ],
)
def test_a_non_member_cannot_tell_a_project_object_from_a_missing_one(
    runtime: Runtime, api_for: Callable[..., TestClient[Any]], path: str, kind: str
) -> None:
    manager = api_for("manager")
    project = manager.post(
        "/api/v1/projects",
        json={"name": "Private", "modality": "image", "annotation_types": ["rating"]},
    ).json()
    item = manager.post(
        f"/api/v1/projects/{project['id']}/items",
        files=[("files", ("a.png", png_bytes(), "image/png"))],
    ).json()["created"][0]
    with runtime.session() as session:
        owner = manager.user.id  # type: ignore[attr-defined]
        selection = datasets.parse_selection({"statuses": ["unlabeled"]})
        version = datasets.create(session, project["id"], selection, owner)
    values = {"project_id": project["id"], "item_id": item["id"], "version_id": version.id}
    first = re.findall(r"{(\w+)}", path)[0]
    absent = {**values, first: 99999}
    outsider = api_for("manager")
    real = outsider.get(path.format(**values))
    missing = outsider.get(path.format(**absent))
    assert real.status_code == missing.status_code == 404
    said = f"No {kind} with id {values[first]}."
    assert said in real.text
    if path.startswith("/api/"):  # the same body, but for the id
        assert real.json() == {"error": {**missing.json()["error"], "message": said}}

"""Nothing an annotator can fetch tells a gold item from any other.

Two worlds, built the same way: a project with the same two images X and Y, the same
annotator holding both. The only difference: in the first world Y is gold. Every GET route of
the app that takes a project or an item (read from Litestar's route list, so a new route is
covered without touching this test) is fetched by the annotator in both worlds, before and
after they work on the items; with ids, times, signatures and tokens normalised, the two
worlds must read the same, and no response ever says "gold". Routes guarded for reviewers and
above are only checked to refuse the annotator.
"""

from __future__ import annotations

import difflib
import io
import json
import re
from typing import Any

import pytest
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from scholia.core import gold, identity, items, projects, queue, slots
from scholia.core.models import Item, Role, User
from scholia.core.runtime import Runtime
from scholia.server.access import AccessTable

from .conftest import PASSWORD, add_member, csrf_token, png_bytes, sign_in

Client = TestClient[Any]
QA_ROLES = {Role.reviewer, Role.adjudicator, Role.manager, Role.admin}
"""Access levels above an annotator's (the access table's names are the roles' values)."""
ITEM_KEYS = {"id", "item_id", "next_after", "previous", "next", "next_todo"}


def required_role(app: Any, route: HTTPRoute) -> str | None:
    """Who the access table lets call GET ``route``."""
    table: AccessTable = app.state["access"]
    return table.rule_for("GET", route.path_format)


def annotator_routes(app: Any) -> tuple[list[tuple[str, bool]], list[str]]:
    """GET routes with a project or item parameter: (path, guarded for QA roles); and the
    paths of guarded ones."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or "GET" not in route.methods:
            continue
        names = set(route.path_parameters)
        if not names & {"project_id", "item_id"} or names - {"project_id", "item_id"}:
            continue
        found.append((route.path, required_role(app, route) in QA_ROLES))
    return found, [p for p, guarded in found if guarded]


class World:
    """One project with images X and Y (Y gold when ``gold_y``), and the annotator's claims."""

    def __init__(self, runtime: Runtime, owner: User, annotator: User, gold_y: bool) -> None:
        assert owner.id is not None and annotator.id is not None
        with runtime.session() as session:
            project = projects.create_project(
                session,
                runtime.plugins,
                actor_id=owner.id,
                name="Birds",
                modality="image",
                annotation_types=["classification"],
                categories=["cat", "dog", "bird"],
                settings={"gold_rate": 0.0},
            )
            made = [
                items.ingest(
                    session,
                    runtime.store,
                    runtime.plugins,
                    project,
                    name=name,
                    source=io.BytesIO(data),
                    actor_id=owner.id,
                ).item
                for name, data in (("x.png", X_BYTES), ("y.png", Y_BYTES))
            ]
        assert project.id is not None
        add_member(runtime, project.id, annotator, "annotator")
        self.project_id = project.id
        self.x, self.y = (i.id for i in made)
        assert self.x is not None and self.y is not None
        if gold_y:
            with runtime.session() as session:
                gold.mark_gold(
                    session,
                    runtime.plugins,
                    project.id,
                    self.y,
                    annotation_type="classification",
                    payload={"category_ids": [1]},
                    explanation="Whiskers.",
                    actor_id=owner.id,
                )
        with runtime.session() as session:
            # An item comes from the queue (X in the gold world; either in the plain world,
            # whose shuffle may put Y first); Y as a gold draw gets it (a slot of the
            # annotator's own, held like any claim). In the plain world the other is claimed
            # like the first.
            first = queue.claim_next(session, project.id, annotator.id)
            assert first is not None and (first.id == self.x or not gold_y)
            if gold_y:
                slots.add_slot(session, self.y, annotator.id)
            else:
                other = self.y if first.id == self.x else self.x
                queue.ensure_slot(session, session.get(Item, other), annotator.id)  # type: ignore[arg-type]

    def tokens(self) -> dict[str, dict[int, str]]:
        return {"project": {self.project_id: "P"}, "item": {self.x: "X", self.y: "Y"}}  # type: ignore[dict-item]


def _bytes(colour: tuple[int, int, int]) -> bytes:
    return png_bytes(colour=colour)


FILLER = 40
X_BYTES = _bytes((10, 120, 200))
Y_BYTES = _bytes((10, 121, 200))

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(\+00:00|Z)?( UTC)?")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SIGNED = re.compile(r"expires=\d+(&amp;|&)signature=[\w-]+")
_CSRF = re.compile(r'(name="_csrf_token" value=|"csrf_token": ?|csrf-token" content=)"[^"]*"')


def normalise_text(text: str, world: World) -> str:
    tokens = world.tokens()
    text = _SIGNED.sub("SIGNED", text)
    text = _TIME.sub("TIME", text)
    text = _UUID.sub("UUID", text)
    text = _CSRF.sub(r"\1CSRF", text)
    for number, token in tokens["project"].items():
        text = re.sub(rf"/projects/{number}\b", f"/projects/{token}", text)
        text = text.replace(f'data-project-id="{number}"', f'data-project-id="{token}"')
        text = re.sub(rf'"project_id": ?{number}\b', f'"project_id": {token}', text)
    for number, token in tokens["item"].items():
        for context in _ITEM_CONTEXTS:
            text = re.sub(context.format(n=number), rf"\g<1>{token}", text)
    return text


_ITEM_CONTEXTS = (
    r"(/items/){n}\b",
    r"(/label/){n}\b",
    r'(data-[\w-]*item[\w-]*="){n}"',
    r"(item ){n}\b",
    r'("(?:id|item_id|next|next_todo|previous)": ?){n}\b',
    r"(Item ){n}\b",
)
"""Where an item id shows in a page: its URLs, data attributes, and the words around it."""


def normalise_json(value: Any, world: World, key: str | None = None, parent: Any = None) -> Any:
    tokens = world.tokens()
    if isinstance(value, dict):
        return {k: normalise_json(v, world, k, value) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise_json(v, world, key, parent) for v in value]
    if isinstance(value, bool) or not isinstance(value, int | str):
        return value
    if isinstance(value, str):
        return normalise_text(value, world)
    is_project = key == "project_id" or (
        key == "id" and isinstance(parent, dict) and "modality" in parent
    )
    if is_project:
        return tokens["project"].get(value, value)
    if key == "id" and isinstance(parent, dict) and "labels_hash" in parent:
        return "SCHEMA"  # a schema version's own row id
    if key in ITEM_KEYS:
        return tokens["item"].get(value, value)
    if key in {"guideline_version_id"}:
        return "G"
    return value


def fetch(client: Client, path: str, world: World, item: str | None) -> tuple[int, Any]:
    url = path.replace("{project_id:int}", str(world.project_id))
    if item is not None:
        url = url.replace("{item_id:int}", str(world.x if item == "X" else world.y))
    response = client.get(url, follow_redirects=False)
    body = response.text
    assert "gold" not in body.lower(), f"{url} says gold to an annotator: {body[:500]}"
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.status_code, normalise_json(response.json(), world)
    location = response.headers.get("location")
    shown = normalise_text(location, world) if location else normalise_text(body, world)
    return response.status_code, shown


@pytest.fixture
def worlds(runtime: Runtime, app: Any, open_clients: list[Client]) -> tuple[Client, World, World]:
    with runtime.session() as session:
        owner = identity.create_user(session, username="owner", password=PASSWORD, roles=["admin"])
        annotator = identity.create_user(
            session, username="ann", password=PASSWORD, roles=["annotator"]
        )
    assert len(X_BYTES) == len(Y_BYTES), "the two images must have the same size in bytes"
    # Items of another project first, so the worlds' item ids are told apart from the small
    # numbers of a page (category ids, counts) when they are normalised.
    with runtime.session() as session:
        filler = projects.create_project(
            session,
            runtime.plugins,
            actor_id=owner.id,  # type: ignore[arg-type]
            name="Filler",
            modality="image",
            annotation_types=["classification"],
        )
        for n in range(FILLER):
            items.ingest(
                session,
                runtime.store,
                runtime.plugins,
                filler,
                name=f"f{n}.png",
                source=io.BytesIO(png_bytes(colour=(n, 0, 0), size=(2, 2))),
                actor_id=owner.id,  # type: ignore[arg-type]
            )
    gold_world = World(runtime, owner, annotator, gold_y=True)
    plain_world = World(runtime, owner, annotator, gold_y=False)
    client = TestClient(app)
    client.__enter__()
    open_clients.append(client)
    assert sign_in(client, "ann").status_code in (302, 303)
    client.headers["x-csrftoken"] = csrf_token(client)
    return client, gold_world, plain_world


def diff(a: Any, b: Any) -> str:
    def lines(v: Any) -> list[str]:
        text = v[1] if isinstance(v[1], str) else json.dumps(v[1], indent=1, sort_keys=True)
        return [f"status {v[0]}", *text.splitlines()]

    return "\n".join(difflib.unified_diff(lines(a), lines(b), "gold", "plain", lineterm="", n=1))


def compare_everything(app: Any, client: Client, gold_world: World, plain_world: World) -> int:
    routes, guarded = annotator_routes(app)
    compared = 0
    for path, is_guarded in routes:
        targets = ["X", "Y"] if "{item_id" in path else [None]
        for target in targets:
            seen_gold = fetch(client, path, gold_world, target)
            seen_plain = fetch(client, path, plain_world, target)
            if is_guarded:
                assert seen_gold[0] == seen_plain[0] == 403, (path, seen_gold[0])
                continue
            assert seen_gold == seen_plain, f"{path} ({target}) differs with Y gold:\n" + diff(
                seen_gold, seen_plain
            )
            compared += 1
    assert guarded, "some routes are for QA roles only"
    # The routes without parameters list both worlds side by side: compare their parts.
    listing = client.get("/projects").text
    cards = [
        normalise_text(
            re.search(rf'<a [^>]*data-project-id="{w.project_id}".*?</a>', listing, re.S).group(0),
            w,
        )  # type: ignore[union-attr]
        for w in (gold_world, plain_world)
    ]
    assert cards[0] == cards[1], diff((200, cards[0]), (200, cards[1]))
    api = {p["id"]: p for p in client.get("/api/v1/projects").json()}
    assert normalise_json(api[gold_world.project_id], gold_world) == normalise_json(
        api[plain_world.project_id], plain_world
    )
    return compared


def test_an_annotator_cannot_tell_a_gold_item_from_any_other(
    app: Any, worlds: tuple[Client, World, World]
) -> None:
    client, gold_world, plain_world = worlds
    routes, _ = annotator_routes(app)
    paths = {p for p, _ in routes}
    # The routes an annotator works with are among those enumerated (and so compared).
    for expected in (
        "/projects/{project_id:int}/label/{item_id:int}",
        "/projects/{project_id:int}/items/{item_id:int}",
        "/api/v1/items/{item_id:int}",
        "/api/v1/items/{item_id:int}/annotations",
        "/projects/{project_id:int}",
    ):
        assert expected in paths, expected
    assert compare_everything(app, client, gold_world, plain_world) > 10

    # After work: the annotator labels Y (missing the gold answer) and skips X, in both worlds.
    for world in (gold_world, plain_world):
        labeled = client.post(
            f"/api/v1/items/{world.y}/annotations",
            json={"annotation_type": "classification", "payload": {"category_ids": [2]}},
        )
        assert labeled.status_code == 201, labeled.text
        assert "gold" not in labeled.text.lower()
        skipped = client.post(f"/api/v1/items/{world.x}/skip", json={})
        assert skipped.status_code == 200, skipped.text
        after_skip = client.post(f"/api/v1/projects/{world.project_id}/queue/next")
        assert after_skip.status_code == 200 and after_skip.json() == {"item": None}
    compare_everything(app, client, gold_world, plain_world)

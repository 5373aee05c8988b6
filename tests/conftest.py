"""Fixtures: a fresh, migrated database per test, on SQLite or (with SCHOLIA_TEST_DATABASE_URL)
PostgreSQL; runtimes, apps and signed-in clients on top of it.

Annotations and audit events are append-only down to the database, so tests never clean
tables: each test gets its own database, cloned from one migrated template per worker
(a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import socket
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from litestar.testing import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scholia.core import (
    annotations,
    datasets,
    identity,
    items,
    labels,
    membership,
    projects,
    review,
)
from scholia.core.contributions import QualityRule
from scholia.core.db import create_db_engine, upgrade
from scholia.core.hookspecs import hookimpl
from scholia.core.labeling import AHEAD
from scholia.core.models import DatasetVersion, Item, Project, User
from scholia.core.plugins import Plugins, load_plugins
from scholia.core.runtime import DEFAULT_PLUGINS as CORE_DEFAULTS
from scholia.core.runtime import Runtime
from scholia.core.settings import Settings
from scholia.server.app import DEFAULT_PLUGINS as SERVER_DEFAULTS
from scholia.server.app import create_app

DEFAULT_PLUGINS = (*CORE_DEFAULTS, *SERVER_DEFAULTS)
"""What a server loads before installed plugins: the core's and the server's defaults."""

PG_URL = os.environ.get("SCHOLIA_TEST_DATABASE_URL")
PASSWORD = "correct horse battery"
EXAMPLE_PLUGINS = {"scholia-exporters", "scholia-image", "scholia-rating"}


def _pg(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    """A migrated database to clone: a file path on SQLite, a database name on PostgreSQL."""
    if PG_URL is None:
        path = tmp_path_factory.mktemp("template") / "template.db"
        engine = create_db_engine(f"sqlite:///{path}")
        upgrade(engine)
        engine.dispose()
        yield str(path)
        return
    worker = re.sub(r"\W", "", worker_id)
    name = f"scholia_tmpl_{worker}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(_pg(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_db_engine(make_url(_pg(PG_URL)).set(database=name).render_as_string(False))
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> Iterator[str]:
    """A fresh migrated database for this test."""
    if PG_URL is None:
        path = tmp_path / "scholia.db"
        shutil.copyfile(database_template, path)
        yield f"sqlite:///{path}"
        return
    name = f"scholia_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_pg(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{database_template}"'))
    yield make_url(_pg(PG_URL)).set(database=name).render_as_string(False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    data = tmp_path / "data"
    data.mkdir()
    return Settings(data_dir=data, database_url=database_url, secret_key="test-secret-" + "x" * 32)


@pytest.fixture
def plugins() -> Plugins:
    """The example plugins (image modality, rating annotation type) and the server defaults."""
    return load_plugins(default_plugins=DEFAULT_PLUGINS, select=EXAMPLE_PLUGINS)


@pytest.fixture
def runtime(settings: Settings, plugins: Plugins) -> Iterator[Runtime]:
    runtime = Runtime.open(settings, plugins=plugins, migrate=False)
    yield runtime
    runtime.close()


@pytest.fixture
def app(runtime: Runtime) -> Any:
    return create_app(runtime)


ProjectRef = int | dict[str, Any] | Project
"""A project as tests hold one: its id, the API's JSON of it, or the row."""


def add_member(runtime: Runtime, project: ProjectRef, user: User, role: str | None = None) -> None:
    """Make ``user`` a member of ``project`` with ``role`` (by default the highest project
    role among the account's roles). The one way tests give people a place in a project."""
    project_id = (
        project
        if isinstance(project, int)
        else (project["id"] if isinstance(project, dict) else project.id)
    )
    role = role or membership.highest_account_role(user)
    if role is None and "admin" in user.roles:
        return  # admins see every project without being members
    assert role is not None, f"{user.username} has no project role to join with"
    assert project_id is not None and user.id is not None
    with runtime.session() as session:
        membership.add_member(session, project_id, user.id, role, actor_id=None)


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """``create_app(runtime)`` served by uvicorn on a free port in a background thread.

    The socket is bound here (port 0) and handed to uvicorn, so parallel workers never race
    for a port. Returns the base URL once /healthz answers.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        if not thread.is_alive():
            raise RuntimeError("uvicorn exited before it answered /healthz")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not answer /healthz on {base_url} within 15 s")
        time.sleep(0.02)  # polling a socket, not waiting on the page
    yield base_url
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    assert not thread.is_alive(), "uvicorn did not stop"


@pytest.fixture
def make_user(runtime: Runtime) -> Callable[..., User]:
    """A new user with account ``roles``; with ``project``, also a member of it (see
    ``add_member``)."""
    counter = iter(range(1, 10_000))

    def make(
        *roles: str,
        username: str | None = None,
        password: str = PASSWORD,
        project: ProjectRef | None = None,
    ) -> User:
        with runtime.session() as session:
            user = identity.create_user(
                session,
                username=username or f"user{next(counter)}",
                password=password,
                roles=roles or ("annotator",),
            )
        if project is not None:
            add_member(runtime, project, user)
        return user

    return make


def csrf_token(client: TestClient[Any]) -> str:
    """Load a page so the CSRF cookie is set, and return its value for forms and headers."""
    if "scholia_csrf" not in client.cookies:
        client.get("/sign-in")
    return client.cookies["scholia_csrf"]


def sign_in(client: TestClient[Any], username: str, password: str = PASSWORD) -> Any:
    return client.post(
        "/sign-in",
        data={"username": username, "password": password, "_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )


@pytest.fixture
def open_clients() -> Iterator[list[TestClient[Any]]]:
    """Every client a test opened, closed newest first: Litestar's app keeps one event
    emitter, which each client's start replaces, so closing an older client first hangs."""
    clients: list[TestClient[Any]] = []
    yield clients
    for client in reversed(clients):
        client.__exit__(None, None, None)


def _open(app: Any, clients: list[TestClient[Any]]) -> TestClient[Any]:
    client = TestClient(app)
    client.__enter__()
    clients.append(client)
    return client


@pytest.fixture
def client_for(
    app: Any, make_user: Callable[..., User], open_clients: list[TestClient[Any]]
) -> Callable[..., TestClient[Any]]:
    """A browser-like client signed in (by the sign-in form) as a new user with ``roles``,
    a member of ``project`` when given."""

    def make(*roles: str, project: ProjectRef | None = None) -> TestClient[Any]:
        user = make_user(*roles, project=project)
        client = _open(app, open_clients)
        response = sign_in(client, user.username)
        assert response.status_code in (302, 303), response.text
        client.headers["x-csrftoken"] = csrf_token(client)
        client.user = user  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
def api_for(
    app: Any,
    runtime: Runtime,
    make_user: Callable[..., User],
    open_clients: list[TestClient[Any]],
) -> Callable[..., TestClient[Any]]:
    """A script-like client using a bearer API token of a new user with ``roles``, a member
    of ``project`` when given."""

    def make(*roles: str, project: ProjectRef | None = None) -> TestClient[Any]:
        user = make_user(*roles, project=project)
        with runtime.session() as session:
            _, raw = identity.create_api_token(session, user, "tests")
        client = _open(app, open_clients)
        client.headers["Authorization"] = f"Bearer {raw}"
        client.user = user  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
def bearer(runtime: Runtime, make_user: Callable[..., User]) -> Callable[..., dict[str, str]]:
    """Headers acting as a new user with ``roles`` (a member of ``project`` when given), for
    a request on a client a test already has open."""

    def make(*roles: str, project: ProjectRef | None = None) -> dict[str, str]:
        user = make_user(*roles, project=project)
        with runtime.session() as session:
            _, raw = identity.create_api_token(session, user, "tests")
        return {"Authorization": f"Bearer {raw}"}

    return make


def png_bytes(
    colour: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (32, 24)
) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A real PNG of ``width`` × ``height`` black pixels, one bit each: a 30000×30000 one is a
    hundred kilobytes on disk and would decode to gigabytes.

    Written without compressing the gigabytes: 500 rows are deflated once, ending in a full
    flush (which resets the compressor, so the same rows always deflate to the same bytes),
    and those bytes are repeated; only the checksum reads every row."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = bytes(1 + (width + 7) // 8)  # filter byte 0, then the row's bits (all 0: black)
    block, blocks = row * 500, height // 500
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    deflated = raw.compress(block) + raw.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(6, zlib.DEFLATED, -15)
    rest = row * (height % 500)
    checksum = 1
    for _ in range(blocks):
        checksum = zlib.adler32(block, checksum)
    checksum = zlib.adler32(rest, checksum)
    stream = (
        b"\x78\x9c"
        + deflated * blocks
        + tail.compress(rest)
        + tail.flush()
        + struct.pack(">I", checksum)
    )
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", stream) + chunk(b"IEND", b"")
    )


def truncated_jpeg() -> bytes:
    """A noisy JPEG (so its scan is long) cut off at 60%: its header is whole."""
    import io
    import random

    from PIL import Image

    rng = random.Random(11)
    image = Image.frombytes("RGB", (96, 96), bytes(rng.randrange(256) for _ in range(96 * 96 * 3)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    data = out.getvalue()
    return data[: len(data) * 6 // 10]


def verse_plugins() -> Plugins:
    """The example plugins plus the test-only ``verse`` modality and ``phrase`` type
    (tests/verse_plugin), loaded as a vendor's plugin module is."""
    from . import verse_plugin

    return load_plugins(
        default_plugins=DEFAULT_PLUGINS, select=EXAMPLE_PLUGINS, extra=[verse_plugin]
    )


def make_project(manager: TestClient[Any], **fields: Any) -> dict[str, Any]:
    """A project created through the API by ``manager`` (a name and guidelines given)."""
    response = manager.post(
        "/api/v1/projects", json={"name": "Project", "guidelines": "Label it.", **fields}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def add_records(
    manager: TestClient[Any], project_id: int, *records: dict[str, Any]
) -> list[dict[str, Any]]:
    """Items made of inline parts, added through the API (``records``); the created ones."""
    response = manager.post(
        f"/api/v1/projects/{project_id}/records", json={"records": list(records)}
    )
    assert response.status_code == 201, response.text
    created: list[dict[str, Any]] = response.json()["created"]
    return created


@pytest.fixture
def project(api_for: Callable[..., TestClient[Any]]) -> dict[str, Any]:
    """A rating project on images with three categories, created through the API."""
    manager = api_for("manager")
    response = manager.post(
        "/api/v1/projects",
        json={
            "name": "Photos",
            "modality": "image",
            "annotation_types": ["rating"],
            "categories": ["cat", "dog", "bird"],
            "guidelines": "Rate sharpness.",
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    body["manager"] = manager
    return body


@pytest.fixture
def item(project: dict[str, Any]) -> dict[str, Any]:
    """One uploaded image in ``project``."""
    response = project["manager"].post(
        f"/api/v1/projects/{project['id']}/items",
        files=[("files", ("red.png", png_bytes(), "image/png"))],
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["created"][0]
    return created


def upload_images(manager: TestClient[Any], project_id: int, count: int) -> list[int]:
    """Upload ``count`` distinct small PNGs (``p0.png``…) through the API; their ids, sorted."""
    response = manager.post(
        f"/api/v1/projects/{project_id}/items",
        files=[
            ("files", (f"p{n}.png", png_bytes(colour=(40 * n, 90, 20)), "image/png"))
            for n in range(count)
        ],
    )
    assert response.status_code == 201, response.text
    return sorted(i["id"] for i in response.json()["created"])


def seed(
    runtime: Runtime,
    *,
    annotation_types: tuple[str, ...] = ("rating",),
    categories: tuple[str, ...] = (),
    modality: str = "image",
    file: tuple[str, bytes] | None = None,
    roles: tuple[str, ...] = ("admin",),
    settings: dict[str, Any] | None = None,
) -> tuple[User, Project, Item]:
    """A user, a project and one item in it, made through the core services directly."""
    name, data = file or ("seed.png", png_bytes())
    with runtime.session() as session:
        user = identity.create_user(
            session, username=f"seed-{uuid.uuid4().hex[:8]}", password=PASSWORD, roles=roles
        )
        assert user.id is not None
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=user.id,
            name="Seeded",
            modality=modality,
            annotation_types=annotation_types,
            categories=categories,
            settings=settings,
        )
        item = items.ingest(
            session,
            runtime.store,
            runtime.plugins,
            project,
            name=name,
            source=io.BytesIO(data),
            actor_id=user.id,
        ).item
    return user, project, item


# --- dataset versions ----------------------------------------------------------------------


@pytest.fixture
def labeled(runtime: Runtime, make_user: Callable[..., User]) -> dict[str, Any]:
    """A classification project of 6 images, each labeled and approved (5 and 6 left labeled)."""
    owner, project, first = seed(
        runtime, annotation_types=("classification",), categories=("cat", "dog", "bird")
    )
    annotator, reviewer = make_user("annotator"), make_user("reviewer")
    ids = [first.id]
    with runtime.session() as session:
        for n in range(1, 6):
            ids.append(
                items.ingest(
                    session,
                    runtime.store,
                    runtime.plugins,
                    project,
                    name=f"photo{n}.png",
                    source=io.BytesIO(png_bytes(colour=(n * 30, 90, 140))),
                    actor_id=owner.id,  # type: ignore[arg-type]
                ).item.id
            )
    revisions = {}
    for index, item_id in enumerate(ids):
        with runtime.session() as session:
            revisions[item_id] = annotations.submit(
                session,
                runtime.plugins,
                item_id=item_id,  # type: ignore[arg-type]
                annotator_id=annotator.id,  # type: ignore[arg-type]
                annotation_type="classification",
                payload={"category_ids": [index % 3 + 1]},
                time_spent_ms=1000 + index,
            ).annotation
    with runtime.session() as session:
        review.decide(
            session,
            item_ids=ids[:4],
            decision="approved",
            reviewer_id=reviewer.id,  # type: ignore[arg-type]
        )
    return {
        "project": project,
        "ids": ids,
        "owner": owner,
        "annotator": annotator,
        "reviewer": reviewer,
        "revisions": revisions,
    }


def export(runtime: Runtime, project_id: int, **selection: Any) -> DatasetVersion:
    with runtime.session() as session:
        version = datasets.create(
            session, project_id, datasets.parse_selection(selection), actor_id=1
        )
    return datasets.build(runtime, version.id)  # type: ignore[arg-type]


def crashed_build(runtime: Runtime, project_id: int) -> DatasetVersion:
    """A new version whose build the process died in half-way (it stays ``building``)."""
    with runtime.session() as session:
        version = datasets.create(session, project_id, datasets.Selection(), 1)

    def crash(done: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    assert version.id is not None
    with pytest.raises(KeyboardInterrupt):
        datasets.build(runtime, version.id, on_progress=crash)
    return version


def renamed_mid_build(
    runtime: Runtime, labeled: dict[str, Any]
) -> tuple[DatasetVersion, Callable[[int], None]]:
    """A new version of ``labeled``'s project, and a progress callback for its build that
    renames a category after the first item (the build must then fail)."""
    project_id = labeled["project"].id
    with runtime.session() as session:
        version = datasets.create(session, project_id, datasets.Selection(), 1)

    def rename(done: int) -> None:
        if done == 1:
            with runtime.session() as session:
                labels.update_category(session, project_id, 2, labeled["owner"].id, name="puppy")

    return version, rename


def with_rules(*rules: QualityRule) -> Plugins:
    """The example plugins plus a test plugin registering ``rules`` (the export gate runs them)."""

    class Rules:
        @hookimpl
        def register_quality_rules(self, register: Callable[[QualityRule], None]) -> None:
            for rule in rules:
                register(rule)

    return load_plugins(default_plugins=DEFAULT_PLUGINS, select=EXAMPLE_PLUGINS, extra=[Rules()])


def gated(
    runtime: Runtime,
    name: str,
    title: str,
    evaluate: Callable[[datasets.GateContext, float], Any],
    threshold: float,
) -> Runtime:
    """``runtime`` whose export gate also runs the quality rule ``name``."""
    rule = QualityRule(
        name=name, title=title, evaluate=evaluate, default_threshold=threshold, maximum=None
    )
    return dataclasses.replace(runtime, plugins=with_rules(rule))


def folder_of(runtime: Runtime, version: DatasetVersion) -> Path:
    return datasets.export_folder(runtime, version.project_id) / f"v{version.version}"


def records_of(runtime: Runtime, version: DatasetVersion) -> list[dict[str, Any]]:
    """The lines of a built version's ``records.jsonl``: one per item, in item order."""
    text = (folder_of(runtime, version) / "records.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def labels_of(runtime: Runtime, version: DatasetVersion) -> list[dict[str, Any]]:
    """Every chosen label of a built version, each with its item's ``item_id``, ``item_meta``,
    ``item_provenance`` and the item's ``review`` (the last) and ``reviews``."""
    return [
        {
            **label,
            "item_id": record["item"]["id"],
            "item_meta": record["item"]["meta"],
            "item_provenance": record["item"]["provenance"],
            "review": record["reviews"][-1] if record["reviews"] else None,
            "reviews": record["reviews"],
        }
        for record in records_of(runtime, version)
        for label in record["labels"]
    ]


def first_layout(folder: Path, category_ids: Callable[[dict[str, Any]], list[int]]) -> None:
    """Rewrite a built version folder the way Scholia wrote versions before they became
    modality-neutral, manifest and content hash included: ``images/<item id>-<name>``, a COCO
    ``annotations.json`` (one annotation per category of a label, ``category_id``, no box),
    ``provenance.jsonl`` (one line per label, the item's fields repeated), ``images.sha256``
    (the media only). ``category_ids`` gives a label's categories from its line (its payload
    as the type reads it). Versions of that layout are still on disk: they must keep working."""

    def dump(value: Any) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    records = [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]
    manifest = json.loads((folder / "manifest.json").read_text())
    content = manifest["content"]
    images, coco, provenance, checksums = [], [], [], []
    for record in records:
        item = record["item"]
        (media,) = item["files"]
        file_name = "images/" + media["path"].removeprefix("media/")
        (folder / "images").mkdir(exist_ok=True)
        os.replace(folder / media["path"], folder / file_name)
        checksums.append(f"{media['sha256']}  {file_name}\n")
        position = {
            k: v
            for k, v in item["provenance"].items()
            if isinstance(v, str | int | float) and not isinstance(v, bool)
        }
        width, height = item["meta"].get("width"), item["meta"].get("height")
        image = {**position, "id": item["id"], "file_name": file_name}
        images.append({**image, "width": width, "height": height})
        reviews = record["reviews"]
        for label in record["labels"]:
            for category_id in sorted(category_ids(label)):
                coco.append(
                    {
                        "id": len(coco) + 1,
                        "image_id": item["id"],
                        "category_id": category_id,
                        "iscrowd": 0,
                        "area": 0,
                        "bbox": [],
                    }
                )
            line = {
                **label,
                "item_id": item["id"],
                "file_name": file_name,
                "sha256": media["sha256"],
                "review": reviews[-1] if reviews else None,
                "reviews": reviews,
                "item_meta": item["meta"],
                "item_provenance": item["provenance"],
            }
            provenance.append(dump(line) + "\n")
    shutil.rmtree(folder / "media")
    (folder / "records.jsonl").unlink()
    (folder / "checksums.sha256").unlink()
    categories = [
        {"id": c["id"], "name": c["name"], "supercategory": ""} for c in content["categories"]
    ]
    info = {"description": content["dataset_id"], "schema_version": content["schema_version"]}
    (folder / "annotations.json").write_text(
        dump({"info": info, "images": images, "annotations": coco, "categories": categories})
    )
    (folder / "provenance.jsonl").write_text("".join(provenance))
    (folder / "images.sha256").write_text("".join(checksums))
    for key in ("layout", "title"):
        del content[key]
    content["files"] = {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
        for name in ("annotations.json", "images.sha256", "provenance.jsonl")
    }
    manifest["content_hash"] = hashlib.sha256(dump(content).encode()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))


def relabel(
    runtime: Runtime, labeled: dict[str, Any], item_id: int, category_ids: list[int]
) -> None:
    """The annotator of ``labeled`` corrects their label on ``item_id``."""
    with runtime.session() as session:
        annotations.submit(
            session,
            runtime.plugins,
            item_id=item_id,
            annotator_id=labeled["annotator"].id,
            annotation_type="classification",
            payload={"category_ids": category_ids},
            supersedes_id=labeled["revisions"][item_id].id,
        )


def label_page(
    client: TestClient[Any], project_id: int, item_id: int, query: str = ""
) -> tuple[str, Any]:
    """The labeling page of an item: its HTML and its JSON state (what ``static/label.js``
    reads). Opening it claims nothing; ``take_up`` does what the page's script does next."""
    response = client.get(f"/projects/{project_id}/label/{item_id}{query}")
    assert response.status_code == 200, response.text
    found = re.search(r'id="label-state">(.*?)</script>', response.text, re.S)
    assert found, "the page has no state"
    return response.text, json.loads(found.group(1))


def take_up(client: TestClient[Any], project_id: int, item_id: int) -> Any:
    """Take the item up as the opened labeling page does (claim it, hold two more)."""
    claim = f"/api/v1/projects/{project_id}/queue/{item_id}/claim"
    return client.post(claim, json={"ahead": AHEAD})

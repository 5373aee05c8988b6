"""Every hook, exercised where the system uses what it contributes (``test_hook_<name>``).

``test_every_hook_has_a_test`` and ``test_every_hook_is_documented`` keep it that way, as in
Datasette: a new hook without a test here, or without its exact signature in
docs/plugin_hooks.md, fails the suite.
"""

from __future__ import annotations

import inspect
import io
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlmodel import col, select

from scholia.core import annotations, expansions, hookspecs, items, uploads
from scholia.core.contributions import (
    ExportFormat,
    ImportFormat,
    InvalidContribution,
    Modality,
    PrelabelBackend,
    QualityRule,
    RuleResult,
)
from scholia.core.errors import InvalidInput
from scholia.core.models import Item
from scholia.core.plugins import HOOK_KINDS, Plugins, load_plugins
from scholia.core.revisions import current_annotations
from scholia.core.runtime import Runtime
from scholia.core.settings import Settings
from scholia.server.app import DEFAULT_PLUGINS, create_app

from .conftest import EXAMPLE_PLUGINS, PASSWORD, csrf_token, seed, sign_in
from .plugin_factory import make_plugin_module

DOCS = Path(__file__).parent.parent / "docs" / "plugin_hooks.md"
HOOKS = sorted(
    name
    for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
    if name.startswith("register_")
)


def _with(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    source: str,
    files: dict[str, str] | None = None,
) -> Plugins:
    module = make_plugin_module(tmp_path, monkeypatch, name, source, files)
    plugins = load_plugins(default_plugins=DEFAULT_PLUGINS, select=EXAMPLE_PLUGINS, extra=[module])
    info = plugins.info(name)
    assert info is not None and info.loaded, info.error if info else name
    return plugins


@pytest.fixture
def open_runtime(settings: Settings) -> Callable[[Plugins], Runtime]:
    return lambda plugins: Runtime.open(settings, plugins=plugins, migrate=False)


def _signed_in(runtime: Runtime, user: Any, clients: list[TestClient[Any]]) -> TestClient[Any]:
    client = TestClient(create_app(runtime))
    client.__enter__()
    clients.append(client)
    sign_in(client, user.username, PASSWORD)
    client.headers["x-csrftoken"] = csrf_token(client)
    return client


def test_hook_register_modalities(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_runtime: Callable[[Plugins], Runtime]
) -> None:
    plugins = _with(
        tmp_path,
        monkeypatch,
        "text_modality",
        """
        from scholia.core.contributions import Modality
        from scholia.core.hookspecs import hookimpl

        def probe(path):
            text = path.read_bytes().decode("utf-8")  # UnicodeDecodeError is a ValueError
            return {"characters": len(text)}

        @hookimpl
        def register_modalities(register):
            register(Modality(name="text", title="Text", media_types=("text/plain",),
                              extensions=(".txt",), probe=probe))
    """,
    )
    runtime = open_runtime(plugins)
    user, project, item = seed(runtime, modality="text", file=("a.txt", "héllo".encode()))
    with runtime.session() as session:
        result = items.get_item(session, item.id)  # type: ignore[arg-type]
        assert result.meta == {"size": 6, "characters": 5}
        with pytest.raises(InvalidInput, match=r"'b.txt' cannot be read"):
            items.ingest(
                session,
                runtime.store,
                plugins,
                project,
                name="b.txt",
                source=io.BytesIO(b"\xff\xfe\xfa"),
                actor_id=user.id,
            )
        with pytest.raises(InvalidInput, match=r"accepted extensions are .txt"):
            items.ingest(
                session,
                runtime.store,
                plugins,
                project,
                name="c.png",
                source=io.BytesIO(b"x"),
                actor_id=user.id,
            )


def test_hook_register_viewers(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    open_runtime: Callable[[Plugins], Runtime],
    open_clients: list[TestClient[Any]],
) -> None:
    """The pages show an item through its modality's viewer: its template in the page, its
    module (served from the plugin's static folder) named in the page's state for the
    script to mount, its keys in the help. A modality without one gets the file to open."""
    plugins = _with(
        tmp_path,
        monkeypatch,
        "text_viewer",
        """
        from scholia.core.contributions import Modality, Viewer
        from scholia.core.hookspecs import hookimpl

        @hookimpl
        def register_modalities(register):
            register(Modality(name="text", title="Text", media_types=("text/plain",),
                              extensions=(".txt",), probe=lambda path: {}))
            register(Modality(name="bare", title="Bare", media_types=("text/csv",),
                              extensions=(".csv",), probe=lambda path: {}))

        @hookimpl
        def register_viewers(register):
            register(Viewer(name="text", template="text/viewer.html", module="pane.js",
                            hotkeys={"W": "Wrap long lines"}))
    """,
        files={
            "templates/text/viewer.html": "<pre data-text-pane>{{ item.name }}</pre>",
            "static/pane.js": "export function mount({ root }) { return {}; }",
        },
    )
    runtime = open_runtime(plugins)
    user, project, item = seed(runtime, modality="text", file=("a.txt", b"hello"))
    client = _signed_in(runtime, user, open_clients)
    page = client.get(f"/projects/{project.id}/items/{item.id}").text
    assert '<div class="viewer-root" data-viewer-root="text"><pre data-text-pane>a.txt</pre>' in (
        page
    )
    assert "/static/plugins/text_viewer/pane.js" in page
    assert client.get("/static/plugins/text_viewer/pane.js").status_code == 200
    assert "data-viewer-fallback" not in page

    _, bare, listed = seed(runtime, modality="bare", file=("b.csv", b"x,y"))
    page = client.get(f"/projects/{bare.id}/items/{listed.id}").text
    assert "data-viewer-root" not in page
    assert re.search(r'data-viewer-fallback><a [^>]*href="/media/[^"]+"[^>]*>Open b.csv</a>', page)


def test_a_container_modality_expands_its_files_into_the_items_of_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_runtime: Callable[[Plugins], Runtime]
) -> None:
    """Nothing of the core's expansions is video-specific: a "lines" file (one text a line)
    uploaded to a text project becomes its lines, each with its position, by the options."""
    plugins = _with(
        tmp_path,
        monkeypatch,
        "lines_container",
        """
        import msgspec
        from scholia.core.contributions import ExpandedItem, Modality
        from scholia.core.hookspecs import hookimpl

        class Every(msgspec.Struct):
            step: int = 1

        def lines(container, every):
            texts = container.path.read_text().splitlines()
            for number, text in enumerate(texts[:: every.step]):
                if text == "BAD":
                    raise ValueError(f"line {number} is damaged")
                yield ExpandedItem(name=f"line{number}.txt", data=text.encode(),
                                   media_type="text/plain", provenance={"line": number})

        @hookimpl
        def register_modalities(register):
            register(Modality(name="text", title="Text", media_types=("text/plain",),
                              extensions=(".txt",), probe=lambda path: {}))
            register(Modality(name="lines", title="Lines", media_types=(),
                              extensions=(".lines",), probe=lambda path: {"kind": "lines"},
                              expand=lines, yields="text", expand_options=Every))
    """,
    )
    runtime = open_runtime(plugins)
    user, project, _ = seed(runtime, modality="text", file=("a.txt", b"first"))
    assert user.id is not None and project.id is not None
    result = uploads.ingest_files(
        runtime,
        project.id,
        [("poem.lines", io.BytesIO(b"one\ntwo\nthree\nBAD\nfive"))],
        actor_id=user.id,
        expand_options={"step": "2"},
    )
    (queued,) = result.queued
    done = expansions.run(runtime, queued)
    assert (done.status, done.created, done.existing) == ("done", 3, 0)
    with runtime.session() as session:
        made = session.exec(select(Item).where(col(Item.name).like("line%"))).all()
        assert sorted((i.provenance["line"], i.name) for i in made) == [
            (0, "line0.txt"),
            (1, "line1.txt"),
            (2, "line2.txt"),
        ]
        assert made[0].provenance["container"]["modality"] == "lines"
    damaged = uploads.ingest_files(
        runtime, project.id, [("bad.lines", io.BytesIO(b"x\nBAD\ny"))], actor_id=user.id
    )
    failed = expansions.run(runtime, damaged.queued[0])
    assert (failed.status, failed.created, failed.error) == ("failed", 1, "line 1 is damaged")
    with pytest.raises(InvalidContribution, match="gives both expand and yields"):
        Modality(
            name="x", title="X", media_types=(), extensions=(".x",), probe=dict, yields="text"
        ).check()


def test_hook_register_annotation_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_runtime: Callable[[Plugins], Runtime]
) -> None:
    plugins = _with(
        tmp_path,
        monkeypatch,
        "label_type",
        """
        import msgspec
        from scholia.core.contributions import AnnotationType
        from scholia.core.hookspecs import hookimpl

        class Label(msgspec.Struct):
            category_id: int

        def validate(label, context):
            if label.category_id not in context.categories:
                raise ValueError(f"unknown category id {label.category_id}")

        @hookimpl
        def register_annotation_types(register):
            register(AnnotationType(name="label", title="Label", payload=Label,
                                    validate=validate, modalities=("image",)))
    """,
    )
    runtime = open_runtime(plugins)
    user, _, item = seed(runtime, annotation_types=("label",), categories=("cat", "dog"))
    with runtime.session() as session, pytest.raises(InvalidInput, match="unknown category"):
        annotations.submit(
            session,
            plugins,
            item_id=item.id,
            annotator_id=user.id,
            annotation_type="label",
            payload={"category_id": 7},
        )
    with runtime.session() as session:
        stored = annotations.submit(
            session,
            plugins,
            item_id=item.id,
            annotator_id=user.id,
            annotation_type="label",
            payload={"category_id": 2},
        )
    assert stored.annotation.payload == {"category_id": 2}


def test_hook_register_prelabel_backends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugins = _with(
        tmp_path,
        monkeypatch,
        "constant_backend",
        """
        from scholia.core.contributions import PrelabelBackend
        from scholia.core.hookspecs import hookimpl

        class Constant:
            def __init__(self, registration):
                self.value = registration["value"]

            def predict(self, inputs):
                return [{"value": self.value, "score": 1.0} for _ in inputs]

        @hookimpl
        def register_prelabel_backends(register):
            register(PrelabelBackend(name="constant", title="Constant",
                                     annotation_types=("rating",), load=Constant))
    """,
    )
    backend = plugins.get(PrelabelBackend, "constant")
    assert backend is not None and backend.annotation_types == ("rating",)
    predictor = backend.load({"value": 3})
    assert predictor.predict(["a", "b"]) == [{"value": 3, "score": 1.0}] * 2
    with pytest.raises(InvalidContribution, match="serves no annotation type"):
        PrelabelBackend(name="x", title="X", annotation_types=(), load=dict).check()


def test_hook_register_export_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugins = _with(
        tmp_path,
        monkeypatch,
        "lines_export",
        """
        from scholia.core.contributions import ExportFormat
        from scholia.core.hookspecs import hookimpl

        def write(version, folder):
            (folder / "lines.txt").write_text("\\n".join(version))

        @hookimpl
        def register_export_formats(register):
            register(ExportFormat(name="lines", title="Lines", write=write))
    """,
    )
    export = plugins.get(ExportFormat, "lines")
    assert export is not None
    export.write(["a", "b"], tmp_path)
    assert (tmp_path / "lines.txt").read_text() == "a\nb"
    with pytest.raises(InvalidContribution, match="no callable 'write'"):
        ExportFormat(name="x", title="X", write="not callable").check()  # type: ignore[arg-type]


def test_hook_register_import_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugins = _with(
        tmp_path,
        monkeypatch,
        "lines_import",
        """
        from scholia.core.contributions import ImportFormat
        from scholia.core.hookspecs import hookimpl

        @hookimpl
        def register_import_formats(register):
            register(ImportFormat(name="lines", title="Lines", extensions=(".txt",),
                                  read=lambda path: path.read_text().splitlines()))
    """,
    )
    source = tmp_path / "in.txt"
    source.write_text("x\ny\n")
    importer = plugins.get(ImportFormat, "lines")
    assert importer is not None and importer.read(source) == ["x", "y"]


def test_hook_register_quality_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugins = _with(
        tmp_path,
        monkeypatch,
        "backlog_rule",
        """
        from scholia.core.contributions import QualityRule, RuleResult
        from scholia.core.hookspecs import hookimpl

        def evaluate(context, threshold):
            value = context["open"]
            return RuleResult(passed=value <= threshold, value=value, threshold=threshold,
                              evidence={"open": value})

        @hookimpl
        def register_quality_rules(register):
            register(QualityRule(name="backlog", title="Backlog", evaluate=evaluate,
                                 default_threshold=0, direction="at_most"))
    """,
    )
    rule = plugins.get(QualityRule, "backlog")
    assert rule is not None
    assert rule.evaluate({"open": 0}, rule.default_threshold).passed
    failed = rule.evaluate({"open": 3}, rule.default_threshold)
    assert failed == RuleResult(passed=False, value=3, threshold=0, evidence={"open": 3})
    with pytest.raises(InvalidContribution, match="direction"):
        QualityRule(
            name="x", title="X", evaluate=print, default_threshold=1, direction="sideways"
        ).check()  # type: ignore[arg-type]


def test_hook_register_event_handlers(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    open_runtime: Callable[[Plugins], Runtime],
    make_user: Callable[..., Any],
) -> None:
    plugins = _with(
        tmp_path,
        monkeypatch,
        "event_log",
        """
        from scholia.core.contributions import EventHandler
        from scholia.core.hookspecs import hookimpl

        received = []

        def boom(event):
            raise RuntimeError("a handler's bug must not undo the change")

        @hookimpl
        def register_event_handlers(register):
            register(EventHandler(name="log-submissions", event="annotation.submitted",
                                  handle=received.append))
            register(EventHandler(name="log-transitions", event="item.transitioned",
                                  handle=received.append))
            register(EventHandler(name="boom", event="annotation.submitted", handle=boom))
    """,
    )
    received = sys.modules["event_log"].received
    runtime = open_runtime(plugins)
    user, _, item = seed(runtime)
    with pytest.raises(RuntimeError), runtime.session() as session:
        annotations.submit(
            session,
            plugins,
            item_id=item.id,
            annotator_id=user.id,
            annotation_type="rating",
            payload={"value": 4},
        )
        assert received == []  # nothing is delivered before the commit
        raise RuntimeError("rolled back")
    assert received == []  # nor after a rollback
    with runtime.session() as session:
        result = annotations.submit(
            session,
            plugins,
            item_id=item.id,
            annotator_id=user.id,
            annotation_type="rating",
            payload={"value": 4},
        )
    kinds = [event.kind for event in received]
    assert kinds == ["item.transitioned", "item.transitioned", "annotation.submitted"]
    assert received[-1].entity_id == str(result.annotation.id)
    with runtime.session() as session:
        assert current_annotations(session, item.id)[0].payload["value"] == 4


def test_hook_register_routes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_runtime: Callable[[Plugins], Runtime]
) -> None:
    plugins = _with(
        tmp_path,
        monkeypatch,
        "hello_route",
        """
        from litestar import get
        from litestar.params import FromPath
        from litestar.response import Template
        from scholia.core.contributions import Route
        from scholia.core.hookspecs import hookimpl

        @get("/hello/{name:str}", sync_to_thread=False)
        def hello(name: FromPath[str]) -> Template:
            return Template("hello.html", context={"name": name})

        @get("/unlisted", sync_to_thread=False)
        def unlisted() -> str:
            return "nobody said who may call this"

        @hookimpl
        def register_routes(register):
            register(Route(name="hello", handler=hello, access="public"))
            register(Route(name="unlisted", handler=unlisted))
    """,
        files={
            "templates/hello.html": "<p>Hello {{ name }} from a plugin</p>",
            "static/hello.js": "export const hello = 1;",
        },
    )
    with TestClient(create_app(open_runtime(plugins))) as client:
        assert client.get("/hello/ada").text == "<p>Hello ada from a plugin</p>"
        # A route that does not say who may call it is refused (see scholia.server.access).
        refused = client.get("/unlisted")
        assert refused.status_code == 403 and "No access rule covers GET /unlisted" in refused.text
        served = client.get("/static/plugins/hello_route/hello.js")
        assert served.status_code == 200 and "export const hello" in served.text
    with pytest.raises(InvalidContribution, match="Litestar route handler"):
        from scholia.core.contributions import Route

        Route(name="x", handler=print).check()


def test_hook_register_menu_links(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    open_runtime: Callable[[Plugins], Runtime],
    make_user: Callable[..., Any],
    open_clients: list[TestClient[Any]],
) -> None:
    plugins = _with(
        tmp_path,
        monkeypatch,
        "reports_link",
        """
        from scholia.core.contributions import MenuLink
        from scholia.core.hookspecs import hookimpl

        @hookimpl
        def register_menu_links(register):
            register(MenuLink(name="reports", label="Reports", href="/reports",
                              role="manager"))
    """,
    )
    runtime = open_runtime(plugins)
    manager = _signed_in(runtime, make_user("manager"), open_clients)
    annotator = _signed_in(runtime, make_user("annotator"), open_clients)
    assert '<a href="/reports"' in manager.get("/projects").text
    assert '<a href="/reports"' not in annotator.get("/projects").text
    assert '<a href="/projects"' in annotator.get("/projects").text


def test_hook_register_template_vars(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    open_runtime: Callable[[Plugins], Runtime],
    make_user: Callable[..., Any],
    open_clients: list[TestClient[Any]],
) -> None:
    """``provide`` gets a ``PageRequest``: the template's name (a provider written for
    ``provide(template_name)`` keeps working), who asks, in which project, at which path."""
    # The plugin also overrides a core template, extending the original through "default:".
    plugins = _with(
        tmp_path,
        monkeypatch,
        "banner",
        """
        from scholia.core.contributions import TemplateVars
        from scholia.core.hookspecs import hookimpl

        def whoami(page):
            who = page.user.username if page.user is not None else "nobody"
            where = f"{page.project_id} as {page.role}"
            return {"whoami": f"{who} in {where} on {page.method} {page.path} ({page.template})"}

        @hookimpl
        def register_template_vars(register):
            register(TemplateVars(name="banner",
                                  provide=lambda template: {"banner": f"staging ({template})"}))
            register(TemplateVars(name="whoami", provide=whoami))
    """,
        files={
            "templates/base.html": """
        {% extends "default:base.html" %}
        {% block head %}<meta name="banner" content="{{ banner }}">
        <meta name="whoami" content="{{ whoami }}">{% endblock %}
    """
        },
    )
    runtime = open_runtime(plugins)
    admin = make_user("admin")
    client = _signed_in(runtime, admin, open_clients)
    page = client.get("/plugins").text
    assert '<meta name="banner" content="staging (plugins.html)">' in page
    assert "Installed distributions" in page  # the core template still renders
    assert f'content="{admin.username} in None as None on GET /plugins (plugins.html)"' in page
    created = client.post(
        "/api/v1/projects",
        json={"name": "Hooked", "modality": "image", "annotation_types": ["rating"]},
    )
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    expected = f"{admin.username} in {pid} as admin on GET /projects/{pid} (projects/detail.html)"
    assert f'<meta name="whoami" content="{expected}">' in client.get(f"/projects/{pid}").text
    signed_out = TestClient(create_app(runtime))
    signed_out.__enter__()
    open_clients.append(signed_out)
    assert (
        'content="nobody in None as None on GET /sign-in (sign_in.html)"'
        in signed_out.get("/sign-in").text
    )


def _documented_signatures() -> dict[str, str]:
    text = DOCS.read_text()
    return dict(re.findall(r"^```python\n(register_\w+)(\(.*?\) -> .*?)\n```$", text, re.M))


def test_every_hook_has_a_test() -> None:
    tests = {name for name, _ in inspect.getmembers(sys.modules[__name__], inspect.isfunction)}
    missing = [hook for hook in HOOKS if f"test_hook_{hook}" not in tests]
    assert not missing, f"hooks without a test_hook_<name> test: {missing}"


def test_every_hook_is_documented_with_its_signature() -> None:
    documented = _documented_signatures()
    for hook in HOOKS:
        signature = str(inspect.signature(getattr(hookspecs, hook)))
        assert documented.get(hook) == signature, (
            f"docs/plugin_hooks.md must show `{hook}{signature}` in a python code block"
        )
    assert set(documented) == set(HOOKS), "the docs describe hooks that do not exist"


def test_the_hook_reference_is_generated_from_the_docstrings() -> None:
    """docs/plugin_hooks.md is what scripts/plugin_hooks_doc.py makes of the hookspecs' and the
    contributions' docstrings today: a docstring changed without regenerating fails here."""
    generator = DOCS.parent.parent / "scripts" / "plugin_hooks_doc.py"
    done = subprocess.run(
        [sys.executable, str(generator), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_hook_accepts_exactly_one_contribution_kind() -> None:
    assert sorted(HOOK_KINDS) == HOOKS

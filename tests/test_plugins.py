"""Finding and loading plugins: selection, failures that are reported and skipped, overrides."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from scholia.core.contributions import AnnotationType, MenuLink, Modality
from scholia.core.plugins import load_plugins
from scholia.core.runtime import Runtime
from scholia.core.settings import Settings
from scholia.server.app import DEFAULT_PLUGINS, create_app

from .plugin_factory import install_distribution, make_plugin_module

BROKEN = """
raise RuntimeError("this plugin is broken on purpose")
"""

MISSPELLED = """
from scholia.core.hookspecs import hookimpl

@hookimpl
def register_modalitys(register):
    pass
"""

NO_VALIDATION = """
import msgspec
from scholia.core.contributions import AnnotationType
from scholia.core.hookspecs import hookimpl

class Flag(msgspec.Struct):
    on: bool

@hookimpl
def register_annotation_types(register):
    register(AnnotationType(name="flag", title="Flag", payload=Flag, validate=None))
"""

DUPLICATE_OF_RATING = """
import msgspec
from scholia.core.contributions import AnnotationType
from scholia.core.hookspecs import hookimpl

class Stars(msgspec.Struct):
    value: int

@hookimpl
def register_annotation_types(register):
    register(AnnotationType(name="rating", title="Stars", payload=Stars,
                            validate=lambda payload, context: None))
"""


def test_example_plugins_are_found_through_entry_points() -> None:
    plugins = load_plugins(select=None)
    rating = plugins.info("scholia-rating")
    assert rating is not None and rating.loaded and rating.version == "0.1.0"
    assert rating.summary() == {"annotation_type": ["rating"]}
    assert rating.templates_dir is not None and rating.static_dir is not None
    assert plugins.provider(AnnotationType, "rating") is rating
    assert "image" in plugins.modalities


def test_load_plugins_env_picks_distributions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHOLIA_LOAD_PLUGINS", "scholia-image")
    plugins = load_plugins()
    assert [info.name for info in plugins.infos] == ["scholia-image"]
    assert "rating" not in plugins.annotation_types


def test_empty_load_plugins_env_loads_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHOLIA_LOAD_PLUGINS", "")
    plugins = load_plugins(default_plugins=DEFAULT_PLUGINS)
    assert [info.name for info in plugins.infos] == list(DEFAULT_PLUGINS)
    assert plugins.modalities == {}


def test_load_plugins_env_naming_a_missing_distribution_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCHOLIA_LOAD_PLUGINS", "scholia-image, scholia-nonexistent")
    plugins = load_plugins()
    [missing] = plugins.failed
    assert missing.name == "scholia-nonexistent"
    assert "no installed distribution" in (missing.error or "")


def test_plugin_that_raises_on_import_is_reported_and_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_distribution(tmp_path, monkeypatch, "scholia-broken", "scholia_broken", BROKEN)
    plugins = load_plugins(select={"scholia-broken", "scholia-rating"})
    broken = plugins.info("scholia-broken")
    assert broken is not None and not broken.loaded
    assert "failed to import" in (broken.error or "")
    assert "broken on purpose" in (broken.error or "")
    assert "rating" in plugins.annotation_types


def test_misspelled_hook_is_rejected_with_the_known_hooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_distribution(tmp_path, monkeypatch, "scholia-typo", "scholia_typo", MISSPELLED)
    plugins = load_plugins(select={"scholia-typo"})
    typo = plugins.info("scholia-typo")
    assert typo is not None and not typo.loaded
    assert "register_modalitys" in (typo.error or "")
    assert "register_modalities" in (typo.error or "")


def test_payload_type_without_validation_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_distribution(tmp_path, monkeypatch, "scholia-flag", "scholia_flag", NO_VALIDATION)
    plugins = load_plugins(select={"scholia-flag"})
    flag = plugins.info("scholia-flag")
    assert flag is not None and not flag.loaded
    assert "no callable 'validate'" in (flag.error or "")
    assert "flag" not in plugins.annotation_types


def test_duplicate_name_is_refused_and_the_first_plugin_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_distribution(
        tmp_path, monkeypatch, "scholia-stars", "scholia_stars", DUPLICATE_OF_RATING
    )
    plugins = load_plugins(select={"scholia-rating", "scholia-stars"})
    stars = plugins.info("scholia-stars")
    assert stars is not None and not stars.loaded
    assert "already registered by plugin 'scholia-rating'" in (stars.error or "")
    assert plugins.annotation_types["rating"].title == "Rating (1–5)"


def test_a_plugin_overrides_a_default_plugins_contribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = make_plugin_module(
        tmp_path,
        monkeypatch,
        "relabel_projects",
        """
        from scholia.core.contributions import MenuLink
        from scholia.core.hookspecs import hookimpl

        @hookimpl
        def register_menu_links(register):
            register(MenuLink(name="projects", label="Work", href="/projects"))
    """,
    )
    plugins = load_plugins(default_plugins=DEFAULT_PLUGINS, select=set(), extra=[module])
    link = plugins.get(MenuLink, "projects")
    assert link is not None and link.label == "Work"
    info = plugins.info("relabel_projects")
    assert info is not None and info.overrides == ["menu_link:projects"]


def test_a_plugin_that_fails_half_way_contributes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = make_plugin_module(
        tmp_path,
        monkeypatch,
        "half_way",
        """
        from pathlib import Path
        from scholia.core.contributions import Modality
        from scholia.core.hookspecs import hookimpl

        @hookimpl
        def register_modalities(register):
            register(Modality(name="good", title="Good", media_types=("text/plain",),
                              extensions=(".txt",), probe=lambda path: {}))
            register(Modality(name="Bad Name", title="Bad", media_types=("text/plain",),
                              extensions=(".txt",), probe=lambda path: {}))
    """,
    )
    plugins = load_plugins(select=set(), extra=[module])
    info = plugins.info("half_way")
    assert info is not None and not info.loaded
    assert "'Bad Name' is not valid" in (info.error or "")
    assert plugins.get(Modality, "good") is None


def test_server_serves_while_a_plugin_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    install_distribution(tmp_path, monkeypatch, "scholia-broken", "scholia_broken", BROKEN)
    plugins = load_plugins(
        default_plugins=DEFAULT_PLUGINS, select={"scholia-broken", "scholia-rating"}
    )
    runtime = Runtime.open(settings, plugins=plugins, migrate=False)
    with TestClient(create_app(runtime)) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200


def _cli_plugins(env_update: dict[str, str | None], extra_path: Path | None = None) -> Any:
    env = {k: v for k, v in os.environ.items() if k != "SCHOLIA_LOAD_PLUGINS"}
    for key, value in env_update.items():
        if value is not None:
            env[key] = value
    if extra_path is not None:
        env["PYTHONPATH"] = str(extra_path)
    result = subprocess.run(
        [sys.executable, "-m", "scholia.server.cli", "plugins", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    return {p["name"]: p for p in json.loads(result.stdout)}


def test_scholia_plugins_lists_the_example_plugin_and_what_it_registered() -> None:
    listed = _cli_plugins({})
    assert listed["scholia-rating"]["loaded"] is True
    assert listed["scholia-rating"]["contributions"] == {"annotation_type": ["rating"]}
    assert listed["scholia.server.defaults"]["default"] is True


def test_scholia_plugins_without_the_example_plugin(tmp_path: Path) -> None:
    listed = _cli_plugins({"SCHOLIA_LOAD_PLUGINS": "scholia-image"})
    assert "scholia-rating" not in listed
    assert listed["scholia-image"]["loaded"] is True


def test_scholia_plugins_lists_a_broken_plugin_as_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_distribution(tmp_path, monkeypatch, "scholia-broken", "scholia_broken", BROKEN)
    listed = _cli_plugins({}, extra_path=tmp_path / "site-scholia-broken")
    assert listed["scholia-broken"]["loaded"] is False
    assert "broken on purpose" in listed["scholia-broken"]["error"]
    assert listed["scholia-rating"]["loaded"] is True

"""Packaging: only the scholia.* namespace is installed, and plugins are separate distributions
found through the entry-point group ``scholia``, as a vendor's would be."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def test_no_bare_core_or_server_package_is_installed(tmp_path: Path) -> None:
    # Run from an empty folder, so only what is installed can be imported (not the checkout).
    probe = (
        "import importlib.util as u; "
        "print([n for n in ('core', 'server', 'scholia.core', 'scholia.server') "
        "if u.find_spec(n)])"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "['scholia.core', 'scholia.server']"


@pytest.mark.parametrize("folder", ["plugins/image", "examples/rating"])
def test_each_plugin_is_its_own_distribution_with_a_scholia_entry_point(folder: str) -> None:
    project = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["scholia"], "declares [project.entry-points.scholia]"
    dist = importlib.metadata.distribution(project["name"])
    groups = {ep.group for ep in dist.entry_points}
    assert "scholia" in groups


def test_the_core_never_imports_a_plugin_by_name() -> None:
    for source in [*ROOT.joinpath("core").rglob("*.py"), *ROOT.joinpath("server").rglob("*.py")]:
        text = source.read_text()
        for plugin in ("scholia_image", "scholia_rating"):
            assert plugin not in text, f"{source} names the plugin {plugin}"


def _plugins_json(python: Path) -> dict[str, dict[str, object]]:
    env = {k: v for k, v in os.environ.items() if k not in ("SCHOLIA_LOAD_PLUGINS", "VIRTUAL_ENV")}
    out = subprocess.run(
        [str(python), "-m", "scholia.server.cli", "plugins", "--json"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    )
    return {p["name"]: p for p in json.loads(out.stdout)}


def test_uninstalling_the_example_plugin_removes_it_after_a_restart(tmp_path: Path) -> None:
    """A real uninstall, in a copy of this environment (hard links: removing a file from the
    copy leaves the original alone): after it, the next start no longer has the plugin."""
    venv = tmp_path / "venv"
    linked = subprocess.run(["cp", "-al", sys.prefix, str(venv)], timeout=120)
    if linked.returncode != 0:  # another filesystem: hard links cannot cross it, so copy
        shutil.rmtree(venv, ignore_errors=True)
        shutil.copytree(sys.prefix, venv, symlinks=True)
    python = venv / "bin" / "python"
    assert _plugins_json(python)["scholia-rating"]["loaded"] is True
    subprocess.run(
        [str(python), "-m", "pip", "uninstall", "-y", "-q", "scholia-rating"]
        if (venv / "bin" / "pip").exists()
        else [_uv(), "pip", "uninstall", "-q", "--python", str(python), "scholia-rating"],
        check=True,
        timeout=120,
        cwd=tmp_path,
    )
    after = _plugins_json(python)
    assert "scholia-rating" not in after
    assert after["scholia-image"]["loaded"] is True
    assert importlib.metadata.distribution("scholia-rating").version == "0.1.0"  # original kept


def _uv() -> str:
    found = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    assert Path(found).exists(), "uv is needed (./dev installs it)"
    return found

"""Building real plugins for tests: packages on disk, and installed distributions.

``install_distribution`` writes what pip writes for a distribution (a ``.dist-info`` folder
with ``METADATA`` and ``entry_points.txt``) next to the plugin's package, on ``sys.path``,
so plugins are found through ``importlib.metadata`` exactly as a vendor's would be.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest


def write_package(
    root: Path, module: str, source: str, files: dict[str, str] | None = None
) -> Path:
    package = root / module
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(source))
    for relative, content in (files or {}).items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content))
    return package


def make_plugin_module(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    module: str,
    source: str,
    files: dict[str, str] | None = None,
) -> ModuleType:
    """Write a plugin package (with optional templates/ and static/ files) and import it."""
    root = tmp_path / f"src-{module}"
    write_package(root, module, source, files)
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    monkeypatch.delitem(sys.modules, module, raising=False)
    return importlib.import_module(module)


def install_distribution(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    module: str,
    source: str,
    version: str = "1.0.0",
) -> None:
    """Install distribution ``name`` providing ``module`` with a ``scholia`` entry point."""
    root = tmp_path / f"site-{name}"
    write_package(root, module, source)
    dist_info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    )
    (dist_info / "entry_points.txt").write_text(f"[scholia]\n{module} = {module}\n")
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    monkeypatch.delitem(sys.modules, module, raising=False)

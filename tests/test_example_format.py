"""An operator's own export format (examples/hf-imagefolder): installed as a distribution, found
through the ``scholia`` entry point like any plugin, and used by exports, the CLI and the API."""

from __future__ import annotations

import csv
import importlib.metadata
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scholia.core import exports
from scholia.core.plugins import load_plugins
from scholia.core.runtime import Runtime

from .conftest import DEFAULT_PLUGINS, EXAMPLE_PLUGINS, export

FORMAT_DIST = "scholia-hf-imagefolder"


@pytest.fixture
def plugins() -> Any:
    """The usual example plugins, plus the example format."""
    return load_plugins(default_plugins=DEFAULT_PLUGINS, select=EXAMPLE_PLUGINS | {FORMAT_DIST})


def test_the_example_format_is_an_installed_distribution_with_an_entry_point() -> None:
    distribution = importlib.metadata.distribution(FORMAT_DIST)
    points = [p for p in distribution.entry_points if p.group == "scholia"]
    assert [(p.name, p.value) for p in points] == [("hf_imagefolder", "scholia_hf_imagefolder")]


def test_scholia_plugins_lists_the_example_format() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scholia.server.cli", "plugins", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    listed = {p["name"]: p for p in json.loads(result.stdout)}
    assert listed[FORMAT_DIST]["loaded"] is True
    assert listed[FORMAT_DIST]["contributions"] == {"export_format": ["hf-imagefolder"]}


def test_a_version_is_written_in_the_example_format(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    version = export(runtime, labeled["project"].id)
    out = exports.write(runtime, version.id, "hf-imagefolder", tmp_path / "hf")  # type: ignore[arg-type]
    with (out / "train" / "metadata.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    ids = labeled["ids"]
    assert [(r["file_name"], r["label"]) for r in rows] == [
        (f"{ids[0]}-seed.png", "cat"),
        (f"{ids[1]}-photo1.png", "dog"),
        (f"{ids[2]}-photo2.png", "bird"),
        (f"{ids[3]}-photo3.png", "cat"),
    ]
    assert {r["annotator"] for r in rows} == {labeled["annotator"].pseudonym}
    assert all((out / "train" / r["file_name"]).is_file() for r in rows)


def test_the_api_downloads_a_version_in_the_example_format(
    runtime: Runtime, labeled: dict[str, Any], api_for: Callable[..., Any]
) -> None:
    import io
    import zipfile

    version = export(runtime, labeled["project"].id)
    client = api_for("manager", project=labeled["project"])
    response = client.get(
        f"/api/v1/datasets/{version.id}/download", params={"format": "hf-imagefolder"}
    )
    assert response.status_code == 200, response.text
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "train/metadata.csv" in names and "manifest.json" in names

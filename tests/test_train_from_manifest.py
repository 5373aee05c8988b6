"""examples/train_from_manifest.py trains on a real dataset version, with the classes in the
manifest's display order (not by id, name or folder), and refuses a version whose labels were
changed after it was written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from scholia.core import labels
from scholia.core.runtime import Runtime

from .conftest import export, folder_of

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "train_from_manifest.py"


def _train(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(folder), "--epochs", "200"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_training_reads_the_classes_in_the_manifests_display_order(
    runtime: Runtime, labeled: dict[str, Any]
) -> None:
    project_id = labeled["project"].id
    with runtime.session() as session:  # bird first: neither id nor name order
        labels.move_category(session, project_id, 3, "up", labeled["annotator"].id)
        labels.move_category(session, project_id, 3, "up", labeled["annotator"].id)
    version = export(runtime, project_id)
    result = _train(folder_of(runtime, version))
    assert result.returncode == 0, result.stderr
    assert "classes (manifest order): 0=bird, 1=cat, 2=dog" in result.stdout
    assert "images per class: bird 1, cat 2, dog 1" in result.stdout
    found = re.search(r"training accuracy: ([\d.]+) on 4 images", result.stdout)
    assert found is not None and float(found.group(1)) >= 0.75, result.stdout


def test_a_version_whose_annotations_were_edited_is_refused(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(folder_of(runtime, export(runtime, labeled["project"].id)), copy)
    edited = (
        (copy / "records.jsonl").read_text().replace('"category_ids":[1]', '"category_ids":[2]')
    )
    (copy / "records.jsonl").write_text(edited)
    result = _train(copy)
    assert result.returncode != 0
    assert "records.jsonl does not match the manifest" in result.stderr

"""Proof that the core knows no modality: a test-only plugin's ``verse`` items (inline text
records, no file at all) and its ``phrase`` type (its own agreement and aggregate) go through
import, labeling by two annotators, adjudication, gold, the Quality Hub, a dataset version and
an export, with no line of the core or the server naming either."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlmodel import select

from scholia.core.models import GoldResult
from scholia.core.plugins import Plugins
from scholia.core.runtime import Runtime

from .conftest import add_records, label_page, make_project, take_up, verse_plugins
from .verse_plugin import Phrase, aggregate, agreement

ILIAD = "Sing, O goddess, the anger of Achilles son of Peleus"
ODYSSEY = "Tell me, O muse, of that ingenious hero"
AENEID = "Arms and the man I sing, who first from Troy"


@pytest.fixture
def plugins() -> Plugins:
    return verse_plugins()


def test_phrases_agree_by_their_overlap_and_only_within_a_category() -> None:
    assert agreement(Phrase(26, 35, 1), Phrase(27, 36, 1)) == pytest.approx(0.8)
    assert agreement(Phrase(0, 4, 1), Phrase(0, 4, 2)) == 0.0
    assert agreement(Phrase(0, 4, 1), Phrase(10, 14, 1)) == 0.0


def test_the_aggregate_spans_the_median_ends_of_the_majority_category() -> None:
    assert aggregate([Phrase(26, 35, 1), Phrase(27, 36, 1)]) == Phrase(26, 36, 1)
    assert aggregate([Phrase(0, 4, 1), Phrase(2, 9, 2), Phrase(1, 5, 1)]) == Phrase(0, 5, 1)
    assert aggregate([Phrase(0, 4, 1), Phrase(0, 4, 2)]) is None  # a tie: an adjudicator decides
    assert aggregate([]) is None


def _phrase(client: TestClient[Any], item_id: int, start: int, end: int, category: int) -> Any:
    response = client.post(
        f"/api/v1/items/{item_id}/annotations",
        json={
            "annotation_type": "phrase",
            "payload": {"start": start, "end": end, "category_id": category},
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def _label(client: TestClient[Any], project_id: int, item_id: int, *phrase: int) -> None:
    """Open the item's labeling page as the annotator's browser does, take it up, label it."""
    html, state = label_page(client, project_id, item_id)
    (text,) = [p for p in state["item"]["parts"] if p["role"] == "text"]
    assert text["data"]["text"]  # what the plugin's editor shows (tests/verse_plugin/static)
    assert "data-verse-editor" in html
    served = client.get(f"/api/v1/projects/{project_id}/queue/{item_id}").json()
    assert served["item"]["parts"] == state["item"]["parts"]  # one labeling context for both
    assert state["editors"] == [
        {"name": "phrase", "module": "/static/plugins/tests.verse_plugin/verse.js"}
    ]
    assert take_up(client, project_id, item_id).status_code == 200
    _phrase(client, item_id, *phrase)


def _released(manager: TestClient[Any], version_id: int) -> dict[str, Any]:
    for _ in range(300):
        version: dict[str, Any] = manager.get(f"/api/v1/datasets/{version_id}").json()
        if version["status"] not in ("building", "queued"):
            return version
        time.sleep(0.1)
    raise AssertionError(f"version {version_id} still building")


def test_a_modality_of_inline_records_goes_from_import_to_export(
    api_for: Callable[..., TestClient[Any]],
    client_for: Callable[..., TestClient[Any]],
    runtime: Runtime,
    tmp_path: Path,
) -> None:
    manager = api_for("manager")
    project = make_project(
        manager,
        modality="verse",
        annotation_types=["phrase"],
        categories=["person", "place"],
        settings={"overlap": 2, "adjudication": {"below": 0.5}},
    )
    pid = project["id"]
    iliad = {"text": ILIAD, "source": "Iliad"}
    person, place = [c["id"] for c in manager.get(f"/api/v1/projects/{pid}/categories").json()]
    agree, split, golden = [
        i["id"]
        for i in add_records(
            manager,
            pid,
            {"name": "iliad-1", "parts": {"text": iliad}},
            {"name": "odyssey-1", "parts": {"text": {"text": ODYSSEY}}},
            {"name": "aeneid-1", "parts": {"text": {"text": AENEID}}},
        )
    ]
    # Gold: the expected answer entered as the type's payload, scored through its agreement.
    reviewer = api_for("reviewer", project=pid)
    marked = reviewer.post(
        f"/api/v1/projects/{pid}/items/{golden}/gold",
        json={
            "annotation_type": "phrase",
            "payload": {"start": 0, "end": 8, "category_id": person},
            "explanation": "The man is Aeneas.",
        },
    )
    assert marked.status_code == 201, marked.text

    first, second = client_for("annotator", project=pid), client_for("annotator", project=pid)
    # Close phrases of one category: the type's agreement (0.8) keeps them out of adjudication,
    # and the type's aggregate makes the label of the version (26-36, which neither gave).
    _label(first, pid, agree, 26, 35, person)
    _label(second, pid, agree, 27, 36, person)
    # The same characters as two categories: agreement 0, so an adjudicator decides.
    _label(first, pid, split, 10, 15, person)
    _label(second, pid, split, 10, 15, place)
    assert manager.get(f"/api/v1/items/{agree}").json()["status"] == "labeled"
    assert manager.get(f"/api/v1/items/{split}").json()["status"] == "adjudication"

    adjudicator = client_for("adjudicator", project=pid)
    case = adjudicator.get(f"/api/v1/items/{split}/adjudication")
    assert case.status_code == 200, case.text
    page = adjudicator.get(f"/projects/{pid}/adjudication/{split}")
    assert page.status_code == 200 and ODYSSEY in page.text  # in the editors' state
    muse = next(
        a["id"]
        for a in adjudicator.get(f"/api/v1/items/{split}/annotations").json()
        if a["payload"]["category_id"] == place
    )
    decided = adjudicator.post(
        f"/api/v1/items/{split}/adjudication",
        json={"annotation_id": muse, "reasoning": "The muse is invoked, not a place."},
    )
    assert decided.status_code == 201, decided.text

    # The gold item, answered close to the expected phrase: scored by the type's agreement.
    _label(first, pid, golden, 0, 9, person)
    with runtime.session() as session:
        (result,) = session.exec(select(GoldResult)).all()
    assert result.agreement == pytest.approx(8 / 9)

    # The Quality Hub's figures, over the type's agreement.
    hub = manager.get(f"/api/v1/projects/{pid}/quality")
    assert hub.status_code in (200, 202), hub.text
    assert manager.get(f"/projects/{pid}/quality").status_code in (200, 401)

    # A reviewer approves the agreed item, seen on its item page (the editors' state).
    item_page = reviewer.get(f"/projects/{pid}/items/{agree}")
    assert item_page.status_code == 200 and ILIAD in item_page.text
    approved = reviewer.post(
        f"/api/v1/projects/{pid}/reviews", json={"item_ids": [agree], "decision": "approved"}
    )
    assert approved.status_code == 200, approved.text

    # A dataset version: the records carry the verse inline, the labels as phrases.
    started = manager.post(f"/api/v1/projects/{pid}/datasets", json={"selection": {}})
    assert started.status_code == 202, started.text
    version = _released(manager, started.json()["id"])
    assert version["status"] == "released", version
    download = manager.get(f"/api/v1/datasets/{version['id']}/download")
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        lines = archive.read(next(n for n in archive.namelist() if n.endswith("records.jsonl")))
    records = {r["item"]["id"]: r for r in map(json.loads, lines.splitlines())}
    assert set(records) == {agree, split}, version  # the gold item is kept for quality control
    assert records[agree]["item"]["files"] == []
    assert records[agree]["item"]["parts"] == [
        {
            "role": "text",
            "media_type": "application/json",
            "meta": {
                "size": len(json.dumps(iliad, separators=(",", ":"))),
                "length": 52,
                "lines": 1,
            },
            "data": iliad,
        }
    ]
    (chosen,) = records[agree]["labels"]
    assert chosen["payload"] == {"start": 26, "end": 36, "category_id": person}
    (decided_label,) = records[split]["labels"]
    assert decided_label["payload"]["category_id"] == place
    assert decided_label["adjudication"]["reasoning"] == "The muse is invoked, not a place."

    # An export format written from the version, knowing nothing of verses.
    exported = manager.get(f"/api/v1/datasets/{version['id']}/download?format=jsonl")
    assert exported.status_code == 200, exported.text
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        rows = [
            json.loads(line)
            for name in archive.namelist()
            if name.endswith("annotations.jsonl")
            for line in archive.read(name).splitlines()
        ]
    assert {(r["item_id"], tuple(r["categories"])) for r in rows} == {
        (agree, ("person",)),
        (split, ("place",)),
    }

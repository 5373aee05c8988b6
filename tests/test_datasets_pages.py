"""The dataset versions page: the list with each version's gate result and download, the form
that creates one (built in the background, its row polling until done), the gate report of a
held version, and Retry on a build a crash stopped."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import update
from sqlmodel import col

from scholia.core import datasets
from scholia.core.job_kinds import BUILD
from scholia.core.models import DatasetVersion, User
from scholia.core.models.types import utcnow
from scholia.core.plugins import Plugins
from scholia.core.runtime import Runtime

from .conftest import export, with_rules
from .test_api_datasets import APPROVED_ONLY

Client = TestClient[Any]
POLLING = 'hx-trigger="every 500ms"'


@pytest.fixture
def plugins() -> Plugins:
    return with_rules(APPROVED_ONLY)


@pytest.fixture
def manager(client_for: Callable[..., Client], labeled: dict[str, Any]) -> Client:
    return client_for("manager", project=labeled["project"])


def page_url(labeled: dict[str, Any]) -> str:
    return f"/projects/{labeled['project'].id}/datasets"


def row(client: Client, labeled: dict[str, Any], version_id: int) -> str:
    response = client.get(f"{page_url(labeled)}/{version_id}/row")
    assert response.status_code == 200, response.text
    return html.unescape(response.text)


def finished_row(client: Client, labeled: dict[str, Any], version_id: int) -> str:
    """Poll the row as the page does, until it stops asking to be polled."""
    deadline = time.monotonic() + 20
    while POLLING in (text := row(client, labeled, version_id)):
        assert time.monotonic() < deadline, text
        time.sleep(0.05)
    return text


def test_the_project_page_links_to_its_dataset_versions(
    manager: Client, labeled: dict[str, Any]
) -> None:
    text = manager.get(f"/projects/{labeled['project'].id}").text
    assert f'href="{page_url(labeled)}">Datasets</a>' in text


def test_a_project_without_versions_shows_the_empty_state_and_annotators_cannot_open_it(
    client_for: Callable[..., Client], manager: Client, labeled: dict[str, Any]
) -> None:
    text = manager.get(page_url(labeled)).text
    assert "No dataset versions yet" in text
    assert "Create the first one above." in text
    assert re.findall(r'name="statuses" value="(\w+)" checked>', text) == ["approved"]
    assert 'value="approved" checked>approved <small>4</small>' in text  # with its item count
    annotator = client_for("annotator", project=labeled["project"])
    # Versions hold every annotator's labels and the gate's gold statistics.
    assert annotator.get(page_url(labeled)).status_code == 403
    assert page_url(labeled) not in annotator.get(f"/projects/{labeled['project'].id}").text
    reviewer = client_for("reviewer", project=labeled["project"]).get(page_url(labeled)).text
    assert "No dataset versions yet" in reviewer and "A manager creates them." in reviewer
    assert "Create version" not in reviewer


def test_the_list_shows_each_version_with_its_counts_hash_gate_and_download(
    manager: Client, labeled: dict[str, Any], runtime: Runtime
) -> None:
    released = export(runtime, labeled["project"].id)
    held = export(runtime, labeled["project"].id, statuses=["approved", "labeled"])
    assert (released.status, held.status) == ("released", "held")
    text = html.unescape(manager.get(page_url(labeled)).text)
    assert text.index(f'id="version-{held.id}"') < text.index(f'id="version-{released.id}"')
    first = row(manager, labeled, released.id)
    assert '<span class="badge released">released</span>' in first
    assert f'<code title="{released.content_hash}">{released.content_hash[:12]}…</code>' in first
    assert f'data-copy="{released.content_hash}"' in first
    assert '<td class="num">4</td>' in first
    with runtime.reading() as session:
        creator = session.get(User, released.created_by)
    assert creator is not None and f'<td class="created">{creator.display_name}<br>' in first
    assert f'href="/api/v1/datasets/{released.id}/download" download>Download</a>' in first
    assert f'href="/api/v1/datasets/{released.id}/download?format=yolo"' in first
    assert POLLING not in first


def test_a_held_version_shows_its_gate_report_and_offers_no_download(
    manager: Client, labeled: dict[str, Any], runtime: Runtime
) -> None:
    held = export(runtime, labeled["project"].id, statuses=["approved", "labeled"])
    text = row(manager, labeled, held.id)
    assert '<span class="badge held">held</span>' in text
    assert "approved, labeled" in text
    assert "/download" not in text
    assert "Held by the export gate" in text
    report = re.search(r'<tr class="failed" data-rule="approved_share">(.*?)</tr>', text, re.S)
    assert report is not None
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", report[1])]
    assert cells == [
        "Approved items approved_share",
        "0.667",
        "at least 1",
        "failed",
        "4 of 6 items approved",
    ]


def test_the_form_creates_a_version_that_builds_in_the_background(
    manager: Client, labeled: dict[str, Any]
) -> None:
    response = manager.post(
        page_url(labeled),
        data={"statuses": ["approved", "labeled"], "category_ids": ["2"], "format": "yolo"},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text
    assert response.headers["location"] == f"{page_url(labeled)}?format=yolo"
    listed = manager.get(f"/api/v1/projects/{labeled['project'].id}/datasets").json()
    (version,) = listed
    assert version["selection"]["statuses"] == ["approved", "labeled"]
    assert version["selection"]["category_ids"] == [2]
    page = manager.get(response.headers["location"]).text
    assert "Building version 1; its row shows the progress." in page
    done = finished_row(manager, labeled, version["id"])
    assert '<span class="badge held">held</span>' in done  # one of the two items is not approved
    assert "categories: dog" in done


def test_a_building_version_polls_and_shows_its_progress(
    manager: Client, labeled: dict[str, Any], runtime: Runtime
) -> None:
    """A build moving elsewhere (the CLI): its row polls itself and shows the items so far."""
    with runtime.session() as session:
        version = datasets.create(session, labeled["project"].id, datasets.Selection(), 1)
        session.flush()
        version.progress_items, version.total_items, version.progress_at = 3, 4, utcnow()
        session.add(version)
    text = row(manager, labeled, version.id)  # type: ignore[arg-type]
    assert POLLING in text
    assert f'hx-get="{page_url(labeled)}/{version.id}/row"' in text
    assert 'aria-valuenow="3"' in text and "3 / 4 items" in text
    assert 'style="width: 75%"' in text
    assert "Retry" not in text


def test_a_version_a_crash_left_building_offers_retry_which_completes_it(
    manager: Client, labeled: dict[str, Any], runtime: Runtime
) -> None:
    with runtime.session() as session:
        version = datasets.create(session, labeled["project"].id, datasets.Selection(), 1)

    def crash(done: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        datasets.build(runtime, version.id, on_progress=crash)  # type: ignore[arg-type]
    with runtime.session() as session:  # a while later, nothing has moved it
        session.connection().execute(
            update(DatasetVersion)
            .where(col(DatasetVersion.id) == version.id)
            .values(progress_at=utcnow() - BUILD.stalled_after * 2)
        )
    stalled = row(manager, labeled, version.id)  # type: ignore[arg-type]
    assert POLLING not in stalled
    assert f'action="{page_url(labeled)}/{version.id}/retry"' in stalled
    response = manager.post(f"{page_url(labeled)}/{version.id}/retry", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert "Building version 1 again." in manager.get(response.headers["location"]).text
    done = finished_row(manager, labeled, version.id)  # type: ignore[arg-type]
    assert '<span class="badge released">released</span>' in done
    again = manager.post(f"{page_url(labeled)}/{version.id}/retry")
    assert "only a failed or stalled build can be retried" in html.unescape(again.text)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"statuses": ["rejected"]},
            "No items match the selection: status in rejected; category in 3",
        ),
        ({}, "Choose at least one status"),
        (
            {"statuses": ["approved"], "format": "darknet"},
            "Unknown export format 'darknet' (installed: coco, csv, jsonl, label-studio, voc, "
            "yolo)",
        ),
    ],
)
def test_the_form_refuses_what_cannot_be_built_and_numbers_no_version(
    manager: Client, labeled: dict[str, Any], form: dict[str, Any], message: str
) -> None:
    response = manager.post(page_url(labeled), data={"category_ids": ["3"], **form})
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert f'<div class="flash error" role="alert">{message}</div>' in text
    assert re.search(r'name="category_ids" value="3" checked', text)  # what was ticked stays
    assert manager.get(f"/api/v1/projects/{labeled['project'].id}/datasets").json() == []


def test_only_managers_create_versions(
    client_for: Callable[..., Client], labeled: dict[str, Any]
) -> None:
    reviewer = client_for("reviewer", project=labeled["project"])
    response = reviewer.post(page_url(labeled), data={"statuses": ["approved"]})
    assert response.status_code == 403
    assert reviewer.get(f"/api/v1/projects/{labeled['project'].id}/datasets").json() == []

"""The one job system: every kind (expansion, suggestion, build) read, cancelled and retried by
one key through ``/api/v1/jobs/{kind}-{id}``, stalls found in one query, and a claim by two
workers at once won by one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import update
from sqlmodel import col

from scholia.core import job_kinds, jobs
from scholia.core.errors import Conflict
from scholia.core.expansions import JOB as EXPANSION
from scholia.core.job_kinds import BUILD
from scholia.core.models import DatasetVersion, Expansion, Item, JobStatus
from scholia.core.models.types import utcnow
from scholia.core.runtime import Runtime
from scholia.server.app import create_app
from scholia.server.background import Jobs

from .conftest import crashed_build

Client = Callable[..., TestClient[Any]]


def expansion_row(runtime: Runtime, labeled: dict[str, Any], status: str, **values: Any) -> int:
    """An expansion's row as a job left it (over a stored image: no plugin expands it)."""
    with runtime.session() as session:
        item = session.get(Item, labeled["ids"][0])
        assert item is not None
        expansion = Expansion(
            project_id=labeled["project"].id,
            source_sha256=item.content_hash,
            name="clip.mp4",
            modality="video",
            options={},
            options_key=f"{status}-{time.monotonic_ns()}",
            meta={},
            status=status,
            created_by=labeled["owner"].id,
            progress_at=utcnow(),
            **values,
        )
        session.add(expansion)
        session.flush()
        assert expansion.id is not None
        return expansion.id


def age(runtime: Runtime, table: Any, job_id: int, by: Any) -> None:
    """Make a job's progress look stopped ``by`` ago (its worker died)."""
    with runtime.session() as session:
        session.connection().execute(
            update(table).where(col(table.id) == job_id).values(progress_at=utcnow() - by)
        )


def settled(client: TestClient[Any], url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(url).json()
        if job["status"] not in ("running", "building"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"{url} still runs")


def test_a_stalled_build_is_read_and_retried_through_its_job_key(
    api_for: Client, labeled: dict[str, Any], runtime: Runtime
) -> None:
    project = labeled["project"]
    manager = api_for("manager", project=project)
    version = crashed_build(runtime, project.id)
    url = f"/api/v1/jobs/build-{version.id}"
    moving = manager.get(url).json()
    assert (moving["kind"], moving["status"], moving["stalled"]) == ("build", "building", False)
    assert (moving["can_retry"], moving["can_cancel"]) == (False, False)
    assert moving["detail_url"] == f"/api/v1/datasets/{version.id}"
    early = manager.post(f"{url}/retry")
    assert early.status_code == 409
    assert early.json()["error"]["message"] == (
        "Dataset version 1 is being built (it moved less than 1 min ago); retry only once it stops."
    )

    age(runtime, DatasetVersion, version.id, BUILD.stalled_after * 2)  # type: ignore[arg-type]
    stalled = manager.get(url).json()
    assert (stalled["stalled"], stalled["can_retry"]) == (True, True)
    retried = manager.post(f"{url}/retry")
    assert retried.status_code == 202, retried.text
    assert retried.headers["location"] == url
    done = settled(manager, url)
    assert (done["status"], done["done"], done["error"]) == ("released", 4, None)
    again = manager.post(f"{url}/retry")
    assert again.status_code == 409
    assert again.json()["error"]["message"] == (
        "Dataset version 1 is released; only a failed or stalled build can be retried."
    )
    refused = manager.post(f"{url}/cancel")
    assert refused.status_code == 409
    assert "Dataset version 1 cannot be cancelled" in refused.json()["error"]["message"]

    listed = manager.get(f"/api/v1/projects/{project.id}/jobs").json()
    assert [j["key"] for j in listed] == [f"build-{version.id}"]


def test_an_expansion_is_cancelled_and_retried_by_the_same_calls_under_both_paths(
    api_for: Client, labeled: dict[str, Any], runtime: Runtime
) -> None:
    manager = api_for("manager", project=labeled["project"])
    running = expansion_row(runtime, labeled, JobStatus.running)
    cancelled = manager.post(f"/api/v1/jobs/expansion-{running}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["can_retry"]) == ("cancelled", True)
    twice = manager.post(f"/api/v1/expansions/{running}/cancel")  # the old path, same call
    assert twice.status_code == 409
    assert twice.json()["error"]["message"] == (
        "The expansion of 'clip.mp4' is cancelled; only a running expansion can be cancelled."
    )
    with runtime.reading() as session:
        stored = session.get(Expansion, running)
        assert stored is not None and stored.status == JobStatus.cancelled


def test_a_bad_key_another_projects_job_and_a_low_role_are_refused(
    api_for: Client, labeled: dict[str, Any], runtime: Runtime
) -> None:
    project = labeled["project"]
    manager = api_for("manager", project=project)
    job_id = expansion_row(runtime, labeled, JobStatus.failed)
    for key in ("nonsense", "expansion-x", "peaks-3", "expansion"):
        response = manager.get(f"/api/v1/jobs/{key}")
        assert response.status_code == 404, key
        assert response.json()["error"]["message"] == (
            f"No job {key!r}: a job key is <kind>-<id>, e.g. expansion-3; the kinds are "
            "build, expansion, suggestion."
        )
    missing = manager.get("/api/v1/jobs/build-999")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "No dataset version with id 999."
    outsider = api_for("manager")  # a manager, but of no project here: as if it did not exist
    for method, tail in (("GET", ""), ("POST", "/cancel"), ("POST", "/retry")):
        response = outsider.request(method, f"/api/v1/jobs/expansion-{job_id}{tail}")
        assert response.status_code == 404
        assert response.json()["error"]["message"] == f"No expansion with id {job_id}."
    reviewer = api_for("reviewer", project=project)
    assert reviewer.get(f"/api/v1/jobs/expansion-{job_id}").status_code == 200
    assert reviewer.post(f"/api/v1/jobs/expansion-{job_id}/retry").status_code == 403
    assert [j["key"] for j in reviewer.get(f"/api/v1/projects/{project.id}/jobs").json()] == [
        f"expansion-{job_id}"
    ]
    annotator = api_for("annotator", project=project)
    assert annotator.get(f"/api/v1/jobs/expansion-{job_id}").status_code == 403


def test_of_two_workers_claiming_one_job_at_once_exactly_one_wins(
    labeled: dict[str, Any], runtime: Runtime
) -> None:
    for _ in range(3):
        job_id = expansion_row(runtime, labeled, JobStatus.failed, error="truncated")
        assert sorted(race(runtime, job_id, labeled["owner"].id)) == [
            "The expansion of 'clip.mp4' is running (it moved less than 5 min ago); cancel it "
            "first.",
            "won",
        ]
        with runtime.reading() as session:
            stored = jobs.get(session, EXPANSION, job_id)
            assert (stored.status, stored.error) == (JobStatus.running, None)


def race(runtime: Runtime, job_id: int, actor_id: int) -> list[str]:
    """Two threads that both saw the job failed claim it at once: what each got."""
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def claim() -> None:
        with runtime.reading() as session:
            seen = jobs.get(session, EXPANSION, job_id)
        start.wait()  # SQLite queues the two writers; PostgreSQL runs them side by side
        with runtime.session() as session:
            job = session.merge(seen, load=False)
            try:
                jobs.claim_again(session, EXPANSION, job, actor_id)
                outcomes.append("won")
            except Conflict as error:
                outcomes.append(error.message)

    workers = [threading.Thread(target=claim) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return outcomes


def test_stalled_jobs_of_every_kind_are_found_in_one_query_and_resumed(
    labeled: dict[str, Any], runtime: Runtime
) -> None:
    project_id = labeled["project"].id
    version = crashed_build(runtime, project_id)
    assert version.id is not None
    moving = expansion_row(runtime, labeled, JobStatus.running)
    left = expansion_row(runtime, labeled, JobStatus.running)
    expansion_row(runtime, labeled, JobStatus.failed)  # failed: retried by a person, not here
    age(runtime, Expansion, left, EXPANSION.stalled_after * 2)
    age(runtime, DatasetVersion, version.id, BUILD.stalled_after * 2)
    age(runtime, Expansion, moving, BUILD.stalled_after * 2)  # stalled for a build, not for it
    kinds = list(job_kinds.KINDS.values())
    with runtime.reading() as session:
        found = jobs.stalled_jobs(session, kinds)
        assert [(kind.name, job_id) for kind, job_id in found] == [
            ("build", version.id),
            ("expansion", left),
        ]
        assert jobs.stalled_jobs(session, kinds, project_id=project_id + 1) == []

    runner = Jobs(runtime)
    assert runner.resume_stalled() == [f"build-{version.id}", f"expansion-{left}"]
    assert runner.resume_stalled() == []  # claimed: nothing is stalled any more
    deadline = time.monotonic() + 60
    while runner.running(BUILD, version.id) or runner.running(EXPANSION, left):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    with runtime.reading() as session:
        built = jobs.get(session, BUILD, version.id)
        expansion = jobs.get(session, EXPANSION, left)
    assert built.status == "released"
    # No plugin expands "video" in this runtime: the resumed expansion fails, saying so.
    assert expansion.status == JobStatus.failed
    assert "No loaded plugin expands 'video' files" in (expansion.error or "")


def test_a_served_app_resumes_stalled_jobs_at_startup_and_while_it_runs(
    labeled: dict[str, Any], runtime: Runtime
) -> None:
    """``scholia serve`` watches for stalled jobs: one a crash left behind is resumed when the
    server starts, one that stalls while it runs at the next look; nobody presses retry."""
    project_id = labeled["project"].id
    before = crashed_build(runtime, project_id)
    age(runtime, DatasetVersion, before.id, BUILD.stalled_after * 2)
    app = create_app(runtime, watch_stalled=0.2)

    def status(version_id: Any) -> str:
        with runtime.reading() as session:
            return str(jobs.get(session, BUILD, version_id).status)

    def released(version_id: Any) -> bool:
        deadline = time.monotonic() + 60
        while status(version_id) != "released":
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    with TestClient(app):
        assert released(before.id)
        during = crashed_build(runtime, project_id)  # stalls only once it is old enough
        time.sleep(0.5)
        assert status(during.id) == "building"
        age(runtime, DatasetVersion, during.id, BUILD.stalled_after * 2)
        assert released(during.id)

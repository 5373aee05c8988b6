"""API: dataset versions: list, create (built in the background), poll, download, retry."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream

from scholia.core import datasets, projects
from scholia.core.job_kinds import BUILD
from scholia.core.models import Project

from ..background import jobs_of
from ..downloads import download
from ..routing import get, post, runtime_of, user_of
from . import jobs as job_calls
from .schemas import DatasetVersionIn, DatasetVersionOut

__all__ = ["dataset_api"]


def _out(request: Request[Any, Any, Any], version_id: int) -> DatasetVersionOut:
    runtime = runtime_of(request)
    with runtime.reading() as session:
        version = datasets.get_version(session, version_id)
    running = jobs_of(request.app.state, runtime)
    return DatasetVersionOut.of(version, can_retry=running.can_retry(BUILD, version))


def _accepted(out: DatasetVersionOut) -> Response[DatasetVersionOut]:
    return Response(out, status_code=202, headers={"Location": out.url})


@get("/projects/{project_id:int}/datasets")
def list_dataset_versions(
    request: Request[Any, Any, Any], project_id: FromPath[int]
) -> list[DatasetVersionOut]:
    """The project's dataset versions, newest first."""
    runtime = runtime_of(request)
    with runtime.reading() as session:
        projects.get_project(session, project_id)
        found = datasets.list_versions(session, project_id)
    running = jobs_of(request.app.state, runtime)
    return [DatasetVersionOut.of(v, can_retry=running.can_retry(BUILD, v)) for v in found]


@post("/projects/{project_id:int}/datasets", status_code=202)
def create_dataset_version(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    data: JSONBody[DatasetVersionIn],
) -> Response[DatasetVersionOut]:
    """Number a new version and build it in the background: 202, then poll ``url`` until
    ``status`` is no longer ``building``. A selection that matches no item is a 422 and
    numbers no version."""
    runtime = runtime_of(request)
    selection = datasets.parse_selection(data.selection)
    with runtime.session() as session:
        version = datasets.create(session, project_id, selection, user_of(request).id)  # type: ignore[arg-type]
    assert version.id is not None
    jobs_of(request.app.state, runtime).start(BUILD, version.id)
    return _accepted(_out(request, version.id))


@get("/datasets/{version_id:int}")
def get_dataset_version(
    request: Request[Any, Any, Any], version_id: FromPath[int]
) -> DatasetVersionOut:
    """Status, progress while building, counts, content hash and the gate's report."""
    return _out(request, version_id)


@get("/datasets/{version_id:int}/download")
def download_dataset_version(
    request: Request[Any, Any, Any],
    version_id: FromPath[int],
    format_name: Annotated[
        str | None,
        QueryParameter(name="format", description="An installed export format (e.g. yolo)."),
    ] = None,
) -> Stream:
    """The released version as a zip streamed from its folder (records.jsonl,
    checksums.sha256, manifest.json, media/), or written in ``format``. 409 names why when
    the version is held (the failing rules), building or failed."""
    runtime = runtime_of(request)
    with runtime.reading() as session:
        version = datasets.get_version(session, version_id)
        project = session.get(Project, version.project_id)
        assert project is not None
    return download(runtime, version, project.name, format_name or None)


@post("/datasets/{version_id:int}/retry", status_code=202)
def retry_dataset_version(
    request: Request[Any, Any, Any], version_id: FromPath[int]
) -> Response[DatasetVersionOut]:
    """Build a failed version, or one a crash left ``building``, again (409 while a build
    is still moving it)."""
    job_calls.retry(request, BUILD, version_id)
    return _accepted(_out(request, version_id))


@post("/datasets/{version_id:int}/recheck", status_code=200)
def recheck_dataset_version(
    request: Request[Any, Any, Any], version_id: FromPath[int]
) -> DatasetVersionOut:
    """Run the export gate again on a held version: released once its findings are cleared
    (409 for a version that is not held)."""
    datasets.recheck(runtime_of(request), version_id, user_of(request).id)  # type: ignore[arg-type]
    return _out(request, version_id)


dataset_api = [
    list_dataset_versions,
    create_dataset_version,
    get_dataset_version,
    download_dataset_version,
    retry_dataset_version,
    recheck_dataset_version,
]

"""Dataset versions of a project: the list with each version's gate result and download, and
the form that creates one.

A version is built in the background (``scholia.server.background``); while it builds, its row
polls itself every half second (htmx) and shows the progress written on the version's row, so
a build started by ``scholia export`` shows up the same way. A row whose build stopped (a
crash) offers Retry. Downloads are the API's (``/api/v1/datasets/{id}/download``): a held
version offers none, its gate report says which rule failed with which value.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from sqlmodel import Session, col, select

from scholia.core import datasets, exports, labels, projects
from scholia.core.contributions import ExportFormat
from scholia.core.errors import Conflict, InvalidInput, NotFound
from scholia.core.item_state import ItemState
from scholia.core.job_kinds import BUILD
from scholia.core.models import DatasetVersion, DatasetVersionStatus, Project, Role, User

from ..access import can
from ..background import Jobs, jobs_of
from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page
from .forms import Form, value, values

__all__ = ["dataset_pages"]

FULL = "projects/datasets.html"
ROW = "projects/_dataset_version.html"
FormatQuery = Annotated[str, QueryParameter(name="format", description="Download in this format.")]


def _url(project_id: int, format_name: str = "") -> str:
    query = f"?{urlencode({'format': format_name})}" if format_name else ""
    return f"/projects/{project_id}/datasets{query}"


def _builds(request: Request[Any, Any, Any]) -> Jobs:
    return jobs_of(request.app.state, runtime_of(request))


def _formats(request: Request[Any, Any, Any], project: Project) -> list[ExportFormat]:
    """The formats that can write this project's annotation types (MOT is no image format)."""
    return exports.formats_for(runtime_of(request).plugins, project.annotation_types)


def _rows_context(
    request: Request[Any, Any, Any],
    session: Session,
    project: Project,
    versions: list[DatasetVersion],
) -> dict[str, Any]:
    """What a version's row shows besides the version: who made it, whether it may be
    retried (and by whom), and the formats it can be downloaded in."""
    creator_ids = {v.created_by for v in versions}
    creators = {
        u.id: u.display_name
        for u in session.exec(select(User).where(col(User.id).in_(creator_ids)))
    }
    builds = _builds(request)
    return {
        "creators": creators,
        "retryable": {v.id for v in versions if builds.can_retry(BUILD, v)},
        "can_create": can(request, Role.manager),
        "formats": _formats(request, project),
    }


def _render(
    request: Request[Any, Any, Any],
    project_id: int,
    *,
    status_code: int = 200,
    error: InvalidInput | None = None,
    form: dict[str, Any] | None = None,
    download_format: str = "",
) -> Response[Any]:
    with runtime_of(request).reading() as session:
        summary = projects.summarize(session, project_id)
        versions = datasets.list_versions(session, project_id)
        everything = labels.all_categories(session, project_id)
        context = _rows_context(request, session, summary.project, versions)
    return page(
        request,
        FULL,
        status_code=status_code,
        project=summary.project,
        counts=summary.counts,
        versions=versions,
        category_names={c.id: c.name for c in everything},
        live_categories=[c for c in everything if c.deleted_at is None],
        statuses=list(ItemState),
        form=form or {"statuses": [ItemState.approved.value], "category_ids": [], "format": ""},
        error=error,
        download_format=download_format,
        **context,
    )


@get("/projects/{project_id:int}/datasets")
def datasets_page(
    request: Request[Any, Any, Any], project_id: FromPath[int], format_name: FormatQuery = ""
) -> Response[Any]:
    with runtime_of(request).reading() as session:
        project = projects.get_project(session, project_id)
    known = {f.name for f in _formats(request, project)}
    return _render(request, project_id, download_format=format_name if format_name in known else "")


@get("/projects/{project_id:int}/datasets/{version_id:int}/row")
def version_row(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    version_id: FromPath[int],
    format_name: FormatQuery = "",
) -> Response[Any]:
    """One version's row: what the building row polls until the build is done; the answer
    once it is done also replaces the "Building version N" notice with how it ended."""
    with runtime_of(request).reading() as session:
        project = projects.get_project(session, project_id)
        version = datasets.get_version(session, version_id)
        if version.project_id != project_id:
            raise NotFound("dataset version", version_id)
        category_names = {c.id: c.name for c in labels.all_categories(session, project_id)}
        context = _rows_context(request, session, project, [version])
    return page(
        request,
        ROW,
        project=project,
        v=version,
        category_names=category_names,
        download_format=format_name,
        settled=version.status != DatasetVersionStatus.building,
        **context,
    )


@post("/projects/{project_id:int}/datasets")
def create_version(
    request: Request[Any, Any, Any], project_id: FromPath[int], data: Form
) -> Response[Any]:
    statuses = values(data, "statuses")
    raw_categories = values(data, "category_ids")
    format_name = value(data, "format")
    form = {"statuses": statuses, "category_ids": raw_categories, "format": format_name}
    try:
        with runtime_of(request).reading() as session:
            project = projects.get_project(session, project_id)
        known = [f.name for f in _formats(request, project)]
        if format_name and format_name not in known:
            installed = {f.name for f in runtime_of(request).plugins.all(ExportFormat)}
            raise InvalidInput(
                f"The {format_name!r} format does not fit this project's annotation types "
                f"({', '.join(project.annotation_types)}); choose one of: {', '.join(known)}"
                if format_name in installed
                else f"Unknown export format {format_name!r} (installed: "
                f"{', '.join(known) or 'none'})",
                "$.format",
            )
        if not statuses:
            raise InvalidInput("Choose at least one status", "$.selection.statuses")
        selection = datasets.parse_selection(
            {"statuses": statuses, "category_ids": [int(c) for c in raw_categories if c.isdigit()]}
        )
        with runtime_of(request).session() as session:
            version = datasets.create(session, project_id, selection, user_of(request).id)  # type: ignore[arg-type]
    except InvalidInput as error:
        return _render(request, project_id, status_code=422, error=error, form=form)
    assert version.id is not None
    _builds(request).start(BUILD, version.id)
    return flash(
        Redirect(_url(project_id, format_name)),
        f"Building version {version.version}; its row shows the progress.",
        "info",
    )


def _version_in(
    request: Request[Any, Any, Any], project_id: int, version_id: int
) -> DatasetVersion:
    """Version ``version_id``, which must belong to project ``project_id`` (else 404)."""
    with runtime_of(request).reading() as session:
        version = datasets.get_version(session, version_id)
    if version.project_id != project_id:
        raise NotFound("dataset version", version_id)
    return version


@post(
    "/projects/{project_id:int}/datasets/{version_id:int}/retry",
)
def retry_version(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    version_id: FromPath[int],
    format_name: FormatQuery = "",
) -> Response[Any]:
    """Build a failed or stalled version again; back to the list, where its row polls."""
    back = Redirect(_url(project_id, format_name))
    version = _version_in(request, project_id, version_id)
    try:
        _builds(request).retry(BUILD, version, user_of(request).id)  # type: ignore[arg-type]
    except Conflict as error:
        return flash(back, error.message, "error")
    return flash(back, f"Building version {version.version} again.", "info")


@post(
    "/projects/{project_id:int}/datasets/{version_id:int}/recheck",
)
def recheck_version(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    version_id: FromPath[int],
    format_name: FormatQuery = "",
) -> Response[Any]:
    """Judge a held version again; back to the list with what the gate says now."""
    back = Redirect(_url(project_id, format_name))
    _version_in(request, project_id, version_id)
    try:
        checked = datasets.recheck(runtime_of(request), version_id, user_of(request).id)  # type: ignore[arg-type]
    except Conflict as error:
        return flash(back, error.message, "error")
    if checked.status == "released":
        return flash(back, f"Version {checked.version} passes the gate now: released.", "info")
    failing = ", ".join(r["title"] for r in checked.gate_report["rules"] if not r["passed"])
    return flash(back, f"Version {checked.version} is still held: {failing}.", "error")


dataset_pages = [datasets_page, version_row, create_version, retry_version, recheck_version]

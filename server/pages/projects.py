"""Projects: the list, the create form, and a project's overview with its items."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect

from scholia.core import expansions, labels, membership, projects, queue, uploads
from scholia.core.errors import InvalidInput
from scholia.core.models import Role
from scholia.core.plugins import Plugins

from ..access import can
from ..background import jobs_of
from ..option_fields import expand_options, option_fields, options_from
from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page
from .expansions import expansion_context, upload_context
from .forms import Form, value, values
from .grid import GRID_QUERY, GridQuery, fold_counts_when_due, grid_context

__all__ = ["project_pages"]

PAGE_SIZE = 48


@get("/")
def home() -> Response[Any]:
    return Redirect("/projects")


@get("/projects", name="projects")
def project_list(request: Request[Any, Any, Any]) -> Response[Any]:
    user = user_of(request)
    with runtime_of(request).reading() as session:
        summaries = projects.list_projects(
            session, only=membership.visible_project_ids(session, user)
        )
        mine: dict[int, dict[str, int]] = {
            s.project.id: _own(session, s, user.id)  # type: ignore[arg-type]
            for s in summaries
            if not membership.holds(membership.role_in(session, s.project.id, user), Role.reviewer)  # type: ignore[arg-type]
        }
    return page(
        request,
        "projects/list.html",
        summaries=summaries,
        mine=mine,
        can_create=membership.may_create_projects(user),
    )


def _own(session: Any, summary: projects.ProjectSummary, annotator_id: int) -> dict[str, int]:
    """An annotator's card counts their own work (held, done, skipped), not the project's
    states: those would show that a gold item never moves when they label it. ``items`` says
    only whether there is anything to label yet."""
    assert summary.project.id is not None
    return {
        **queue.my_queue_counts(session, summary.project.id, annotator_id),
        "items": int(summary.total > 0),
    }


def _form_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    plugins = runtime_of(request).plugins
    return {
        "modalities": sorted(plugins.modalities.values(), key=lambda m: m.title),
        "annotation_types": sorted(plugins.annotation_types.values(), key=lambda a: a.title),
        "type_options": {
            a.name: option_fields(a.options, f"{OPTIONS}.{a.name}.")
            for a in plugins.annotation_types.values()
            if a.options is not None
        },
    }


OPTIONS = "annotation_options"
"""The new-project form's fields of a type's options: ``annotation_options.<type>.<name>``."""


def _settings_from(plugins: Plugins, data: dict[str, Any]) -> dict[str, Any] | None:
    """The options of each chosen annotation type that declares some, as its fields gave
    them (its defaults otherwise); the core checks them against the type's Struct."""
    options = {}
    for name in values(data, "annotation_types"):
        kind = plugins.annotation_types.get(name)
        if kind is None or kind.options is None:
            continue
        given = options_from(data, kind.options, f"{OPTIONS}.{name}.")
        try:  # with its defaults filled in, as the project will hold them
            options[name] = msgspec.to_builtins(msgspec.convert(given, kind.options))
        except msgspec.ValidationError:
            options[name] = given  # the core says what is wrong, and where
    return {OPTIONS: options} if options else None


@get("/projects/new")
def new_project(request: Request[Any, Any, Any]) -> Response[Any]:
    return page(request, "projects/new.html", form={}, error=None, **_form_context(request))


@post("/projects")
def create_project(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    runtime = runtime_of(request)
    categories = [line.strip() for line in value(data, "categories").splitlines() if line.strip()]
    try:
        settings = _settings_from(runtime.plugins, data)
        with runtime.session() as session:
            project = projects.create_project(
                session,
                runtime.plugins,
                actor_id=user_of(request).id,  # type: ignore[arg-type]
                name=value(data, "name"),
                description=value(data, "description"),
                modality=value(data, "modality"),
                annotation_types=values(data, "annotation_types"),
                categories=categories,
                guidelines=value(data, "guidelines"),
                settings=settings,
            )
    except InvalidInput as error:
        form = {**data, "annotation_types": values(data, "annotation_types")}
        return page(
            request,
            "projects/new.html",
            status_code=422,
            form=form,
            error=error,
            **_form_context(request),
        )
    return flash(Redirect(f"/projects/{project.id}"), f"Project “{project.name}” created.")


@get("/projects/{project_id:int}", dependencies=GRID_QUERY)
def project_detail(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    grid: NamedDependency[GridQuery],
) -> Response[Any]:
    runtime = runtime_of(request)
    user = user_of(request)
    with runtime.reading() as session:
        project = projects.get_project(session, project_id)
        # The grid (every item, its state, its labels) is for QA roles; an annotator sees
        # their own queue's counts, which say nothing of gold items.
        if can(request, Role.reviewer):
            context = grid_context(request, session, project_id, grid, f"/projects/{project_id}")
        else:
            context = {"my_counts": queue.my_queue_counts(session, project_id, user.id)}  # type: ignore[arg-type]
        categories = labels.live_categories(session, project_id)
        schema = labels.current_schema(session, project_id)
        guideline = projects.current_guideline(session, project_id)
        if can(request, Role.reviewer):
            context |= expansion_context(request, session, project_id)
    if "counts" in context:
        fold_counts_when_due(request, project_id, context["counts"])
    return page(
        request,
        "projects/detail.html",
        project=project,
        categories=categories,
        schema=schema,
        guideline=guideline,
        selectable=False,
        can_upload=can(request, Role.manager),
        can_review=can(request, Role.reviewer),
        modality=runtime.plugins.modalities.get(project.modality),
        **upload_context(runtime, project.modality),
        **context,
    )


@post("/projects/{project_id:int}/items")
def upload_items(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Response[Any]:
    files = [f for f in _as_list(data.get("files")) if isinstance(f, UploadFile) and f.filename]
    if not files:
        return flash(Redirect(f"/projects/{project_id}"), "Choose files to upload.", "error")
    runtime = runtime_of(request)
    result = uploads.ingest_files(
        runtime,
        project_id,
        [(f.filename, f.file) for f in files],
        actor_id=user_of(request).id,  # type: ignore[arg-type]
        expand_options=expand_options(data),
    )
    running = jobs_of(request.app.state, runtime)
    for expansion_id in result.queued:
        running.start(expansions.JOB, expansion_id)
    parts = [f"{len(result.created)} added"]
    if result.existing:
        parts.append(f"{len(result.existing)} already in the project (not duplicated)")
    if result.expansions:
        parts.append(f"{len(result.expansions)} being split into items (see Frame extraction)")
    response = Redirect(f"/projects/{project_id}")
    if result.problems:
        refused = "; ".join(reason for _, reason in result.problems)
        return flash(response, ", ".join(parts) + ". Not added: " + refused, "error")
    return flash(response, ", ".join(parts) + ".")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


project_pages = [home, project_list, new_project, create_project, project_detail, upload_items]

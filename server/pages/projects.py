"""Projects: the list, the create form, and a project's overview with its items."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect

from scholia.core import items, labels, projects
from scholia.core.errors import InvalidInput
from scholia.core.lifecycle import ItemState
from scholia.core.models import Role

from ..auth import requires, signed_in
from ..media import media_url
from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page
from .forms import Form, value, values

__all__ = ["project_pages"]

PAGE_SIZE = 48


@get("/")
def home() -> Response[Any]:
    return Redirect("/projects")


@get("/projects", guards=[signed_in], name="projects")
def project_list(request: Request[Any, Any, Any]) -> Response[Any]:
    with runtime_of(request).session() as session:
        summaries = projects.list_projects(session)
    return page(
        request,
        "projects/list.html",
        summaries=summaries,
        can_create=user_of(request).has_role(Role.manager),
    )


def _form_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    plugins = runtime_of(request).plugins
    return {
        "modalities": sorted(plugins.modalities.values(), key=lambda m: m.title),
        "annotation_types": sorted(plugins.annotation_types.values(), key=lambda a: a.title),
    }


@get("/projects/new", guards=[requires(Role.manager)])
def new_project(request: Request[Any, Any, Any]) -> Response[Any]:
    return page(request, "projects/new.html", form={}, error=None, **_form_context(request))


@post("/projects", guards=[requires(Role.manager)])
def create_project(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    runtime = runtime_of(request)
    categories = [line.strip() for line in value(data, "categories").splitlines() if line.strip()]
    try:
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


@get("/projects/{project_id:int}", guards=[signed_in])
def project_detail(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    status: FromQuery[str | None] = None,
    after: FromQuery[int | None] = None,
) -> Response[Any]:
    runtime = runtime_of(request)
    if status is not None and status not in ItemState.__members__:
        status = None
    with runtime.session() as session:
        summary = projects.summarize(session, project_id)
        project = summary.project
        page_items = items.list_items(
            session, project_id, status=status, after_id=after, limit=PAGE_SIZE + 1
        )
        categories = labels.live_categories(session, project_id)
        schema = labels.current_schema(session, project_id)
        guideline = projects.current_guideline(session, project_id)
    has_more = len(page_items) > PAGE_SIZE
    page_items = page_items[:PAGE_SIZE]
    secret = runtime.settings.secret_key
    thumbs = {i.id: media_url(secret, i.content_hash, "thumb") for i in page_items}
    return page(
        request,
        "projects/detail.html",
        project=project,
        summary=summary,
        items=page_items,
        thumbs=thumbs,
        categories=categories,
        schema=schema,
        guideline=guideline,
        status=status,
        states=list(ItemState),
        has_more=has_more,
        next_after=page_items[-1].id if has_more and page_items else None,
        can_upload=user_of(request).has_role(Role.manager),
        modality=runtime.plugins.modalities.get(project.modality),
    )


@post("/projects/{project_id:int}/items", guards=[requires(Role.manager)])
def upload_items(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Response[Any]:
    files = [f for f in _as_list(data.get("files")) if isinstance(f, UploadFile) and f.filename]
    if not files:
        return flash(Redirect(f"/projects/{project_id}"), "Choose files to upload.", "error")
    result = items.ingest_files(
        runtime_of(request),
        project_id,
        [(f.filename, f.file) for f in files],
        actor_id=user_of(request).id,  # type: ignore[arg-type]
    )
    parts = [f"{len(result.created)} added"]
    if result.existing:
        parts.append(f"{len(result.existing)} already in the project (not duplicated)")
    response = Redirect(f"/projects/{project_id}")
    if result.problems:
        refused = "; ".join(reason for _, reason in result.problems)
        return flash(response, ", ".join(parts) + ". Not added: " + refused, "error")
    return flash(response, ", ".join(parts) + ".")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


project_pages = [home, project_list, new_project, create_project, project_detail, upload_items]

"""API: projects and their categories."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Request
from litestar.params import FromPath, FromQuery, JSONBody
from sqlmodel import col, select

from scholia.core import labels, membership, projects
from scholia.core.models import LabelSchemaVersion, Project, Role

from ..access import can
from ..routing import get, patch, post, runtime_of, user_of
from .schemas import CategoryIn, CategoryOut, CategoryPatch, ProjectIn, ProjectOut

__all__ = ["project_api"]


def _out(session: Any, project: Project, counts: dict[str, int], qa: bool = True) -> ProjectOut:
    """``qa`` False (an annotator): the quality settings and per-state counts are left out,
    since gold items never move through the lifecycle for annotators."""
    assert project.id is not None
    schema = labels.current_schema(session, project.id)
    if not qa:
        counts = {}
    return ProjectOut(
        id=project.id,
        name=project.name,
        description=project.description,
        modality=project.modality,
        annotation_types=project.annotation_types,
        settings=project.settings
        if qa
        else {"annotation_options": project.settings.get("annotation_options", {})},
        schema_version=schema.schema_version,
        labels_hash=schema.labels_hash,
        guideline_version=projects.current_guideline(session, project.id).version,
        counts=counts,
        created_at=project.created_at,
    )


@get("/projects")
def list_projects(request: Request[Any, Any, Any]) -> list[ProjectOut]:
    with runtime_of(request).reading() as session:
        me = user_of(request)
        visible = membership.visible_project_ids(session, me)
        return [
            _out(session, s.project, s.counts, membership.holds(role, Role.reviewer))
            for s in projects.list_projects(session, only=visible)
            for role in [membership.role_in(session, s.project.id, me)]  # type: ignore[arg-type]
        ]


@post("/projects")
def create_project(request: Request[Any, Any, Any], data: JSONBody[ProjectIn]) -> ProjectOut:
    runtime = runtime_of(request)
    with runtime.session() as session:
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=user_of(request).id,  # type: ignore[arg-type]
            name=data.name,
            modality=data.modality,
            annotation_types=data.annotation_types,
            description=data.description,
            categories=data.categories,
            guidelines=data.guidelines,
            settings=data.settings,
        )
        summary = projects.summarize(session, project.id)  # type: ignore[arg-type]
        return _out(session, project, summary.counts)


@patch("/projects/{project_id:int}/settings")
def update_settings(
    request: Request[Any, Any, Any], project_id: FromPath[int], data: JSONBody[dict[str, Any]]
) -> dict[str, Any]:
    """Change some quality settings (overlap, gold, calibration, adjudication, rule
    thresholds); a group such as ``gold`` is merged key by key. Returns them all."""
    runtime = runtime_of(request)
    with runtime.session() as session:
        updated = projects.update_settings(
            session,
            runtime.plugins,
            project_id,
            data,
            actor_id=user_of(request).id,  # type: ignore[arg-type]
        )
    return msgspec.to_builtins(updated)  # type: ignore[no-any-return]


@get("/projects/{project_id:int}")
def get_project(request: Request[Any, Any, Any], project_id: FromPath[int]) -> ProjectOut:
    with runtime_of(request).reading() as session:
        summary = projects.summarize(session, project_id)
        return _out(session, summary.project, summary.counts, can(request, Role.reviewer))


@get("/projects/{project_id:int}/categories")
def list_categories(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    include_deleted: FromQuery[bool] = False,
) -> list[CategoryOut]:
    with runtime_of(request).reading() as session:
        projects.get_project(session, project_id)
        found = (
            labels.all_categories(session, project_id)
            if include_deleted
            else labels.live_categories(session, project_id)
        )
        return [CategoryOut.of(c) for c in found]


@post("/projects/{project_id:int}/categories")
def add_category(
    request: Request[Any, Any, Any], project_id: FromPath[int], data: JSONBody[CategoryIn]
) -> CategoryOut:
    with runtime_of(request).session() as session:
        projects.get_project(session, project_id)
        category = labels.add_category(
            session, project_id, data.name, user_of(request).id, color=data.color
        )  # type: ignore[arg-type]
        return CategoryOut.of(category)


@patch("/projects/{project_id:int}/categories/{category_id:int}")
def update_category(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    category_id: FromPath[int],
    data: JSONBody[CategoryPatch],
) -> CategoryOut:
    with runtime_of(request).session() as session:
        category = labels.update_category(
            session,
            project_id,
            category_id,
            user_of(request).id,  # type: ignore[arg-type]
            name=data.name,
            color=data.color,
            hotkey=data.hotkey,
            display_order=data.display_order,
            deleted=data.deleted,
        )
        return CategoryOut.of(category)


class SchemaVersionOut(msgspec.Struct):
    """One label schema version: the categories as they were after ``change``."""

    id: int
    schema_version: str
    labels_hash: str
    change: str
    created_by: int
    created_at: datetime
    categories: list[dict[str, Any]]


@get("/projects/{project_id:int}/schema-versions")
def list_schema_versions(
    request: Request[Any, Any, Any], project_id: FromPath[int]
) -> list[SchemaVersionOut]:
    """Every label schema version of the project, newest first."""
    with runtime_of(request).reading() as session:
        projects.get_project(session, project_id)
        found = session.exec(
            select(LabelSchemaVersion)
            .where(col(LabelSchemaVersion.project_id) == project_id)
            .order_by(col(LabelSchemaVersion.id).desc())
        )
        return [
            SchemaVersionOut(
                id=v.id,  # type: ignore[arg-type]
                schema_version=v.schema_version,
                labels_hash=v.labels_hash,
                change=v.change,
                created_by=v.created_by,
                created_at=v.created_at,
                categories=v.categories,
            )
            for v in found
        ]


project_api = [
    list_projects,
    create_project,
    get_project,
    update_settings,
    list_categories,
    add_category,
    update_category,
    list_schema_versions,
]

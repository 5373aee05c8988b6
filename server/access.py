"""Who may call each route: one table for the whole app, applied by one guard.

Every route (API, pages, ``/metrics``, plugin routes) has an entry, keyed by method and path
template. An entry is one of:

- ``public``: anyone (sign-in, health, static files, media by signed URL, the API schema);
- ``signed_in``: any signed-in user (their account, the project list, which shows only their
  projects);
- ``creator``: may create projects (admins, and accounts with the ``manager`` role);
- ``admin``: the one global role;
- ``member`` or a project role (``annotator``, ``reviewer``, ``adjudicator``, ``manager``):
  the route is under a project, found from the path (``project_id``, or the object an
  ``item_id``, ``annotation_id``, ``version_id``, ``model_id``, ``expansion_id``, ``job_id``,
  ``suggestion_id`` or ``suspension_id`` belongs to, or the job a ``job_key`` names).

Under a project, a user who is not a member gets 404, exactly as if the object did not exist
(so ids of other projects tell nothing); a member without the role gets 403 naming it. Admins
pass everywhere. A route without an entry is refused (403), and the test suite walks every
route to check each has one (tests/test_access.py). Plugins give their routes' entry with
``Route(access=...)``.

The guard leaves what it found in ``scope["membership"]``: handlers ask ``can(request, role)``
instead of looking at the account's roles.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from scholia.core import job_kinds, membership
from scholia.core.errors import NotFound
from scholia.core.models import (
    Annotation,
    DatasetVersion,
    Expansion,
    Item,
    Model,
    ProjectMember,
    Role,
    Suggestion,
    SuggestionJob,
    Suspension,
    User,
)
from scholia.core.runtime import Runtime

from .auth import signed_in

__all__ = [
    "ACCESS",
    "LEVELS",
    "AccessTable",
    "Membership",
    "access_guard",
    "can",
    "project_role",
]

PUBLIC = "public"
SIGNED_IN = "signed_in"
CREATOR = "creator"
ADMIN = "admin"
MEMBER = "member"
ANNOTATOR = Role.annotator.value
REVIEWER = Role.reviewer.value
ADJUDICATOR = Role.adjudicator.value
MANAGER = Role.manager.value

PROJECT_LEVELS = (MEMBER, ANNOTATOR, REVIEWER, ADJUDICATOR, MANAGER)
LEVELS = (PUBLIC, SIGNED_IN, CREATOR, ADMIN, *PROJECT_LEVELS)

ACCESS: dict[tuple[str, str], str] = {
    # --- outside any project ---------------------------------------------------------------
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/"): PUBLIC,
    ("GET", "/sign-in"): PUBLIC,
    ("POST", "/sign-in"): PUBLIC,
    ("GET", "/sign-in/link"): PUBLIC,
    ("POST", "/sign-out"): PUBLIC,
    ("GET", "/media/{sha256}/{variant}"): PUBLIC,  # authorised by the URL's signature
    ("GET", "/api/v1/schema"): PUBLIC,
    ("GET", "/api/v1/schema/swagger"): PUBLIC,
    ("GET", "/api/v1/schema/openapi.json"): PUBLIC,
    ("GET", "/api/v1/schema/oauth2-redirect.html"): PUBLIC,
    ("GET", "/api/v1/schema/{path}"): PUBLIC,
    ("GET", "/projects"): SIGNED_IN,
    ("GET", "/plugins"): SIGNED_IN,
    ("GET", "/account"): SIGNED_IN,
    ("POST", "/account/tokens"): SIGNED_IN,
    ("POST", "/account/tokens/{token_id}/revoke"): SIGNED_IN,
    ("GET", "/metrics"): SIGNED_IN,  # the projects the caller manages (admins: all)
    ("GET", "/api/v1/me"): SIGNED_IN,
    ("GET", "/api/v1/tokens"): SIGNED_IN,
    ("POST", "/api/v1/tokens"): SIGNED_IN,
    ("DELETE", "/api/v1/tokens/{token_id}"): SIGNED_IN,
    ("GET", "/api/v1/projects"): SIGNED_IN,
    ("GET", "/api/v1/plugins"): SIGNED_IN,
    ("GET", "/favicon.ico"): PUBLIC,
    # --- admins: users and sign-in security --------------------------------------------------
    ("GET", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users"): ADMIN,
    ("GET", "/api/v1/users/{user_id}"): ADMIN,
    ("POST", "/api/v1/users/{user_id}/deactivate"): ADMIN,
    ("POST", "/api/v1/users/{user_id}/reactivate"): ADMIN,
    ("POST", "/api/v1/users/{user_id}/password"): ADMIN,
    ("GET", "/admin/users"): ADMIN,
    ("POST", "/admin/users"): ADMIN,
    ("POST", "/admin/users/{user_id}/deactivate"): ADMIN,
    ("POST", "/admin/users/{user_id}/reactivate"): ADMIN,
    ("POST", "/admin/users/{user_id}/password"): ADMIN,
    ("GET", "/security"): ADMIN,
    ("POST", "/security/lift"): ADMIN,
    ("GET", "/projects/new"): CREATOR,
    ("POST", "/projects"): CREATOR,
    ("POST", "/api/v1/projects"): CREATOR,
    # --- project pages ---------------------------------------------------------------------
    ("GET", "/projects/{project_id}"): MEMBER,
    ("POST", "/projects/{project_id}/items"): MANAGER,
    ("GET", "/projects/{project_id}/expansions"): REVIEWER,
    ("POST", "/projects/{project_id}/expansions/{expansion_id}/cancel"): MANAGER,
    ("POST", "/projects/{project_id}/expansions/{expansion_id}/retry"): MANAGER,
    ("GET", "/projects/{project_id}/categories"): MEMBER,
    ("POST", "/projects/{project_id}/categories"): MANAGER,
    ("POST", "/projects/{project_id}/categories/{category_id}"): MANAGER,
    ("POST", "/projects/{project_id}/categories/{category_id}/move"): MANAGER,
    ("POST", "/projects/{project_id}/categories/{category_id}/delete"): MANAGER,
    ("POST", "/projects/{project_id}/categories/{category_id}/restore"): MANAGER,
    ("GET", "/projects/{project_id}/datasets"): REVIEWER,
    ("POST", "/projects/{project_id}/datasets"): MANAGER,
    ("GET", "/projects/{project_id}/datasets/{version_id}/row"): REVIEWER,
    ("POST", "/projects/{project_id}/datasets/{version_id}/retry"): MANAGER,
    ("POST", "/projects/{project_id}/datasets/{version_id}/recheck"): MANAGER,
    ("GET", "/projects/{project_id}/review"): REVIEWER,
    ("POST", "/projects/{project_id}/review"): REVIEWER,
    ("GET", "/projects/{project_id}/review/issues"): REVIEWER,
    ("GET", "/projects/{project_id}/quality"): REVIEWER,
    ("POST", "/projects/{project_id}/quality/escalate"): MANAGER,
    ("GET", "/projects/{project_id}/adjudication"): ADJUDICATOR,
    ("GET", "/projects/{project_id}/adjudication/{item_id}"): ADJUDICATOR,
    ("POST", "/projects/{project_id}/adjudication/{item_id}"): ADJUDICATOR,
    ("GET", "/projects/{project_id}/items/{item_id}"): MEMBER,  # annotators: their own work
    ("POST", "/projects/{project_id}/items/{item_id}/transition"): REVIEWER,
    ("GET", "/projects/{project_id}/label"): ANNOTATOR,
    ("POST", "/projects/{project_id}/label"): ANNOTATOR,
    ("GET", "/projects/{project_id}/label/{item_id}"): ANNOTATOR,
    ("GET", "/projects/{project_id}/gold"): REVIEWER,
    ("POST", "/projects/{project_id}/items/{item_id}/gold"): REVIEWER,
    ("POST", "/projects/{project_id}/suspensions/{suspension_id}/lift"): MANAGER,
    ("GET", "/projects/{project_id}/calibration"): MEMBER,  # the caller's own results
    ("GET", "/projects/{project_id}/settings"): MANAGER,
    ("POST", "/projects/{project_id}/settings"): MANAGER,
    ("GET", "/projects/{project_id}/models"): MANAGER,
    ("POST", "/projects/{project_id}/models"): MANAGER,
    ("POST", "/projects/{project_id}/models/{model_id}/activate"): MANAGER,
    ("POST", "/projects/{project_id}/models/{model_id}/retire"): MANAGER,
    ("POST", "/projects/{project_id}/models/suggest"): MANAGER,
    ("GET", "/projects/{project_id}/models/jobs/{job_id}/row"): MANAGER,
    ("POST", "/projects/{project_id}/models/jobs/{job_id}/cancel"): MANAGER,
    ("POST", "/projects/{project_id}/models/jobs/{job_id}/resume"): MANAGER,
    ("GET", "/projects/{project_id}/members"): MANAGER,
    ("POST", "/projects/{project_id}/members"): MANAGER,
    ("POST", "/projects/{project_id}/members/{user_id}"): MANAGER,
    ("POST", "/projects/{project_id}/members/{user_id}/remove"): MANAGER,
    # --- project API -----------------------------------------------------------------------
    ("GET", "/api/v1/projects/{project_id}"): MEMBER,
    ("PATCH", "/api/v1/projects/{project_id}/settings"): MANAGER,
    ("GET", "/api/v1/projects/{project_id}/categories"): MEMBER,
    ("POST", "/api/v1/projects/{project_id}/categories"): MANAGER,
    ("PATCH", "/api/v1/projects/{project_id}/categories/{category_id}"): MANAGER,
    ("GET", "/api/v1/projects/{project_id}/schema-versions"): MEMBER,
    ("GET", "/api/v1/projects/{project_id}/members"): MANAGER,
    ("POST", "/api/v1/projects/{project_id}/members"): MANAGER,
    ("PATCH", "/api/v1/projects/{project_id}/members/{user_id}"): MANAGER,
    ("DELETE", "/api/v1/projects/{project_id}/members/{user_id}"): MANAGER,
    ("GET", "/api/v1/projects/{project_id}/items"): REVIEWER,
    ("POST", "/api/v1/projects/{project_id}/items"): MANAGER,
    ("POST", "/api/v1/projects/{project_id}/records"): MANAGER,
    ("GET", "/api/v1/items/{item_id}"): MEMBER,  # annotators: their own status
    ("GET", "/api/v1/items/{item_id}/annotations"): MEMBER,  # annotators: their own
    ("POST", "/api/v1/items/{item_id}/annotations"): ANNOTATOR,
    ("POST", "/api/v1/items/{item_id}/transitions"): REVIEWER,
    ("GET", "/api/v1/projects/{project_id}/jobs"): REVIEWER,  # the kinds the caller may see
    ("GET", "/api/v1/jobs/{job_key}"): REVIEWER,  # and the job kind's own viewer role
    ("POST", "/api/v1/jobs/{job_key}/cancel"): MANAGER,
    ("POST", "/api/v1/jobs/{job_key}/retry"): MANAGER,
    ("GET", "/api/v1/projects/{project_id}/expansions"): REVIEWER,
    ("GET", "/api/v1/expansions/{expansion_id}"): REVIEWER,
    ("POST", "/api/v1/expansions/{expansion_id}/cancel"): MANAGER,
    ("POST", "/api/v1/expansions/{expansion_id}/retry"): MANAGER,
    ("POST", "/api/v1/projects/{project_id}/queue/next"): ANNOTATOR,
    ("GET", "/api/v1/projects/{project_id}/queue/{item_id}"): ANNOTATOR,
    ("POST", "/api/v1/projects/{project_id}/queue/{item_id}/claim"): ANNOTATOR,
    ("POST", "/api/v1/items/{item_id}/skip"): ANNOTATOR,
    ("POST", "/api/v1/annotations/{annotation_id}/withdraw"): ANNOTATOR,
    ("GET", "/api/v1/projects/{project_id}/counts"): REVIEWER,
    ("POST", "/api/v1/projects/{project_id}/reviews"): REVIEWER,
    ("POST", "/api/v1/projects/{project_id}/reviews/matching"): REVIEWER,
    ("GET", "/api/v1/projects/{project_id}/items/count"): REVIEWER,
    ("POST", "/api/v1/projects/{project_id}/items/{item_id}/gold"): REVIEWER,
    ("DELETE", "/api/v1/projects/{project_id}/items/{item_id}/gold"): REVIEWER,
    ("POST", "/api/v1/projects/{project_id}/items/{item_id}/gold/promote"): REVIEWER,
    ("GET", "/api/v1/projects/{project_id}/gold"): REVIEWER,
    ("GET", "/api/v1/projects/{project_id}/gold/accuracy"): REVIEWER,
    ("GET", "/api/v1/projects/{project_id}/suspensions"): REVIEWER,
    ("POST", "/api/v1/projects/{project_id}/suspensions/{suspension_id}/lift"): MANAGER,
    ("POST", "/api/v1/projects/{project_id}/calibration/{annotator_id}/grant"): MANAGER,
    ("GET", "/api/v1/projects/{project_id}/calibration"): MEMBER,  # the caller's own
    ("GET", "/api/v1/projects/{project_id}/quality"): REVIEWER,
    ("POST", "/api/v1/projects/{project_id}/quality/escalate"): MANAGER,
    ("GET", "/api/v1/projects/{project_id}/adjudication"): ADJUDICATOR,
    ("GET", "/api/v1/items/{item_id}/adjudication"): ADJUDICATOR,
    ("POST", "/api/v1/items/{item_id}/adjudication"): ADJUDICATOR,
    ("GET", "/api/v1/projects/{project_id}/datasets"): REVIEWER,
    ("POST", "/api/v1/projects/{project_id}/datasets"): MANAGER,
    ("GET", "/api/v1/datasets/{version_id}"): REVIEWER,
    ("GET", "/api/v1/datasets/{version_id}/download"): REVIEWER,
    ("POST", "/api/v1/datasets/{version_id}/retry"): MANAGER,
    ("POST", "/api/v1/datasets/{version_id}/recheck"): MANAGER,
    ("POST", "/api/v1/projects/{project_id}/imports"): MANAGER,
    ("GET", "/api/v1/projects/{project_id}/models"): MANAGER,
    ("POST", "/api/v1/projects/{project_id}/models"): MANAGER,
    ("POST", "/api/v1/projects/{project_id}/model-files"): MANAGER,
    ("GET", "/api/v1/models/{model_id}"): MANAGER,
    ("POST", "/api/v1/models/{model_id}/activate"): MANAGER,
    ("POST", "/api/v1/models/{model_id}/retire"): MANAGER,
    ("GET", "/api/v1/projects/{project_id}/suggestion-jobs"): MANAGER,
    ("POST", "/api/v1/projects/{project_id}/suggestion-jobs"): MANAGER,
    ("GET", "/api/v1/suggestion-jobs/{job_id}"): MANAGER,
    ("POST", "/api/v1/suggestion-jobs/{job_id}/cancel"): MANAGER,
    ("POST", "/api/v1/suggestion-jobs/{job_id}/resume"): MANAGER,
    ("GET", "/api/v1/projects/{project_id}/suggestion-outcomes"): MANAGER,
    ("GET", "/api/v1/items/{item_id}/suggestions"): MEMBER,  # as the caller may see them
    ("POST", "/api/v1/items/{item_id}/suggest"): MANAGER,
    ("POST", "/api/v1/suggestions/{suggestion_id}/accept"): ANNOTATOR,
    ("POST", "/api/v1/suggestions/{suggestion_id}/dismiss"): ANNOTATOR,
}
"""(method, path template) → who may call it. Static files (``/static/…``) are public."""

STATIC_PREFIX = "/static/"
_FOUND = "access_found"
"""Where ``AccessTable.prepare`` leaves what it found for the guard."""


@dataclass(frozen=True)
class Finder:
    """How a path parameter leads to its project, and what a missing one is called (the
    handler's own "No … with id …" message, so a refusal reads the same)."""

    kind: str
    statement: Any


def _job_owner(session: Session, key: str) -> tuple[int | None, NotFound]:
    """A job key (``expansion-3``) leads to its kind's row; a key naming no kind is refused
    with the message saying what a key is."""
    kind, job_id = job_kinds.key_of(key)
    owner = session.exec(select(kind.table.project_id).where(col(kind.table.id) == job_id)).first()
    return owner, NotFound(kind.title or kind.name, job_id)


def _project_of(column: Any, key: Any) -> Any:
    """The object's project and the caller's role there, in one statement."""
    role = (
        sa_select(ProjectMember.role)
        .where(
            col(ProjectMember.project_id) == column,
            col(ProjectMember.user_id) == bindparam("user_id"),
        )
        .scalar_subquery()
    )
    return sa_select(column, role).where(key == bindparam("key"))


FINDERS: dict[str, Finder] = {
    "item_id": Finder("item", _project_of(Item.project_id, col(Item.id))),
    "annotation_id": Finder("annotation", _project_of(Annotation.project_id, col(Annotation.id))),
    "version_id": Finder(
        "dataset version", _project_of(DatasetVersion.project_id, col(DatasetVersion.id))
    ),
    "model_id": Finder("model", _project_of(Model.project_id, col(Model.id))),
    "expansion_id": Finder("expansion", _project_of(Expansion.project_id, col(Expansion.id))),
    "job_id": Finder(
        "suggestion job", _project_of(SuggestionJob.project_id, col(SuggestionJob.id))
    ),
    "suggestion_id": Finder("suggestion", _project_of(Suggestion.project_id, col(Suggestion.id))),
    "suspension_id": Finder("suspension", _project_of(Suspension.project_id, col(Suspension.id))),
}
"""Path parameters naming an object of a project. A path holding ``project_id`` and one of
these must name an object of that project; anything else is "not found"."""
JOB_KEY = "job_key"


@dataclass(frozen=True)
class Membership:
    """What the guard found: the project a route is under and the caller's role in it
    (``admin`` for admins)."""

    project_id: int
    role: str


class AccessTable:
    """The core's entries plus those plugins give with their routes."""

    def __init__(self, extra: dict[tuple[str, str], str] | None = None) -> None:
        self.rules = {**ACCESS, **(extra or {})}
        unknown = {who for who in self.rules.values() if who not in LEVELS}
        if unknown:
            raise ValueError(f"unknown access levels {sorted(unknown)}; levels are {LEVELS}")

    def rule_for(self, method: str, path_template: str) -> str | None:
        if method in ("HEAD", "OPTIONS"):
            method = "GET" if method == "HEAD" else method
            if method == "OPTIONS":
                return PUBLIC  # Litestar's answer naming the allowed methods
        if path_template.startswith(STATIC_PREFIX):
            return PUBLIC
        return self.rules.get((method, path_template))

    def prepare(self, session: Session, user: User, scope: Any) -> None:
        """For a route under a project: the caller's role there, found in the unit of work
        that found the caller (``auth.Beside``), for the guard to apply; what refuses them
        is kept for the guard to raise."""
        who = self.rule_for(scope.get("method", "GET"), scope.get("path_template") or "")
        if who not in PROJECT_LEVELS:
            return
        try:
            scope[_FOUND] = resolve(session, user, dict(scope.get("path_params") or {}))
        except (NotFound, PermissionDeniedException) as refused:
            scope[_FOUND] = refused


def _path_template(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    template = connection.scope.get("path_template")
    return template if isinstance(template, str) else connection.scope["path"]


async def access_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Apply the access table to this request (see the module's docstring)."""
    table: AccessTable = connection.app.state["access"]
    method = connection.scope.get("method", "GET")
    template = _path_template(connection)
    who = table.rule_for(method, template)
    if who is None:
        raise PermissionDeniedException(
            f"No access rule covers {method} {template}, so it is refused; add one to "
            "scholia.server.access (or give the plugin route an access level)."
        )
    if who == PUBLIC:
        return
    signed_in(connection, handler)
    user: User = connection.scope["user"]
    if who == SIGNED_IN:
        return
    if who == ADMIN:
        if Role.admin not in user.roles:
            raise PermissionDeniedException("This needs the admin role.")
        return
    if who == CREATOR:
        if not membership.may_create_projects(user):
            raise PermissionDeniedException(
                "Creating projects needs an account with the manager role (or an admin)."
            )
        return
    found = connection.scope.get(_FOUND)  # type: ignore[typeddict-item]
    if isinstance(found, Exception):
        raise found
    if not isinstance(found, Membership):  # not found beside the user (a test's own scope)
        runtime: Runtime = connection.app.state["runtime"]
        params = dict(connection.scope.get("path_params") or {})
        found = await anyio.to_thread.run_sync(_resolve, runtime, user, params)
    connection.scope["membership"] = found  # type: ignore[typeddict-unknown-key]
    if who != MEMBER and not membership.holds(found.role, who):
        raise PermissionDeniedException(
            f"This needs the {who} role in this project; you are {_a(found.role)} here."
        )


def _a(role: str) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


def _resolve(runtime: Runtime, user: User, params: dict[str, Any]) -> Membership:
    """The project the path is under and the user's role in it; ``NotFound`` (as the handler
    would raise it) when an object is missing, belongs elsewhere, or the user is no member."""
    with runtime.reading() as session:
        return resolve(session, user, params)


def resolve(session: Session, user: User, params: dict[str, Any]) -> Membership:
    project_id: int | None = params.get("project_id")
    first: NotFound | None = None
    if project_id is not None:
        first = NotFound("project", project_id)
    role_there: str | None = None
    found_role = False  # the role came with an object's project: no statement of its own
    for name in [*FINDERS, JOB_KEY]:
        if name not in params:
            continue
        key = params[name]
        if name == JOB_KEY:
            owner, missing = _job_owner(session, key)
        else:
            finder = FINDERS[name]
            missing = NotFound(finder.kind, str(key) if isinstance(key, uuid.UUID) else key)
            row = session.execute(finder.statement, {"key": key, "user_id": user.id}).first()
            owner = None if row is None else row[0]
            if row is not None:
                role_there, found_role = row[1], True
        if owner is None or (project_id is not None and owner != project_id):
            raise missing
        if project_id is None:
            project_id, first = owner, missing
    if project_id is None or first is None:
        raise PermissionDeniedException("This route names no project; its access rule is wrong.")
    if Role.admin in user.roles:
        role: str | None = Role.admin.value
    else:
        role = role_there if found_role else membership.role_in(session, project_id, user)
    if role is None:
        raise first
    return Membership(project_id=project_id, role=role)


def project_role(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The caller's role in the project the route is under (``admin`` for admins)."""
    found = connection.scope.get("membership")  # type: ignore[typeddict-item]
    return found.role if isinstance(found, Membership) else None


def can(connection: ASGIConnection[Any, Any, Any, Any], role: str) -> bool:
    """Whether the caller holds ``role`` in the project the route is under."""
    return membership.holds(project_role(connection), role)

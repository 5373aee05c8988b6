"""A project's models page (managers): register a model, activate or retire it, run
"Suggest for unlabeled" in the background and read the outcome log.

Thin over ``scholia.core.model_registry`` and ``suggestion_jobs``. Registering loads the model
once, so a corrupt file or an unreachable service comes back on the form, next to the field,
with what was typed kept. A running job's row polls itself every half second (htmx), like a
dataset version that builds; a job ``scholia suggest`` runs shows up the same way.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, BinaryIO, cast

import msgspec
from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect
from sqlmodel import Session, col, select

from scholia.core import jobs as job_rows
from scholia.core import labels, model_registry, projects, suggestion_jobs
from scholia.core.contributions import PrelabelBackend
from scholia.core.errors import Conflict, InvalidInput, ModelFailed, ScholiaError
from scholia.core.models import Model, ModelStatus, Project, SuggestionJob, User

from ..api.models import job_out, outcomes_out
from ..background import Jobs, jobs_of
from ..routing import get, post, runtime_of, user_of
from ..templating import flash, page
from .forms import Form, value

__all__ = ["model_pages"]

FULL = "models/index.html"
JOB_ROW = "models/_job.html"
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]

FIELDS = ("backend", "name", "version", "annotation_type", "source", "categories", "config")
"""Form fields an error can sit next to (an error path ``$.<field>…`` names one)."""


@dataclass(frozen=True)
class BackendChoice:
    """A pre-label backend as the form offers it: for the project's annotation types only."""

    name: str
    title: str
    source_kind: str
    annotation_types: list[str]
    config_json: str


def _url(project_id: int) -> str:
    return f"/projects/{project_id}/models"


def _jobs(request: Request[Any, Any, Any]) -> Jobs:
    return jobs_of(request.app.state, runtime_of(request))


def _backends(request: Request[Any, Any, Any], project: Project) -> list[BackendChoice]:
    found = []
    for backend in sorted(
        runtime_of(request).plugins.all(PrelabelBackend),
        key=lambda b: (b.source_kind != "file", b.title),
    ):
        served = [t for t in project.annotation_types if t in backend.annotation_types]
        if not served:
            continue
        defaults = msgspec.to_builtins(backend.config()) if backend.config is not None else {}
        found.append(
            BackendChoice(
                name=backend.name,
                title=backend.title,
                source_kind=backend.source_kind,
                annotation_types=served,
                config_json=_config_text(defaults),
            )
        )
    return found


def _config_text(config: dict[str, Any]) -> str:
    """One key a line, values compact: easy to read and edit in the textarea."""
    if not config:
        return "{}"
    lines = [f"  {json.dumps(key)}: {json.dumps(item)}" for key, item in config.items()]
    return "{\n" + ",\n".join(lines) + "\n}"


def _field_of(error: ScholiaError) -> str:
    """Which form field an error belongs next to."""
    if isinstance(error, InvalidInput) and error.path:
        match = re.match(r"\$\.(\w+)", error.path)
        field = match.group(1) if match else ""
        if field == "labels_hash":
            return "categories"
        return field if field in FIELDS else ""
    if isinstance(error, ModelFailed):
        return "source"
    if isinstance(error, Conflict):
        return "version"
    return ""


def _default_form(
    session: Session, project_id: int, backends: list[BackendChoice]
) -> dict[str, str]:
    first = backends[0] if backends else None
    return {
        "backend": first.name if first else "",
        "name": "",
        "version": "",
        "annotation_type": first.annotation_types[0] if first else "",
        "source": "",
        "categories": "\n".join(c.name for c in labels.live_categories(session, project_id)),
        "config": first.config_json if first else "{}",
    }


def _job_context(
    request: Request[Any, Any, Any], session: Session, jobs: list[SuggestionJob]
) -> dict[str, Any]:
    """What a job's row shows besides the job: its model, and whether it polls or resumes."""
    runner = _jobs(request)
    model_ids = {j.model_id for j in jobs}
    models = {m.id: m for m in session.exec(select(Model).where(col(Model.id).in_(model_ids)))}
    return {
        "job_models": models,
        "job_views": {j.id: job_out(j, runner) for j in jobs},
    }


def _render(
    request: Request[Any, Any, Any],
    project_id: int,
    *,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    error: ScholiaError | None = None,
) -> Response[Any]:
    runtime = runtime_of(request)
    with runtime.reading() as session:
        project = projects.get_project(session, project_id)
        backends = _backends(request, project)
        models = model_registry.list_models(session, project_id)
        fits = {m.id: model_registry.schema_fit(session, m) for m in models}
        creator_ids = {m.created_by for m in models}
        creators = {
            u.id: u.display_name
            for u in session.exec(select(User).where(col(User.id).in_(creator_ids)))
        }
        jobs = suggestion_jobs.list_jobs(session, project_id)
        job_context = _job_context(request, session, jobs)
        outcomes = outcomes_out(session, runtime, project_id)
        shown_form = form or _default_form(session, project_id, backends)
    active = [m for m in models if m.status == ModelStatus.active]
    return page(
        request,
        FULL,
        status_code=status_code,
        project=project,
        backends=backends,
        models=models,
        fits=fits,
        creators=creators,
        active=active,
        jobs=jobs,
        outcomes=outcomes,
        decided=sum(o.decided for o in outcomes),
        form=shown_form,
        error=error,
        error_field=_field_of(error) if error else "",
        error_message=(error.reason if isinstance(error, InvalidInput) else error.message)
        if error
        else "",
        **job_context,
    )


@get("/projects/{project_id:int}/models")
def models_page(request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
    return _render(request, project_id)


def _names(text: str) -> list[str] | None:
    """Category names, comma- or newline-separated, in the model's output order (none given:
    the project's live categories)."""
    names = [n.strip() for n in re.split(r"[,\n]", text) if n.strip()]
    return names or None


def _config(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"config is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})",
            "$.config",
        ) from None
    if not isinstance(parsed, dict):
        raise InvalidInput('config must be a JSON object, like {"batch_size": 16}', "$.config")
    return parsed


@post("/projects/{project_id:int}/models")
def register_model(
    request: Request[Any, Any, Any], project_id: FromPath[int], data: Multipart
) -> Response[Any]:
    """Register from the form: an uploaded file is stored first and registered by its path."""
    runtime = runtime_of(request)
    form = {field: value(data, field) for field in FIELDS}
    upload = data.get("file")
    added: Path | None = None  # an upload new to the store: removed if the model is refused
    try:
        with runtime.reading() as session:
            project = projects.get_project(session, project_id)
        chosen = next((b for b in _backends(request, project) if b.name == form["backend"]), None)
        source = form["source"].strip()
        if isinstance(upload, UploadFile) and upload.filename:
            if chosen is not None and chosen.source_kind != "file":
                raise InvalidInput(f"{chosen.title} takes a service URL, not a file", "$.source")
            store = model_registry.file_store(runtime.settings.data_dir)
            with store.staging(cast(BinaryIO, upload.file)) as staged:  # a spooled binary file
                if staged.size == 0:
                    raise InvalidInput(f"{upload.filename} is empty", "$.source")
                if not store.has(staged.sha256):
                    added = store.path(staged.sha256)
                store.keep(staged)
            source = str(store.path(staged.sha256))
        elif not source and chosen is not None:
            what = "upload the model file or give its path on the server"
            raise InvalidInput(
                what if chosen.source_kind == "file" else "give the service URL", "$.source"
            )
        with runtime.session() as session:
            model = model_registry.register(
                session,
                runtime.plugins,
                runtime.predictors,
                project_id,
                name=form["name"],
                version=form["version"],
                backend=form["backend"],
                source=source,
                annotation_type=form["annotation_type"],
                categories=_names(form["categories"]),
                config=_config(form["config"]),
                actor_id=user_of(request).id,  # type: ignore[arg-type]
            )
            registered = f"{model.name} {model.version}"
    except (InvalidInput, ModelFailed, Conflict) as error:
        if added is not None:
            added.unlink(missing_ok=True)
        return _render(request, project_id, status_code=422, form=form, error=error)
    return flash(
        Redirect(_url(project_id)),
        f"Registered {registered}. Activate it to show its suggestions to annotators.",
    )


def _model_in(session: Session, project_id: int, model_id: int) -> Model:
    return model_registry.get_model(session, model_id, project_id)


@post("/projects/{project_id:int}/models/{model_id:int}/activate")
def activate_model(
    request: Request[Any, Any, Any], project_id: FromPath[int], model_id: FromPath[int]
) -> Response[Any]:
    back = Redirect(_url(project_id))
    try:
        with runtime_of(request).session() as session:
            model = _model_in(session, project_id, model_id)
            model_registry.activate(session, model, user_of(request).id)  # type: ignore[arg-type]
            text = f"{model.name} {model.version} is active: annotators see its suggestions."
    except Conflict as error:
        return flash(back, error.message, "error")
    return flash(back, text)


@post("/projects/{project_id:int}/models/{model_id:int}/retire")
def retire_model(
    request: Request[Any, Any, Any], project_id: FromPath[int], model_id: FromPath[int]
) -> Response[Any]:
    with runtime_of(request).session() as session:
        model = _model_in(session, project_id, model_id)
        model_registry.retire(session, model, user_of(request).id)  # type: ignore[arg-type]
        text = f"Retired {model.name} {model.version}; the outcome log keeps its record."
    return flash(Redirect(_url(project_id)), text)


@post("/projects/{project_id:int}/models/suggest")
def suggest_unlabeled(
    request: Request[Any, Any, Any], project_id: FromPath[int], data: Form
) -> Response[Any]:
    """Start "Suggest for unlabeled" with the chosen active model; the jobs list polls it."""
    back = Redirect(_url(project_id))
    raw = value(data, "model_id")
    try:
        with runtime_of(request).session() as session:
            projects.get_project(session, project_id)
            if raw.isdigit():
                model = _model_in(session, project_id, int(raw))
            else:
                active = model_registry.active_models(session, project_id)
                if not active:
                    raise InvalidInput("This project has no active model: activate one first.")
                model = active[0]
            if model.status != ModelStatus.active:
                raise InvalidInput(
                    f"{model.name} {model.version} is not the active model; activate it first."
                )
            job = suggestion_jobs.start(
                session,
                model,
                scope="unlabeled",
                actor_id=user_of(request).id,  # type: ignore[arg-type]
            )
            text = f"Suggesting for {job.total} unlabeled items with {model.name} {model.version}."
    except InvalidInput as error:
        return flash(back, error.reason, "error")
    except (ModelFailed, Conflict) as error:
        return flash(back, error.message, "error")
    assert job.id is not None
    _jobs(request).start(suggestion_jobs.JOB, job.id)
    return flash(back, text, "info")


def _job_in(session: Session, project_id: int, job_id: int) -> SuggestionJob:
    return suggestion_jobs.get_job(session, job_id, project_id)


@get("/projects/{project_id:int}/models/jobs/{job_id:int}/row")
def job_row(
    request: Request[Any, Any, Any], project_id: FromPath[int], job_id: FromPath[int]
) -> Response[Any]:
    """One job's row: what a running row polls until the job stops."""
    with runtime_of(request).reading() as session:
        project = projects.get_project(session, project_id)
        job = _job_in(session, project_id, job_id)
        context = _job_context(request, session, [job])
    return page(request, JOB_ROW, project=project, job=job, **context)


@post("/projects/{project_id:int}/models/jobs/{job_id:int}/cancel")
def cancel_job(
    request: Request[Any, Any, Any], project_id: FromPath[int], job_id: FromPath[int]
) -> Response[Any]:
    back = Redirect(_url(project_id))
    try:
        with runtime_of(request).session() as session:
            job = _job_in(session, project_id, job_id)
            job_rows.cancel(session, suggestion_jobs.JOB, job, user_of(request).id)  # type: ignore[arg-type]
    except Conflict as error:
        return flash(back, error.message, "error")
    return flash(back, f"Job {job_id} stops after its current batch; resume it any time.", "info")


@post("/projects/{project_id:int}/models/jobs/{job_id:int}/resume")
def resume_job(
    request: Request[Any, Any, Any], project_id: FromPath[int], job_id: FromPath[int]
) -> Response[Any]:
    back = Redirect(_url(project_id))
    with runtime_of(request).reading() as session:
        job = _job_in(session, project_id, job_id)
    try:
        _jobs(request).retry(suggestion_jobs.JOB, job, user_of(request).id)  # type: ignore[arg-type]
    except (Conflict, ModelFailed) as error:
        return flash(back, error.message, "error")
    return flash(back, f"Job {job_id} goes on from item {job.cursor}.", "info")


model_pages = [
    models_page,
    register_model,
    activate_model,
    retire_model,
    suggest_unlabeled,
    job_row,
    cancel_job,
    resume_job,
]

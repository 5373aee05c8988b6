"""API: a project's models (register, list, activate, retire), batch suggestion jobs and the
outcome log."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody
from sqlmodel import Session

from scholia.core import labels, model_registry, projects, suggestion_jobs, suggestions
from scholia.core.errors import InvalidInput
from scholia.core.models import Model, SuggestionJob
from scholia.core.runtime import Runtime

from ..background import Jobs, jobs_of
from ..routing import get, post, runtime_of, user_of
from . import jobs as job_calls
from .schemas import JobIn, JobOut, ModelIn, ModelOut, OutcomeOut, SchemaFitOut

__all__ = ["job_out", "model_api", "model_out", "outcomes_out"]


def model_out(session: Session, model: Model) -> ModelOut:
    fit = model_registry.schema_fit(session, model)
    return ModelOut(
        id=model.id or 0,
        project_id=model.project_id,
        name=model.name,
        version=model.version,
        backend=model.backend,
        source=model.source,
        annotation_type=model.annotation_type,
        categories=model.categories,
        labels_hash=model.labels_hash,
        config=model.config,
        status=model.status,
        problem=model.problem,
        schema=SchemaFitOut(
            fits=fit.fits,
            model_labels_hash=fit.model_hash,
            project_labels_hash=fit.project_hash,
            differences=fit.describe(),
        ),
        created_at=model.created_at,
        url=f"/api/v1/models/{model.id}",
    )


def job_out(job: SuggestionJob, running: Jobs) -> JobOut:
    return JobOut(
        id=job.id or 0,
        project_id=job.project_id,
        model_id=job.model_id,
        scope=job.scope,
        status=job.status,
        total=job.total,
        processed=job.processed,
        suggested=job.suggested,
        failed=job.failed,
        failures=job.failures,
        error=job.error,
        can_resume=running.can_retry(suggestion_jobs.JOB, job),
        created_at=job.created_at,
        finished_at=job.finished_at,
        url=f"/api/v1/suggestion-jobs/{job.id}",
    )


def outcomes_out(session: Session, runtime: Runtime, project_id: int) -> list[OutcomeOut]:
    names = {c.id: c.name for c in labels.all_categories(session, project_id)}
    found = suggestions.outcome_log(session, runtime.plugins.annotation_types, project_id)
    return [
        OutcomeOut(
            model_id=r.model.id or 0,
            model_name=r.model.name,
            model_version=r.model.version,
            status=r.model.status,
            suggestions=r.suggestions,
            decided=r.decided,
            accepted=r.counts["accepted"],
            confirmed=r.counts["confirmed"],
            corrected=r.counts["corrected"],
            rejected=r.counts["rejected"],
            acceptance_rate=r.acceptance_rate,
            independent=r.independent,
            mean_agreement=r.mean_agreement,
            per_category=[
                {
                    "category_id": category_id,
                    "name": names.get(category_id, f"#{category_id}"),
                    "decided": tally["decided"],
                    "taken": tally["taken"],
                    "rate": tally["taken"] / tally["decided"] if tally["decided"] else None,
                }
                for category_id, tally in sorted(r.per_category.items())
            ],
        )
        for r in found
    ]


@get("/projects/{project_id:int}/models")
def list_models(request: Request[Any, Any, Any], project_id: FromPath[int]) -> list[ModelOut]:
    """The project's models, newest first, each with whether it fits the current schema."""
    with runtime_of(request).reading() as session:
        projects.get_project(session, project_id)
        return [model_out(session, m) for m in model_registry.list_models(session, project_id)]


@post("/projects/{project_id:int}/models", status_code=201)
def register_model(
    request: Request[Any, Any, Any], project_id: FromPath[int], data: JSONBody[ModelIn]
) -> ModelOut:
    """Register a model: it is loaded once first, so a missing or corrupt file, an input shape
    that does not match ``config``, or a service that does not answer is a 422 saying so,
    and nothing is stored."""
    runtime = runtime_of(request)
    with runtime.session() as session:
        model = model_registry.register(
            session,
            runtime.plugins,
            runtime.predictors,
            project_id,
            name=data.name,
            version=data.version,
            backend=data.backend,
            source=data.source,
            annotation_type=data.annotation_type,
            categories=data.categories,
            labels_hash=data.labels_hash,
            config=data.config,
            actor_id=user_of(request).id,  # type: ignore[arg-type]
        )
        return model_out(session, model)


@post("/projects/{project_id:int}/model-files", status_code=201)
def upload_model_file(
    request: Request[Any, Any, Any],
    project_id: FromPath[int],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> dict[str, str]:
    """Upload a model file (multipart field ``file``); the answer's ``source`` is what to
    register it with."""
    runtime = runtime_of(request)
    with runtime.reading() as session:
        projects.get_project(session, project_id)
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput("Send the model file in the multipart field 'file'", "$.file")
    store = model_registry.file_store(runtime.settings.data_dir)
    digest, _ = store.put(upload.file)
    return {"source": str(store.path(digest)), "sha256": digest}


def _model_action(request: Request[Any, Any, Any], model_id: int, action: str) -> ModelOut:
    runtime = runtime_of(request)
    with runtime.session() as session:
        model = model_registry.get_model(session, model_id)
        actor = user_of(request).id
        assert actor is not None
        if action == "activate":
            model_registry.activate(session, model, actor)
        else:
            model_registry.retire(session, model, actor)
        return model_out(session, model)


@get("/models/{model_id:int}")
def get_model(request: Request[Any, Any, Any], model_id: FromPath[int]) -> ModelOut:
    with runtime_of(request).reading() as session:
        return model_out(session, model_registry.get_model(session, model_id))


@post("/models/{model_id:int}/activate", status_code=200)
def activate_model(request: Request[Any, Any, Any], model_id: FromPath[int]) -> ModelOut:
    """Make it the model whose suggestions annotators see (the previous one is deactivated)."""
    return _model_action(request, model_id, "activate")


@post("/models/{model_id:int}/retire", status_code=200)
def retire_model(request: Request[Any, Any, Any], model_id: FromPath[int]) -> ModelOut:
    """Retire it for good: its suggestions stop showing; the outcome log keeps its record."""
    return _model_action(request, model_id, "retire")


@post(
    "/projects/{project_id:int}/suggestion-jobs",
    status_code=202,
)
def start_job(
    request: Request[Any, Any, Any], project_id: FromPath[int], data: JSONBody[JobIn]
) -> Response[JobOut]:
    """Suggest for the selected items in the background: 202, then poll ``url``. A retired
    model, or one whose ``labels_hash`` is not the project's, is refused (422 naming both
    hashes and the categories that differ)."""
    runtime = runtime_of(request)
    with runtime.session() as session:
        projects.get_project(session, project_id)
        if data.model_id is not None:
            model = model_registry.get_model(session, data.model_id, project_id)
        else:
            active = model_registry.active_models(session, project_id)
            if not active:
                raise InvalidInput(
                    "This project has no active model: register one and activate it, or give "
                    "model_id",
                    "$.model_id",
                )
            model = active[0]
        job = suggestion_jobs.start(
            session,
            model,
            scope=data.scope,  # type: ignore[arg-type]
            item_ids=data.item_ids,
            actor_id=user_of(request).id,  # type: ignore[arg-type]
        )
    running = jobs_of(request.app.state, runtime)
    assert job.id is not None
    running.start(suggestion_jobs.JOB, job.id)
    out = job_out(job, running)
    return Response(out, status_code=202, headers={"Location": out.url})


@get("/projects/{project_id:int}/suggestion-jobs")
def list_jobs(request: Request[Any, Any, Any], project_id: FromPath[int]) -> list[JobOut]:
    runtime = runtime_of(request)
    running = jobs_of(request.app.state, runtime)
    with runtime.reading() as session:
        return [job_out(j, running) for j in suggestion_jobs.list_jobs(session, project_id)]


def _out(request: Request[Any, Any, Any], job: SuggestionJob) -> JobOut:
    return job_out(job, jobs_of(request.app.state, runtime_of(request)))


@get("/suggestion-jobs/{job_id:int}")
def get_job(request: Request[Any, Any, Any], job_id: FromPath[int]) -> JobOut:
    """Progress (``processed`` of ``total``), counts and the first per-item errors."""
    return _out(request, job_calls.load(request, suggestion_jobs.JOB, job_id))


@post("/suggestion-jobs/{job_id:int}/cancel", status_code=200)
def cancel_job(request: Request[Any, Any, Any], job_id: FromPath[int]) -> JobOut:
    """Stop after the current batch; what it suggested stays, and it can be resumed."""
    return _out(request, job_calls.cancel(request, suggestion_jobs.JOB, job_id))


@post("/suggestion-jobs/{job_id:int}/resume", status_code=202)
def resume_job(request: Request[Any, Any, Any], job_id: FromPath[int]) -> Response[JobOut]:
    """Go on from where a cancelled, failed or stalled job stopped."""
    out = _out(request, job_calls.retry(request, suggestion_jobs.JOB, job_id))
    return Response(out, status_code=202, headers={"Location": out.url})


@get("/projects/{project_id:int}/suggestion-outcomes")
def list_outcomes(request: Request[Any, Any, Any], project_id: FromPath[int]) -> list[OutcomeOut]:
    """Per model version: suggestions made, accepted / confirmed / corrected / rejected, the
    acceptance rate overall and per suggested category, and (anti-anchoring) how often
    independent first labels agreed with the model."""
    runtime = runtime_of(request)
    with runtime.reading() as session:
        projects.get_project(session, project_id)
        return outcomes_out(session, runtime, project_id)


model_api = [
    list_models,
    register_model,
    upload_model_file,
    get_model,
    activate_model,
    retire_model,
    start_job,
    list_jobs,
    get_job,
    cancel_job,
    resume_job,
    list_outcomes,
]

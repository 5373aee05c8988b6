"""Batch suggestions ("Suggest for unlabeled"): a job over selected items, resumable.

A job takes its items in id order, a batch at a time; after each batch its row says how far
it got (``processed``, ``cursor`` = the last item id done), so the pages poll it, whichever
process runs it (the server's thread or ``scholia suggest``). Cancelling is a status on the
row, read between batches; a cancelled, failed or stalled job resumes after its cursor. A
batch's suggestions and its progress are committed together, and a batch asked again supersedes
what it said before, so nothing is duplicated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Literal

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from . import audit, jobs, prelabeling
from .errors import InvalidInput, NotFound, ScholiaError
from .item_state import ItemState
from .models import Item, JobStatus, Model, Role, SuggestionJob
from .models.types import utcnow
from .runtime import Runtime

__all__ = [
    "BATCH",
    "JOB",
    "get_job",
    "list_jobs",
    "run",
    "start",
]

BATCH = 256
"""Items asked about, and stored with the job's progress, per transaction (fewer, larger
transactions cost less per item; a cancel waits for at most one batch)."""
KEPT_FAILURES = 50
"""Per-item errors kept on the job's row (all of them are counted)."""
STILL_LABELED = (ItemState.unlabeled, ItemState.in_progress)

Scope = Literal["unlabeled", "items"]


def _selection(job: SuggestionJob) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [col(Item.project_id) == job.project_id]
    if job.scope == "unlabeled":
        where.append(col(Item.status).in_(STILL_LABELED))
    else:
        where.append(col(Item.id).in_(job.item_ids or []))
    return where


def start(
    session: Session,
    model: Model,
    *,
    scope: Scope = "unlabeled",
    item_ids: Sequence[int] | None = None,
    actor_id: int,
) -> SuggestionJob:
    """A new job for ``model`` (refused for a retired model or one trained on other labels)."""
    prelabeling.check_usable(session, model)
    if scope not in ("unlabeled", "items"):
        raise InvalidInput("scope must be 'unlabeled' or 'items'", "$.scope")
    if scope == "items" and not item_ids:
        raise InvalidInput("give the item ids to suggest for", "$.item_ids")
    assert model.id is not None
    job = SuggestionJob(
        project_id=model.project_id,
        model_id=model.id,
        scope=scope,
        item_ids=sorted(set(item_ids)) if scope == "items" and item_ids else None,
        created_by=actor_id,
        progress_at=utcnow(),
    )
    job.total = int(
        session.exec(select(func.count()).select_from(Item).where(*_selection(job))).one()
    )
    session.add(job)
    session.flush()
    _audit(
        session,
        job,
        "start",
        actor_id,
        None,
        JobStatus.running,
        data={"model": f"{model.name} {model.version}", "scope": scope, "total": job.total},
    )
    return job


def _audit(
    session: Session,
    job: SuggestionJob,
    action: str,
    actor_id: int,
    from_state: str | None,
    to_state: str,
    data: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        actor_id=actor_id,
        project_id=job.project_id,
        entity="suggestion_job",
        entity_id=job.id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        data=data,
    )


def get_job(session: Session, job_id: int, project_id: int | None = None) -> SuggestionJob:
    job = session.get(SuggestionJob, job_id)
    if job is None or (project_id is not None and job.project_id != project_id):
        raise NotFound("suggestion job", job_id)
    return job


def list_jobs(session: Session, project_id: int, limit: int = 20) -> list[SuggestionJob]:
    return list(
        session.exec(
            select(SuggestionJob)
            .where(col(SuggestionJob.project_id) == project_id)
            .order_by(col(SuggestionJob.id).desc())
            .limit(limit)
        )
    )


def _next_batch(session: Session, job: SuggestionJob) -> list[int]:
    found = session.exec(
        select(col(Item.id))
        .where(*_selection(job), col(Item.id) > job.cursor)
        .order_by(col(Item.id))
        .limit(BATCH)
    )
    return [i for i in found if i is not None]


def _record(
    session: Session, result: prelabeling.Suggested, *, job_id: int, batch: list[int]
) -> None:
    """A batch's progress on the job's row, committed with its suggestions: a crash loses
    both, and the batch is asked again on resume."""
    stored = get_job(session, job_id)
    failures = [{"item_id": f.item_id, "name": f.name, "error": f.error} for f in result.failures]
    stored.processed += len(batch)
    stored.suggested += len(result.suggestions)
    stored.failed += len(result.failures)
    stored.failures = [*stored.failures, *failures][:KEPT_FAILURES]
    stored.cursor = max(batch)
    stored.progress_at = utcnow()
    session.add(stored)


def _every_item_failed(job: SuggestionJob) -> str | None:
    """Why the job failed when no item it asked about got a suggestion, else None: a model
    that answered nothing but errors has not done the job, whatever its loop reached."""
    if job.processed == 0 or job.failed < job.processed:
        return None
    first = job.failures[0]["error"] if job.failures else "no reason given"
    return f"Every item failed ({job.failed} of {job.processed}); the first: {first}"


def run(
    runtime: Runtime,
    job_id: int,
    on_progress: Callable[[SuggestionJob], None] | None = None,
) -> SuggestionJob:
    """Run the job from its cursor until its items are done, it is cancelled or it fails."""
    while True:
        with runtime.reading() as session:
            job = get_job(session, job_id)
            if job.status != JobStatus.running:
                return job
            batch = _next_batch(session, job)
        if not batch:
            failure = _every_item_failed(job)
            status = JobStatus.done if failure is None else JobStatus.failed
            jobs.finish(runtime, SuggestionJob, job_id, status, failure)
            break
        try:
            prelabeling.suggest(
                runtime, job.model_id, batch, then=partial(_record, job_id=job_id, batch=batch)
            )
        except ScholiaError as error:  # the model cannot answer: the job says why
            jobs.finish(runtime, SuggestionJob, job_id, JobStatus.failed, error.message)
            break
        except Exception as error:  # a bug: the job still stops, saying so, and can be resumed
            jobs.finish(
                runtime, SuggestionJob, job_id, JobStatus.failed, f"{type(error).__name__}: {error}"
            )
            raise
        if on_progress is not None:
            with runtime.reading() as session:
                on_progress(get_job(session, job_id))
    with runtime.reading() as session:
        return get_job(session, job_id)


JOB = jobs.JobKind(
    name="suggestion",
    table=SuggestionJob,
    run=run,
    describe=lambda job: f"Job {job.id}",
    title="suggestion job",
    audit_entity="suggestion_job",
    retry_action="resume",  # from its cursor
    viewer=Role.manager,
    url=lambda job: f"/api/v1/suggestion-jobs/{job.id}",
)

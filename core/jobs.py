"""Background jobs: what every kind shares (claim, progress, cancel, retry, stall).

A job is a row (``Expansion``, ``SuggestionJob``, ``DatasetVersion``) whose ``status`` says
whether it runs, and whose ``progress_at`` moves while it does. The process running it writes
its progress on the row, so the pages and the API read it whichever process runs it (the
server's thread or a CLI command); a job whose progress stopped moving was left by a crash
(*stalled*) and is run again like a cancelled or failed one. Every claim is one conditional
UPDATE, so of two workers claiming the same job at once exactly one wins.

A kind of job is a ``JobKind`` describing its row; the module that runs it declares it, and
``scholia.core.job_kinds`` lists them. A new kind is a few lines::

    PEAKS = jobs.JobKind(
        name="peaks",                    # keys are "peaks-<id>"
        table=AudioPeaks,                # a row with the job columns (see JobRow)
        run=compute_peaks,               # run(runtime, id): moves the row until done
        describe=lambda row: f"The peaks of {row.name!r}",
    )

and ``PEAKS`` added to ``job_kinds.KINDS``: the API (``/api/v1/jobs/peaks-3``, cancel, retry,
the project's list), the runner and stall detection then serve it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, func, literal, or_, union_all, update
from sqlmodel import Session, col, select

from . import audit
from .errors import Conflict, NotFound
from .models import JobStatus, Role
from .models.types import utcnow
from .runtime import Runtime

__all__ = [
    "STALLED_AFTER",
    "JobKind",
    "JobRow",
    "Progress",
    "can_retry",
    "cancel",
    "claim_again",
    "finish",
    "get",
    "key_of",
    "latest",
    "progress",
    "stalled",
    "stalled_jobs",
]

STALLED_AFTER = timedelta(minutes=5)
"""A running job whose progress has not moved for this long was left by a crash. A batch of a
remote backend can take a while (its timeout per request, several requests per batch), so
the margin is wide."""


class JobRow(Protocol):
    """The columns a job's row has; besides, its progress (``processed`` of ``total`` unless
    the kind names other columns) and, optionally, ``error`` and ``finished_at``."""

    id: int | None
    project_id: int
    status: str
    created_by: int
    created_at: Any
    progress_at: Any


@dataclass(frozen=True)
class JobKind:
    """One kind of background job: its row, how it runs, and how its row reads."""

    name: str
    """The kind in job keys (``expansion-3``) and in the API's answers."""
    table: Any
    """The row's SQLModel class."""
    run: Callable[[Runtime, int], object]
    """Move the job with this id until it is done, cancelled or failed (called by the runner,
    in its own thread, after the row was claimed)."""
    describe: Callable[[Any], str]
    """The job in messages: "Job 3", "The expansion of 'clip.mp4'"."""
    title: str = ""
    """What a missing one is called: "No {title} with id 3." (its ``name`` when empty)."""
    noun: str = "job"
    """What a refusal calls it: "only a cancelled, failed or stalled {noun} can be …"."""
    audit_entity: str = ""
    """The audit log's ``entity`` for it (its ``name`` when empty)."""
    running: str = JobStatus.running
    """The status of a job that runs (or stalled)."""
    doing: str = "running"
    """How a refusal says it runs ("running", "being built")."""
    retryable: tuple[str, ...] = (JobStatus.cancelled, JobStatus.failed)
    """Statuses a retry starts again from (besides a stalled ``running``)."""
    cancelled: str | None = JobStatus.cancelled
    """The status a cancel sets; None for a kind that cannot be cancelled."""
    retry_action: str = "retry"
    """What the audit log and refusals call a retry ("retry", "resume")."""
    reset: Mapping[str, Any] = field(default_factory=dict)
    """Columns set when a job is claimed again (``processed=0``)."""
    done_column: str = "processed"
    total_column: str = "total"
    error_of: Callable[[Any], str | None] = lambda row: getattr(row, "error", None)
    stalled_after: timedelta = STALLED_AFTER
    viewer: Role = Role.reviewer
    """The project role that may see the kind's jobs (a manager cancels and retries)."""
    url: Callable[[Any], str] | None = None
    """The job's own API resource, when it has one besides ``/api/v1/jobs/{key}``."""

    @property
    def entity(self) -> str:
        return self.audit_entity or self.name

    def key(self, job_id: int | None) -> str:
        return f"{self.name}-{job_id}"


@dataclass(frozen=True)
class Progress:
    """What the API and the pages show of any job."""

    kind: str
    key: str
    id: int
    project_id: int
    status: str
    done: int
    total: int | None
    error: str | None
    stalled: bool
    created_at: Any
    progress_at: Any
    finished_at: Any


def key_of(kinds: Mapping[str, JobKind], key: str) -> tuple[JobKind, int]:
    """The kind and id a job key (``expansion-3``) names; ``NotFound`` saying what a key is
    when it names none."""
    name, dash, number = key.rpartition("-")
    kind = kinds.get(name)
    if not dash or kind is None or not number.isdigit():
        refused = NotFound("job", key)
        refused.message = (
            f"No job {key!r}: a job key is <kind>-<id>, e.g. expansion-3; the kinds are "
            + ", ".join(sorted(kinds))
            + "."
        )
        refused.args = (refused.message,)
        raise refused
    return kind, int(number)


def get(session: Session, kind: JobKind, job_id: int, project_id: int | None = None) -> Any:
    row = session.get(kind.table, job_id)
    if row is None or (project_id is not None and row.project_id != project_id):
        raise NotFound(kind.title or kind.name, job_id)
    return row


def _last_moved(table: Any) -> Any:
    return func.coalesce(col(table.progress_at), col(table.created_at))


def _stalled_where(kind: JobKind) -> ColumnElement[bool]:
    table = kind.table
    return and_(
        col(table.status) == kind.running,
        _last_moved(table) < utcnow() - kind.stalled_after,
    )


def stalled(kind: JobKind, job: Any) -> bool:
    """Running, but its progress stopped moving (whoever runs it died)."""
    last = job.progress_at or job.created_at
    return bool(job.status == kind.running and utcnow() - last > kind.stalled_after)


def can_retry(kind: JobKind, job: Any) -> bool:
    return job.status in kind.retryable or stalled(kind, job)


def progress(kind: JobKind, job: Any) -> Progress:
    total = getattr(job, kind.total_column)
    return Progress(
        kind=kind.name,
        key=kind.key(job.id),
        id=job.id,
        project_id=job.project_id,
        status=job.status,
        done=getattr(job, kind.done_column),
        total=total,
        error=kind.error_of(job),
        stalled=stalled(kind, job),
        created_at=job.created_at,
        progress_at=job.progress_at,
        finished_at=getattr(job, "finished_at", None),
    )


def stalled_jobs(
    session: Session, kinds: Sequence[JobKind], project_id: int | None = None
) -> list[tuple[JobKind, int]]:
    """Every stalled job of ``kinds`` (in one project, or all), in one query."""
    by_name = {kind.name: kind for kind in kinds}
    parts: list[Any] = []
    for kind in kinds:
        where = [_stalled_where(kind)]
        if project_id is not None:
            where.append(col(kind.table.project_id) == project_id)
        parts.append(
            select(literal(kind.name).label("kind"), col(kind.table.id).label("id")).where(*where)
        )
    if not parts:
        return []
    found = session.connection().execute(union_all(*parts)).all()
    return [(by_name[name], job_id) for name, job_id in sorted(found)]


def latest(
    session: Session, kinds: Sequence[JobKind], project_id: int, limit: int = 20
) -> list[tuple[JobKind, Any]]:
    """The project's latest jobs of ``kinds``, newest first."""
    found: list[tuple[JobKind, Any]] = []
    for kind in kinds:
        rows = session.exec(
            select(kind.table)
            .where(col(kind.table.project_id) == project_id)
            .order_by(col(kind.table.id).desc())
            .limit(limit)
        )
        found.extend((kind, row) for row in rows)
    found.sort(key=lambda pair: (pair[1].created_at, pair[0].name, pair[1].id), reverse=True)
    return found[:limit]


def _record(
    session: Session, kind: JobKind, job: Any, action: str, actor_id: int, was: str
) -> None:
    audit.record(
        session,
        actor_id=actor_id,
        project_id=job.project_id,
        entity=kind.entity,
        entity_id=job.id,
        action=action,
        from_state=was,
        to_state=job.status,
    )


def cancel(session: Session, kind: JobKind, job: Any, actor_id: int) -> Any:
    """Stop a running job after the step it is on (it reads its status between steps); what
    it made stays, and it can be retried."""
    if kind.cancelled is None:
        raise Conflict(f"{kind.describe(job)} cannot be cancelled; a {kind.noun} runs to its end.")
    table = kind.table
    stopped = (
        session.connection()
        .execute(
            update(table)
            .where(col(table.id) == job.id, col(table.status) == kind.running)
            .values(status=kind.cancelled)
        )
        .rowcount
    )
    session.refresh(job)
    if stopped != 1:
        raise Conflict(
            f"{kind.describe(job)} is {job.status}; only a running {kind.noun} can be cancelled."
        )
    _record(session, kind, job, "cancel", actor_id, kind.running)
    return job


def claim_again(session: Session, kind: JobKind, job: Any, actor_id: int | None) -> None:
    """Mark a cancelled, failed or stalled job running again, in one conditional UPDATE (of
    two claims at once, one wins), with the kind's ``reset`` columns; the caller then runs
    it. ``actor_id`` None records no audit row (a resume by the job's own runner)."""
    table = kind.table
    was = job.status
    values: dict[str, Any] = {"status": kind.running, "progress_at": utcnow(), **kind.reset}
    for optional in ("error", "finished_at"):
        if hasattr(table, optional):
            values[optional] = None
    claimed = (
        session.connection()
        .execute(
            update(table)
            .where(
                col(table.id) == job.id,
                or_(col(table.status).in_(kind.retryable), _stalled_where(kind)),
            )
            .values(**values)
        )
        .rowcount
    )
    if claimed != 1:
        session.refresh(job)
        raise Conflict(_refusal(kind, job))
    session.refresh(job)
    if actor_id is not None:
        _record(session, kind, job, kind.retry_action, actor_id, was)


def _refusal(kind: JobKind, job: Any) -> str:
    what = kind.describe(job)
    verb = "resumed" if kind.retry_action == "resume" else "retried"
    if job.status == kind.running:
        seconds = int(kind.stalled_after.total_seconds())
        wait = f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"
        then = "cancel it first" if kind.cancelled else f"{kind.retry_action} only once it stops"
        return f"{what} is {kind.doing} (it moved less than {wait} ago); {then}."
    allowed = ", ".join(str(s) for s in kind.retryable)
    return f"{what} is {job.status}; only a {allowed} or stalled {kind.noun} can be {verb}."


def finish(
    runtime: Runtime, table: Any, job_id: int, status: JobStatus, error: str | None = None
) -> None:
    """End a running job (a cancelled one stays cancelled)."""
    with runtime.session() as session:
        session.connection().execute(
            update(table)
            .where(col(table.id) == job_id, col(table.status) == JobStatus.running)
            .values(status=status, error=error, finished_at=utcnow(), progress_at=utcnow())
        )

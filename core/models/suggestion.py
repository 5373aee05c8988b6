"""A model's proposal, kept apart from annotations until a person accepts it; each
annotator's decision on it; the batch jobs that make them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlmodel import Field, SQLModel

from .types import JSONType, UTCDateTime, utcnow

__all__ = [
    "JobStatus",
    "Outcome",
    "Suggestion",
    "SuggestionDecision",
    "SuggestionJob",
    "SuggestionStatus",
]


class SuggestionStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"
    superseded = "superseded"


class Suggestion(SQLModel, table=True):
    """The model's top candidate for one item (``payload``, ``score``), the next ones for
    display (``alternatives``), and how unsure the model is, by each measure active learning
    orders by (higher is more uncertain, in [0, 1])."""

    __table_args__ = (Index("ix_suggestion_model_status", "model_id", "status"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=Column(Uuid, primary_key=True))
    item_id: int = Field(
        sa_column=Column(Integer, ForeignKey("item.id"), nullable=False, index=True)
    )
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id"), nullable=False))
    annotation_type: str = Field(sa_column=Column(String(64), nullable=False))
    payload: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    score: float | None = Field(default=None, sa_column=Column(Float))
    model_name: str = Field(sa_column=Column(String(200), nullable=False))
    model_version: str = Field(sa_column=Column(String(200), nullable=False))
    labels_hash: str = Field(sa_column=Column(String(64), nullable=False))
    model_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("model.id")))
    alternatives: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    """The candidates after the top one, best first: ``{"payload": …, "score": …}``."""
    least_confidence: float | None = Field(default=None, sa_column=Column(Float))
    margin: float | None = Field(default=None, sa_column=Column(Float))
    entropy: float | None = Field(default=None, sa_column=Column(Float))
    status: str = Field(
        default=SuggestionStatus.pending, sa_column=Column(String(16), nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("user_account.id"))
    )


class Outcome(StrEnum):
    """What one annotator did with a suggestion (the outcome log counts these)."""

    accepted = "accepted"
    """Took it (``A``): their annotation is the suggestion's payload, ``source="suggestion"``."""
    confirmed = "confirmed"
    """Labeled the item themselves, the same as the suggestion."""
    corrected = "corrected"
    """Labeled the item themselves, differently."""
    rejected = "rejected"
    """Dismissed it without labeling."""


class SuggestionDecision(SQLModel, table=True):
    __tablename__ = "suggestion_decision"
    __table_args__ = (UniqueConstraint("suggestion_id", "annotator_id"),)

    id: int | None = Field(default=None, primary_key=True)
    suggestion_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("suggestion.id"), nullable=False)
    )
    annotator_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False)
    )
    outcome: str = Field(sa_column=Column(String(16), nullable=False))
    annotation_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey("annotation.id"))
    )
    independent: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    """The annotator labeled before the suggestion was revealed to them (anti-anchoring)."""
    agreement: float | None = Field(default=None, sa_column=Column(Float))
    """Agreement of the annotator's own first label with the suggestion (the annotation
    type's measure, in [0, 1]); none when they accepted it without labeling."""
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class JobStatus(StrEnum):
    running = "running"
    cancelled = "cancelled"
    done = "done"
    failed = "failed"


class SuggestionJob(SQLModel, table=True):
    """A batch of suggestions over selected items, resumable from ``cursor``.

    Items are taken in id order; ``cursor`` is the last item id done, so a cancelled,
    failed or stalled job resumes where it stopped. Progress is on the row, so the pages show
    a job the CLI runs, and the other way round."""

    __tablename__ = "suggestion_job"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id"), nullable=False))
    model_id: int = Field(sa_column=Column(Integer, ForeignKey("model.id"), nullable=False))
    scope: str = Field(sa_column=Column(String(16), nullable=False))
    """``unlabeled`` (items still being labeled) or ``items`` (the ids in ``item_ids``)."""
    item_ids: list[int] | None = Field(default=None, sa_column=Column(JSONType))
    status: str = Field(default=JobStatus.running, sa_column=Column(String(16), nullable=False))
    total: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    processed: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    suggested: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    failed: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    failures: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    """The first per-item errors (``{"item_id", "name", "error"}``), for the job's page."""
    cursor: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text))
    created_by: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    progress_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

"""The provenance schema: an annotation is immutable and says who, under what, from where.

A correction is a new annotation whose ``supersedes_id`` names the old one; the database
refuses UPDATE and DELETE on this table (see the first migration). ``supersedes_id`` is
unique, so a revision can be superseded once: two people correcting the same revision at
the same time cannot both win, and the later one is told its revision is stale.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlmodel import Field, SQLModel

from .types import JSONType, UTCDateTime, utcnow

__all__ = ["Annotation", "AnnotationSource", "Confidence"]


class Confidence(StrEnum):
    """How sure the annotator said they were."""

    certain = "certain"
    probable = "probable"
    uncertain = "uncertain"


class AnnotationSource(StrEnum):
    """Where the payload came from."""

    human = "human"
    suggestion = "suggestion"
    """A person accepted a model's suggestion (``suggestion_id``, ``model_version`` say which)."""
    imported = "imported"
    adjudication = "adjudication"
    withdrawal = "withdrawal"
    """The annotator took back the revision it supersedes (undo); its payload is empty."""


class Annotation(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("annotator_id", "client_op_id", name="uq_annotation_client_op"),
        UniqueConstraint("supersedes_id", name="uq_annotation_supersedes"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=Column(Uuid, primary_key=True))
    item_id: int = Field(
        sa_column=Column(Integer, ForeignKey("item.id"), nullable=False, index=True)
    )
    project_id: int = Field(
        sa_column=Column(Integer, ForeignKey("project.id"), nullable=False, index=True)
    )
    assignment_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("assignment.id"))
    )
    annotator_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False, index=True)
    )
    annotation_type: str = Field(sa_column=Column(String(64), nullable=False))
    payload: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    """Validated by the annotation type's plugin before it is stored; coordinates in item units."""
    guideline_version_id: int = Field(
        sa_column=Column(Integer, ForeignKey("guideline_version.id"), nullable=False)
    )
    schema_version: str = Field(sa_column=Column(String(32), nullable=False))
    labels_hash: str = Field(sa_column=Column(String(64), nullable=False))
    annotator_confidence: str | None = Field(default=None, sa_column=Column(String(16)))
    reasoning: str | None = Field(default=None, sa_column=Column(Text))
    time_spent_ms: int | None = Field(default=None, sa_column=Column(Integer))
    source: str = Field(
        default=AnnotationSource.human, sa_column=Column(String(16), nullable=False)
    )
    suggestion_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey("suggestion.id"))
    )
    model_version: str | None = Field(default=None, sa_column=Column(String(200)))
    client_op_id: str | None = Field(default=None, sa_column=Column(String(100)))
    """Idempotency key from the client: resubmitting the same op returns the stored annotation."""
    supersedes_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey("annotation.id"))
    )
    adjudication_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("adjudication.id"))
    )
    quality_flags: list[str] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

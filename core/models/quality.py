"""What the quality core keeps: gold answers, how annotators did on them, calibration, standing.

None of it is ever sent to an annotator as such: whether an item is gold is known to the core
and to QA roles only (an annotator sees their calibration results once an attempt is over).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Text, Uuid
from sqlmodel import Field, SQLModel

from .types import JSONType, UTCDateTime, utcnow

__all__ = ["CalibrationAttempt", "GoldAnswer", "GoldResult", "Suspension"]


class GoldAnswer(SQLModel, table=True):
    """The expected answer of a gold item for one annotation type (``Item.is_gold`` says the
    item is gold; this says what a correct answer is, and why)."""

    __tablename__ = "gold_answer"

    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id"), primary_key=True))
    annotation_type: str = Field(sa_column=Column(String(64), primary_key=True))
    project_id: int = Field(
        sa_column=Column(Integer, ForeignKey("project.id"), nullable=False, index=True)
    )
    payload: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    explanation: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    """Shown to an annotator with their calibration results: why this is the answer."""
    source: str = Field(default="manual", sa_column=Column(String(16), nullable=False))
    """``manual`` (a QA user wrote it) or ``adjudication`` (promoted from an adjudicated item)."""
    adjudication_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("adjudication.id"))
    )
    created_by: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class GoldResult(SQLModel, table=True):
    """One annotator's answer on a gold item, scored against the gold answer."""

    __tablename__ = "gold_result"
    __table_args__ = (Index("ix_gold_result_annotator", "project_id", "annotator_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id"), nullable=False))
    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id"), nullable=False))
    annotator_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False)
    )
    annotation_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("annotation.id"), nullable=False, unique=True)
    )
    agreement: float = Field(sa_column=Column(Float, nullable=False))
    """The annotation type's pairwise agreement with the gold answer, in [0, 1]."""
    correct: bool = False
    """``agreement`` reached the project's gold pass mark."""
    calibration_attempt_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("calibration_attempt.id"))
    )
    """Set when the answer was part of a calibration attempt (it then does not count towards
    rolling gold accuracy)."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class CalibrationAttempt(SQLModel, table=True):
    """A new annotator's run through the calibration set before production items."""

    __tablename__ = "calibration_attempt"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id"), nullable=False))
    annotator_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False, index=True)
    )
    attempt: int = Field(sa_column=Column(Integer, nullable=False))
    """1, 2, 3…: the project's ``calibration.attempts`` caps it."""
    item_ids: list[int] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    """The gold items of this attempt, in the order they are served."""
    answered: int = 0
    correct: int = 0
    passed: bool | None = None
    """None while the attempt is open."""
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Suspension(SQLModel, table=True):
    """An annotator taken off a project's queue, and why (lifting it keeps the row)."""

    __tablename__ = "suspension"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id"), nullable=False))
    annotator_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False, index=True)
    )
    reason: str = Field(sa_column=Column(Text, nullable=False))
    evidence: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    """What triggered it, e.g. the gold accuracy, its Wilson interval and the count."""
    suspended_by: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("user_account.id"))
    )
    """None when a rule suspended the annotator."""
    suspended_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    lifted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lifted_by: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("user_account.id"))
    )

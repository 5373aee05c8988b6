"""Decisions on items: a reviewer's verdict, and an adjudicator's final word with its reasons."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Text, Uuid
from sqlmodel import Field, SQLModel

from .types import JSONType, UTCDateTime, utcnow

__all__ = ["Adjudication", "Review"]


class Review(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(
        sa_column=Column(Integer, ForeignKey("item.id"), nullable=False, index=True)
    )
    reviewer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False)
    )
    decision: str = Field(sa_column=Column(String(32), nullable=False))
    """The state the reviewer moved the item to: approved, rejected or needs_review."""
    comment: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Adjudication(SQLModel, table=True):
    """The final label where annotators disagreed; reasoning is mandatory, down to the database."""

    __table_args__ = (
        CheckConstraint("length(trim(reasoning)) > 0", name="ck_adjudication_reasoning"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(
        sa_column=Column(Integer, ForeignKey("item.id"), nullable=False, index=True)
    )
    adjudicator_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False)
    )
    reasoning: str = Field(sa_column=Column(Text, nullable=False))
    considered: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    """Ids of the annotations that were weighed."""
    chosen_annotation_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    evidence: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )

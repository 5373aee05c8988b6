"""A model's proposal, kept apart from annotations until a person accepts it."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Float, ForeignKey, Integer, String, Uuid
from sqlmodel import Field, SQLModel

from .types import JSONType, UTCDateTime, utcnow

__all__ = ["Suggestion", "SuggestionStatus"]


class SuggestionStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"
    superseded = "superseded"


class Suggestion(SQLModel, table=True):
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
    status: str = Field(
        default=SuggestionStatus.pending, sa_column=Column(String(16), nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("user_account.id"))
    )

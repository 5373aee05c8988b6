"""A registered model: which backend runs it, on what file or service, trained on which labels."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import JSONType, UTCDateTime, utcnow

__all__ = ["Model", "ModelStatus"]


class ModelStatus(StrEnum):
    registered = "registered"
    """Known and loadable, not asked for suggestions."""
    active = "active"
    """The project's model for its annotation type: suggestions shown to annotators are its."""
    retired = "retired"
    """Kept for the outcome log and the provenance of what it suggested; never asked again."""


class Model(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("project_id", "name", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id"), nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    version: str = Field(sa_column=Column(String(200), nullable=False))
    backend: str = Field(sa_column=Column(String(64), nullable=False))
    source: str = Field(sa_column=Column(Text, nullable=False))
    """The artifact's path, or the service's URL."""
    annotation_type: str = Field(sa_column=Column(String(64), nullable=False))
    categories: list[list[Any]] = Field(sa_column=Column(JSONType, nullable=False))
    """``[id, name]`` pairs the model was trained on, in the order of its outputs."""
    labels_hash: str = Field(sa_column=Column(String(64), nullable=False))
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    status: str = Field(
        default=ModelStatus.registered, sa_column=Column(String(16), nullable=False)
    )
    problem: str | None = Field(default=None, sa_column=Column(Text))
    """Why the model last failed to load or answer; cleared by its next success."""
    created_by: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

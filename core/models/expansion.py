"""Expansions: a container file (a video) becoming items of its project (its frames)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .suggestion import JobStatus
from .types import JSONType, UTCDateTime, utcnow

__all__ = ["Expansion"]


class Expansion(SQLModel, table=True):
    """One container file expanded into a project with one set of options, as a job.

    The file is kept in the store (``source_sha256``), so a failed or stalled expansion runs
    again from it; the items it already made are found by their content and not made twice.
    The same file with the same options is one expansion however often it is uploaded."""

    __tablename__ = "expansion"
    __table_args__ = (UniqueConstraint("project_id", "source_sha256", "options_key"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id"), nullable=False))
    source_sha256: str = Field(
        sa_column=Column(String(64), ForeignKey("blob.sha256"), nullable=False)
    )
    name: str = Field(sa_column=Column(String(500), nullable=False))
    """The file name it was uploaded with."""
    modality: str = Field(sa_column=Column(String(64), nullable=False))
    """The container's modality (``video``), whose ``expand`` makes the items."""
    options: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    options_key: str = Field(sa_column=Column(String(64), nullable=False))
    """sha256 of the canonical options: what makes two uploads the same expansion."""
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    """What the container modality probed (a video's duration, fps, codec, size)."""
    status: str = Field(default=JobStatus.running, sa_column=Column(String(16), nullable=False))
    total: int | None = Field(default=None, sa_column=Column(Integer))
    """How many items the expansion expects to make, when the modality can tell."""
    processed: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    """Items the latest run has handled (made or found already there)."""
    created: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    """Items made new, over every run."""
    existing: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    """Items of the latest run the project already held (an earlier run's, or equal bytes)."""
    error: str | None = Field(default=None, sa_column=Column(Text))
    created_by: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    progress_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

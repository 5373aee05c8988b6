"""An immutable, reproducible export of a project: a dataset version."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import JSONType, UTCDateTime, utcnow

__all__ = ["DatasetVersion", "DatasetVersionStatus"]


class DatasetVersionStatus(StrEnum):
    building = "building"
    held = "held"
    """The export gate failed; not downloadable until the finding is cleared."""
    released = "released"
    failed = "failed"


class DatasetVersion(SQLModel, table=True):
    __tablename__ = "dataset_version"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id"), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    status: str = Field(
        default=DatasetVersionStatus.building, sa_column=Column(String(16), nullable=False)
    )
    selection: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    schema_version: str = Field(sa_column=Column(String(32), nullable=False))
    labels_hash: str = Field(sa_column=Column(String(64), nullable=False))
    content_hash: str | None = Field(default=None, sa_column=Column(String(64)))
    item_count: int = 0
    annotation_count: int = 0
    gate_report: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    created_by: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    progress_items: int = 0
    """Items written so far while ``building``; the final count once built."""
    total_items: int = 0
    """Items the selection matches (an upper bound: items without a canonical label are left
    out), counted when the build starts."""
    progress_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the build last wrote progress: a ``building`` row whose build stopped (a crash)
    stops moving, which is how a page tells it from one still running."""

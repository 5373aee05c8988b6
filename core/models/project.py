"""A labeling effort and what defines it: categories, label schema versions, guideline versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import JSONType, UTCDateTime, utcnow

__all__ = ["Category", "GuidelineVersion", "LabelSchemaVersion", "Project"]


class Project(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(200), nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    modality: str = Field(sa_column=Column(String(64), nullable=False))
    """Name of the modality (a plugin contribution) whose media this project labels."""
    annotation_types: list[str] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    settings: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    """Quality settings (overlap, gold rate, thresholds); see ``scholia.core.projects``."""
    created_by: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Category(SQLModel, table=True):
    """A label. Its id is per project, assigned once, never changed and never reused."""

    project_id: int = Field(
        sa_column=Column(Integer, ForeignKey("project.id"), primary_key=True, autoincrement=False)
    )
    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    color: str = Field(sa_column=Column(String(16), nullable=False))
    hotkey: str | None = Field(default=None, sa_column=Column(String(8)))
    display_order: int = Field(sa_column=Column(Integer, nullable=False))
    """Position in lists and hotkeys; reordering changes only this."""
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class LabelSchemaVersion(SQLModel, table=True):
    """A snapshot of a project's categories, written on every change to them."""

    __tablename__ = "label_schema_version"
    __table_args__ = (UniqueConstraint("project_id", "schema_version"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(
        sa_column=Column(Integer, ForeignKey("project.id"), nullable=False, index=True)
    )
    schema_version: str = Field(sa_column=Column(String(32), nullable=False))
    labels_hash: str = Field(sa_column=Column(String(64), nullable=False))
    """sha256 over the id→name pairs of the live categories; models declare the one they serve."""
    categories: list[dict[str, Any]] = Field(sa_column=Column(JSONType, nullable=False))
    change: str = Field(sa_column=Column(Text, nullable=False))
    created_by: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class GuidelineVersion(SQLModel, table=True):
    """The task specification annotators work under; every annotation names one."""

    __tablename__ = "guideline_version"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(
        sa_column=Column(Integer, ForeignKey("project.id"), nullable=False, index=True)
    )
    version: int = Field(sa_column=Column(Integer, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_by: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

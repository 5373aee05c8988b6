"""Who works on a project, and as what: one row per user and project."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow

__all__ = ["ProjectMember"]


class ProjectMember(SQLModel, table=True):
    """A user's role in one project (annotator, reviewer, adjudicator or manager). Only
    ``admin`` is global; everyone else sees nothing of a project they are not a member of."""

    __tablename__ = "project_member"

    project_id: int = Field(
        sa_column=Column(Integer, ForeignKey("project.id"), primary_key=True, autoincrement=False)
    )
    user_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("user_account.id"),
            primary_key=True,
            autoincrement=False,
            index=True,
        )
    )
    role: str = Field(sa_column=Column(String(16), nullable=False))
    added_by: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("user_account.id"))
    )
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

"""Units of work: stored media (by content hash), items, and annotators' assignment slots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from .types import JSONType, UTCDateTime, utcnow

__all__ = ["Assignment", "Blob", "Item", "ItemCategory", "ItemCount", "ItemPart", "QueueSeed"]


class Blob(SQLModel, table=True):
    """A media file in the content-addressed store, kept once however many items use it."""

    sha256: str = Field(sa_column=Column(String(64), primary_key=True))
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    media_type: str = Field(sa_column=Column(String(128), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Item(SQLModel, table=True):
    """One unit to annotate: an image, a frame, a clip, a point cloud, a text, a record."""

    __table_args__ = (
        UniqueConstraint("project_id", "content_hash"),
        Index("ix_item_project_status_id", "project_id", "status", "id"),
        Index("ix_item_project_id", "project_id", "id"),  # the unfiltered grid, by keyset
        Index("ix_item_project_name", "project_id", "name", "id"),  # sorted by name
        Index("ix_item_project_updated", "project_id", "updated_at", "id"),  # by last change
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id"), nullable=False))
    content_hash: str = Field(
        sa_column=Column(String(64), ForeignKey("blob.sha256"), nullable=False)
    )
    name: str = Field(sa_column=Column(String(500), nullable=False))
    """The file name it arrived with, for people; identity is the content hash."""
    media_type: str = Field(sa_column=Column(String(128), nullable=False))
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    """What the modality probed: width and height, duration, frame count, calibration…"""
    provenance: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    """Where it came from: source video and frame index, timestamp, original path…"""
    status: str = Field(default="unlabeled", sa_column=Column(String(32), nullable=False))
    """Lifecycle state; only ``scholia.core.lifecycle`` changes it."""
    is_gold: bool = False
    """Known to the core and QA roles only; never sent to an annotator."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ItemPart(SQLModel, table=True):
    """One part of an item made of several (see ``Modality.parts``): a stored file (by content
    hash) or inline data, under its role. An item of one file has no parts rows: its file is
    ``Item.content_hash``. Parts are written with their item and never change."""

    __tablename__ = "item_part"
    __table_args__ = (UniqueConstraint("item_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id"), nullable=False))
    role: str = Field(sa_column=Column(String(64), nullable=False))
    content_hash: str | None = Field(
        default=None, sa_column=Column(String(64), ForeignKey("blob.sha256"), nullable=True)
    )
    """The stored file, for a file part."""
    data: Any = Field(default=None, sa_column=Column(JSONType, nullable=True))
    """The inline data, for an inline part."""
    name: str = Field(default="", sa_column=Column(String(500), nullable=False))
    """The file name a file part arrived with."""
    media_type: str = Field(sa_column=Column(String(128), nullable=False))
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    """What the modality probed of this part."""


class Assignment(SQLModel, table=True):
    """One annotator's slot on one item; overlap N gives N slots."""

    __table_args__ = (
        UniqueConstraint("item_id", "slot"),
        UniqueConstraint("item_id", "annotator_id", name="uq_assignment_one_per_annotator"),
        Index(
            "ix_assignment_voided",
            "item_id",
            "id",
            sqlite_where=text("voided_at IS NOT NULL"),
            postgresql_where=text("voided_at IS NOT NULL"),
        ),
    )
    """An annotator holds at most one slot per item, down to the database (open slots have
    no annotator; NULLs never collide). The few voided slots are indexed on their own: what
    counts is read as "not from a voided slot" without reading every slot."""

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id"), nullable=False))
    slot: int = Field(sa_column=Column(Integer, nullable=False))
    annotator_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("user_account.id"), index=True)
    )
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When its annotator claimed it or last opened it: the claim is a lease that runs from
    here (``claims.lease_minutes``); unsubmitted past it, the slot is open to others."""
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    voided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Set when the slot's work no longer counts (its annotator was suspended and the item
    queued for re-annotation): its annotation stays, but overlap, agreement and exports skip it.
    """
    void_reason: str | None = Field(default=None, sa_column=Column(String(200)))


class QueueSeed(SQLModel, table=True):
    """The secret seed of one annotator's queue order in one project: their production items
    come in a shuffle keyed by it (stable, so a reload gives the same order), which tells
    nothing about where gold items join."""

    __tablename__ = "queue_seed"

    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id"), primary_key=True))
    annotator_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id"), primary_key=True)
    )
    seed: int = Field(sa_column=Column(BigInteger, nullable=False))


class ItemCategory(SQLModel, table=True):
    """Which categories an item's current annotations use: derived from the annotations, kept
    in the same transaction as each submission, so per-category counts and filters are exact
    and need no scan of annotation payloads."""

    __tablename__ = "item_category"
    __table_args__ = (Index("ix_item_category_project", "project_id", "category_id", "item_id"),)

    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id"), primary_key=True))
    category_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id"), nullable=False))


class ItemCount(SQLModel, table=True):
    """Changes to a project's item counts, written by database triggers (migration 0016) on
    every insert, status change and delete of ``item`` and ``item_category``: ``+1`` or
    ``-1`` under a facet (``status`` or ``category``) and its key (the state, or the category
    id as text). Summed per key, they are the exact counts, in the reader's transaction like
    a ``COUNT``, without reading a row per item. Only inserted, so concurrent writers never
    wait on each other; ``scholia.core.counts`` folds them into one row per key now and then.
    """

    __tablename__ = "item_count"
    __table_args__ = (Index("ix_item_count_project", "project_id", "facet", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, nullable=False))
    facet: str = Field(sa_column=Column(String(16), nullable=False))
    key: str = Field(sa_column=Column(String(64), nullable=False))
    n: int = Field(sa_column=Column(BigInteger, nullable=False))

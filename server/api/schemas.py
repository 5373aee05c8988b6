"""Request and response bodies of the JSON API, as msgspec Structs (the OpenAPI schema's source)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

from scholia.core import limits
from scholia.core.labeling import LabelingContext, Visibility
from scholia.core.limits import Choice, Count, Id, LongText, Name, OpId, Position, Text
from scholia.core.models import (
    Annotation,
    ApiToken,
    Category,
    DatasetVersion,
    Item,
    ItemPart,
    User,
)
from scholia.core.plugins import Plugins
from scholia.core.suggestions import AGREE, Shown

from .. import media

__all__ = [
    "AcceptIn",
    "AnnotationIn",
    "AnnotationOut",
    "BackgroundJobOut",
    "BuildProgress",
    "CandidateOut",
    "CategoryIn",
    "CategoryOut",
    "CategoryPatch",
    "DatasetVersionIn",
    "DatasetVersionOut",
    "EditorOut",
    "ItemOut",
    "ItemPage",
    "JobIn",
    "JobOut",
    "LabelingContextOut",
    "MeOut",
    "ModelIn",
    "ModelOut",
    "OutcomeOut",
    "PartOut",
    "PluginOut",
    "ProjectIn",
    "ProjectOut",
    "QueueEntryOut",
    "QueueWindowOut",
    "RecordIn",
    "RecordsIn",
    "RevisionOut",
    "SchemaFitOut",
    "SuggestionOut",
    "TokenCreated",
    "TokenIn",
    "TokenOut",
    "TransitionIn",
    "TransitionOut",
    "UploadOut",
    "UploadProblem",
    "module_url",
]


class ProjectIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    modality: Choice
    annotation_types: list[Choice]
    description: LongText = ""
    categories: list[Name] = []
    guidelines: LongText = ""
    settings: dict[str, Any] = {}


class ProjectOut(msgspec.Struct):
    id: int
    name: str
    description: str
    modality: str
    annotation_types: list[str]
    settings: dict[str, Any]
    schema_version: str
    labels_hash: str
    guideline_version: int
    counts: dict[str, int]
    created_at: datetime


Color = Annotated[str, msgspec.Meta(max_length=16)]
Hotkey = Annotated[str, msgspec.Meta(max_length=8)]


class CategoryIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    color: Color | None = None


class CategoryPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    color: Color | None = None
    hotkey: Hotkey | None = None
    display_order: Position | None = None
    deleted: bool | None = None


class CategoryOut(msgspec.Struct):
    id: int
    name: str
    color: str
    hotkey: str | None
    display_order: int
    deleted: bool

    @classmethod
    def of(cls, category: Category) -> CategoryOut:
        return cls(
            id=category.id,
            name=category.name,
            color=category.color,
            hotkey=category.hotkey,
            display_order=category.display_order,
            deleted=category.deleted_at is not None,
        )


class PartOut(msgspec.Struct):
    """One part of an item made of several: a stored file (``media_url``) or inline
    ``data``, under its role, with what was probed of it."""

    role: str
    media_type: str
    meta: dict[str, Any]
    name: str = ""
    data: Any = None
    media_url: str | None = None

    @classmethod
    def of(cls, part: ItemPart, secret: str) -> PartOut:
        return cls(
            role=part.role,
            media_type=part.media_type,
            meta=part.meta,
            name=part.name,
            data=part.data,
            media_url=None
            if part.content_hash is None
            else media.media_url(secret, part.content_hash),
        )


class ItemOut(msgspec.Struct):
    """An item as anyone may see it: whether it is gold is never part of it."""

    id: int
    project_id: int
    name: str
    media_type: str
    content_hash: str
    meta: dict[str, Any]
    provenance: dict[str, Any]
    status: str
    """The lifecycle state for reviewers and above; for annotators their own status on it:
    ``todo``, ``done`` or ``skipped``."""
    media_url: str
    created_at: datetime
    parts: list[PartOut] = []
    """An item made of several parts (files with roles, inline records): each of them, in its
    modality's order of roles. Empty for an item of one file (``media_url``)."""

    @classmethod
    def of(
        cls,
        item: Item,
        media_url: str,
        status: str | None = None,
        parts: list[PartOut] | None = None,
    ) -> ItemOut:
        """``status`` replaces the lifecycle state: annotators see their own slot's status
        (to do, done, skipped), never the item's state."""
        return cls(
            id=item.id or 0,
            project_id=item.project_id,
            name=item.name,
            media_type=item.media_type,
            content_hash=item.content_hash,
            meta=item.meta,
            provenance=item.provenance,
            status=status or item.status,
            media_url=media_url,
            created_at=item.created_at,
            parts=parts or [],
        )


class ItemPage(msgspec.Struct):
    items: list[ItemOut]
    next_after: int | None
    """Pass as ``after`` to get the next page; null on the last page."""


class UploadProblem(msgspec.Struct):
    file: str
    message: str


class BackgroundJobOut(msgspec.Struct):
    """Any background job (an expansion, a suggestion job, a dataset build), as
    ``/api/v1/jobs/{key}`` reports it."""

    key: str
    """``<kind>-<id>``, e.g. ``expansion-3``: the job's address under ``/api/v1/jobs/``."""
    kind: str
    id: int
    project_id: int
    status: str
    """The kind's own statuses (``running``/``done``/…; builds: ``building``/``released``/…)."""
    done: int
    total: int | None
    error: str | None
    stalled: bool
    """Running, but its progress stopped moving (left by a crash): retry it."""
    can_cancel: bool
    can_retry: bool
    created_at: datetime
    progress_at: datetime | None
    finished_at: datetime | None
    url: str
    detail_url: str | None
    """The kind's own resource, with everything it knows (``/api/v1/expansions/3``)."""


class ExpansionOut(msgspec.Struct):
    id: int
    project_id: int
    name: str
    sha256: str
    modality: str
    """The container's modality (``video``)."""
    options: dict[str, Any]
    meta: dict[str, Any]
    """What the modality probed of the file (a video's duration, fps, codec, size)."""
    status: str
    """``running``, ``cancelled``, ``done`` or ``failed`` (``error`` says why)."""
    total: int | None
    """Items expected, when the modality can tell."""
    processed: int
    created: int
    existing: int
    error: str | None
    can_retry: bool
    created_at: datetime
    finished_at: datetime | None
    url: str


class RecordIn(msgspec.Struct, forbid_unknown_fields=True):
    """One item made of parts sent as JSON: each inline part's data by role."""

    parts: dict[str, Any]
    name: Annotated[str, msgspec.Meta(max_length=limits.FILE_NAME_MAX)] = ""
    provenance: dict[str, Any] = {}


class RecordsIn(msgspec.Struct, forbid_unknown_fields=True):
    """Items of a modality made of inline parts (a text record, a conversation)."""

    records: Annotated[list[RecordIn], msgspec.Meta(min_length=1, max_length=1000)]


class UploadOut(msgspec.Struct):
    created: list[ItemOut]
    existing: list[ItemOut]
    """Files whose bytes were already in the project: nothing was duplicated."""
    errors: list[UploadProblem]
    expansions: list[ExpansionOut] = []
    """Container files (videos) kept and being expanded into items (frames) in the
    background; follow each ``url`` for its progress."""


class AnnotationIn(msgspec.Struct, forbid_unknown_fields=True):
    annotation_type: Choice
    payload: Any
    supersedes_id: uuid.UUID | None = None
    client_op_id: OpId | None = None
    annotator_confidence: Choice | None = None
    reasoning: Text | None = None
    time_spent_ms: Count | None = None


class AnnotationOut(msgspec.Struct):
    id: uuid.UUID
    item_id: int
    annotation_type: str
    payload: Any
    annotator: str
    """The annotator's pseudonym."""
    guideline_version_id: int
    schema_version: str
    labels_hash: str
    annotator_confidence: str | None
    reasoning: str | None
    time_spent_ms: int | None
    source: str
    suggestion_id: uuid.UUID | None
    model_version: str | None
    client_op_id: str | None
    supersedes_id: uuid.UUID | None
    adjudication_id: int | None
    quality_flags: list[str]
    created_at: datetime

    @classmethod
    def of(cls, annotation: Annotation, pseudonym: str) -> AnnotationOut:
        return cls(
            id=annotation.id,
            item_id=annotation.item_id,
            annotation_type=annotation.annotation_type,
            payload=annotation.payload,
            annotator=pseudonym,
            guideline_version_id=annotation.guideline_version_id,
            schema_version=annotation.schema_version,
            labels_hash=annotation.labels_hash,
            annotator_confidence=annotation.annotator_confidence,
            reasoning=annotation.reasoning,
            time_spent_ms=annotation.time_spent_ms,
            source=annotation.source,
            suggestion_id=annotation.suggestion_id,
            model_version=annotation.model_version,
            client_op_id=annotation.client_op_id,
            supersedes_id=annotation.supersedes_id,
            adjudication_id=annotation.adjudication_id,
            quality_flags=annotation.quality_flags,
            created_at=annotation.created_at,
        )


class TransitionIn(msgspec.Struct, forbid_unknown_fields=True):
    to: Choice
    reason: Text | None = None


class TransitionOut(msgspec.Struct):
    item_id: int
    from_state: str
    to_state: str
    at: datetime


class PluginOut(msgspec.Struct):
    name: str
    version: str | None
    module: str
    default: bool
    loaded: bool
    error: str | None
    contributions: dict[str, list[str]]
    overrides: list[str]
    annotation_types: dict[str, dict[str, str]] = {}
    """Per annotation type: how it compares (``agreement``) and combines (``aggregate``) labels,
    e.g. ``"equality (default)"`` where the core filled what the type left out."""


class MeOut(msgspec.Struct):
    id: int
    username: str
    display_name: str
    roles: list[str]
    pseudonym: str

    @classmethod
    def of(cls, user: User) -> MeOut:
        return cls(
            id=user.id or 0,
            username=user.username,
            display_name=user.display_name,
            roles=user.roles,
            pseudonym=user.pseudonym,
        )


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name


class TokenOut(msgspec.Struct):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(
            id=token.id or 0,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )


class TokenCreated(msgspec.Struct):
    token: str
    """Shown once: store it now. Send it as ``Authorization: Bearer <token>``."""
    details: TokenOut


class DatasetVersionIn(msgspec.Struct, forbid_unknown_fields=True):
    selection: dict[str, Any] = {}
    """Which items go in, all conditions together: ``statuses`` (default ``["approved"]``),
    ``category_ids``, ``annotator_ids`` (any of them), ``labeled_from`` / ``labeled_until``
    (UTC, the canonical label's time)."""


class BuildProgress(msgspec.Struct):
    items: int
    """Items written so far (the final count once built)."""
    total: int
    """Items the selection matches (an upper bound: items without a canonical label are
    left out)."""
    at: datetime | None
    """When the build last moved."""


class DatasetVersionOut(msgspec.Struct):
    id: int
    project_id: int
    version: int
    status: str
    """``building``, ``released``, ``held`` (the export gate failed: not downloadable) or
    ``failed`` (``gate_report.error`` says why)."""
    selection: dict[str, Any]
    schema_version: str
    labels_hash: str
    content_hash: str | None
    item_count: int
    annotation_count: int
    progress: BuildProgress
    gate_report: dict[str, Any]
    """``passed`` and ``rules`` (each: rule, title, value, threshold, direction, passed,
    message, evidence); or ``error`` when the build failed."""
    can_retry: bool
    """Failed, or left ``building`` by a build that stopped: POST ``.../retry``."""
    created_by: int
    created_at: datetime
    released_at: datetime | None
    url: str
    """Poll this while ``building``."""
    download_url: str | None
    """The zip, once released (add ``?format=NAME`` for an export format)."""

    @classmethod
    def of(cls, version: DatasetVersion, *, can_retry: bool) -> DatasetVersionOut:
        url = f"/api/v1/datasets/{version.id}"
        return cls(
            id=version.id or 0,
            project_id=version.project_id,
            version=version.version,
            status=version.status,
            selection=version.selection,
            schema_version=version.schema_version,
            labels_hash=version.labels_hash,
            content_hash=version.content_hash,
            item_count=version.item_count,
            annotation_count=version.annotation_count,
            progress=BuildProgress(
                items=version.progress_items, total=version.total_items, at=version.progress_at
            ),
            gate_report=version.gate_report,
            can_retry=can_retry,
            created_by=version.created_by,
            created_at=version.created_at,
            released_at=version.released_at,
            url=url,
            download_url=f"{url}/download" if version.status == "released" else None,
        )


# --- models, suggestions, batch jobs ----------------------------------------------------------


class ModelIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    version: Name
    backend: Choice
    """An installed pre-label backend (``onnx-classifier``, ``label-studio-ml``…)."""
    source: Annotated[str, msgspec.Meta(max_length=4096)]
    """The model file's path on the server, or the service's URL."""
    annotation_type: Choice
    categories: list[Any] | None = None
    """The categories it was trained on, in its outputs' order: names of the project's
    categories, or ``{"id", "name"}`` pairs; the project's live categories if left out."""
    labels_hash: Choice | None = None
    """If given, must be the hash of ``categories`` (a check that the list is the right one)."""
    config: dict[str, Any] = {}
    """The backend's settings (an ONNX model's input size, mean/std, layout…)."""


class SchemaFitOut(msgspec.Struct):
    fits: bool
    model_labels_hash: str
    project_labels_hash: str
    differences: str
    """The categories that differ, in words; empty when the model fits."""


class ModelOut(msgspec.Struct):
    id: int
    project_id: int
    name: str
    version: str
    backend: str
    source: str
    annotation_type: str
    categories: list[list[Any]]
    labels_hash: str
    config: dict[str, Any]
    status: str
    """``registered``, ``active`` (its suggestions are shown) or ``retired``."""
    problem: str | None
    """Why it last failed to load or answer."""
    schema: SchemaFitOut
    created_at: datetime
    url: str


class JobIn(msgspec.Struct, forbid_unknown_fields=True):
    model_id: Id | None = None
    """The model to ask; the project's active model if left out."""
    scope: Choice = "unlabeled"
    """``unlabeled`` (items still being labeled) or ``items`` (``item_ids``)."""
    item_ids: list[Id] | None = None


class JobOut(msgspec.Struct):
    id: int
    project_id: int
    model_id: int
    scope: str
    status: str
    """``running``, ``cancelled``, ``done`` or ``failed`` (``error`` says why)."""
    total: int
    processed: int
    suggested: int
    failed: int
    failures: list[dict[str, Any]]
    """The first per-item errors: ``item_id``, ``name``, ``error``."""
    error: str | None
    can_resume: bool
    created_at: datetime
    finished_at: datetime | None
    url: str


class CandidateOut(msgspec.Struct):
    payload: Any
    score: float


class SuggestionOut(msgspec.Struct):
    id: uuid.UUID | None
    item_id: int
    annotation_type: str
    hidden: bool
    """Anti-anchoring: submit your own label first; ``payload`` and the rest are then shown."""
    payload: Any = None
    score: float | None = None
    alternatives: list[CandidateOut] = []
    model_name: str | None = None
    model_version: str | None = None
    least_confidence: float | None = None
    margin: float | None = None
    entropy: float | None = None
    decision: str | None = None
    """What you did with it: accepted, confirmed, corrected or rejected."""
    agreement: float | None = None
    """Agreement of your independent first label with it (anti-anchoring)."""
    agrees_with_yours: bool | None = None
    """Whether your current label of its type is the same label, by the type's agreement
    (None: you have no label of it yet)."""

    @classmethod
    def of(cls, shown: Shown, yours: Any = None, plugins: Plugins | None = None) -> SuggestionOut:
        """What the annotator may see: with anti-anchoring, only that a suggestion waits."""
        suggestion, decision = shown.suggestion, shown.decision
        if shown.hidden:
            return cls(
                id=None,
                item_id=suggestion.item_id,
                annotation_type=suggestion.annotation_type,
                hidden=True,
            )
        return cls(
            id=suggestion.id,
            item_id=suggestion.item_id,
            annotation_type=suggestion.annotation_type,
            hidden=False,
            payload=suggestion.payload,
            score=suggestion.score,
            alternatives=[CandidateOut(a["payload"], a["score"]) for a in suggestion.alternatives],
            model_name=suggestion.model_name,
            model_version=suggestion.model_version,
            least_confidence=suggestion.least_confidence,
            margin=suggestion.margin,
            entropy=suggestion.entropy,
            decision=decision.outcome if decision else None,
            agreement=decision.agreement if decision else None,
            agrees_with_yours=(
                None
                if yours is None or plugins is None
                else agrees(plugins, suggestion.annotation_type, yours, suggestion.payload)
            ),
        )


def agrees(plugins: Plugins, annotation_type: str, one: Any, other: Any) -> bool | None:
    """Whether two payloads of a type are the same label, as the type compares them (None
    when one cannot be read as the type's payload)."""
    kind = plugins.annotation_type(annotation_type)
    assert kind.agreement is not None  # completed at registration
    try:
        return kind.agreement(kind.decode(one), kind.decode(other)) >= AGREE
    except (msgspec.ValidationError, TypeError, ValueError):
        return None


class AcceptIn(msgspec.Struct, forbid_unknown_fields=True):
    supersedes_id: uuid.UUID | None = None
    client_op_id: OpId | None = None
    time_spent_ms: Count | None = None


class OutcomeOut(msgspec.Struct):
    model_id: int
    model_name: str
    model_version: str
    status: str
    suggestions: int
    decided: int
    accepted: int
    confirmed: int
    corrected: int
    rejected: int
    acceptance_rate: float | None
    independent: int
    mean_agreement: float | None
    per_category: list[dict[str, Any]]
    """Per suggested category: ``category_id``, ``name``, ``decided``, ``taken``, ``rate``."""


class EditorOut(msgspec.Struct):
    """One of the project's editors: mount ``module`` (an ES module) over ``template``."""

    annotation_type: str
    title: str
    plugin: str
    template: str
    module: str
    """The module's URL."""
    hotkeys: dict[str, str]


class RevisionOut(msgspec.Struct):
    """Your current annotation of one type on the item: supersede it by its ``id``."""

    id: uuid.UUID
    payload: Any


class QueueEntryOut(msgspec.Struct):
    id: int
    name: str
    media_type: str
    status: str
    """Your own status on it: ``todo``, ``done`` or ``skipped``."""
    suggested: bool
    """A model's suggestion waits on it for you."""
    thumbnail_url: str
    media_url: str
    """Its media (signed), for a page to fetch ahead what it will show."""
    meta: dict[str, Any]
    """What its modality probed (an image's size, a video's fps)."""


class QueueWindowOut(msgspec.Struct):
    """Your queue around the item, as filtered by ``show``."""

    show: str
    items: list[QueueEntryOut]
    previous: int | None
    next: int | None
    next_todo: int | None
    """The next item still to do (where a label moves on to), whatever the filter."""
    counts: dict[str, int]
    """How many items each filter (all, todo, done, skipped) holds."""


class LabelingContextOut(msgspec.Struct):
    """What labeling the item needs, as the labeling page shows it."""

    project_id: int
    item: ItemOut
    calibrating: bool
    """The item is one of your calibration items (no suggestions are shown on it)."""
    editors: list[EditorOut]
    revisions: dict[str, RevisionOut]
    """By annotation type."""
    categories: list[CategoryOut]
    options: dict[str, Any]
    """The project's options per annotation type."""
    suggestions: list[SuggestionOut]
    suggestion_visibility: dict[str, Visibility]
    """Per annotation type: ``hidden`` (one waits for your own first label), ``revealed``, or
    ``none``."""
    queue: QueueWindowOut

    @classmethod
    def of(
        cls, context: LabelingContext, secret: str, plugins: Plugins | None = None
    ) -> LabelingContextOut:
        """``plugins`` (the types, to compare your labels with the suggestions) fills each
        suggestion's ``agrees_with_yours``."""
        item = context.item
        return cls(
            project_id=context.project.id or 0,
            item=ItemOut.of(
                item,
                media.media_url(secret, item.content_hash),
                context.status,
                [PartOut.of(p, secret) for p in context.parts],
            ),
            calibrating=context.calibrating,
            editors=[
                EditorOut(
                    annotation_type=e.annotation_type,
                    title=e.title,
                    plugin=e.plugin,
                    template=e.editor.template,
                    module=module_url(e.plugin, e.editor.module),
                    hotkeys=dict(e.editor.hotkeys),
                )
                for e in context.editors
            ],
            revisions={
                t: RevisionOut(id=a.id, payload=a.payload) for t, a in context.revisions.items()
            },
            categories=[CategoryOut.of(c) for c in context.categories],
            options=context.options,
            suggestions=[
                SuggestionOut.of(s, _payload_of(context, s), plugins) for s in context.suggestions
            ],
            suggestion_visibility=context.visibility,
            queue=QueueWindowOut(
                show=context.queue.show,
                items=[
                    QueueEntryOut(
                        id=h.item.id or 0,
                        name=h.item.name,
                        media_type=h.item.media_type,
                        status=h.status,
                        suggested=h.suggested,
                        thumbnail_url=media.media_url(secret, h.item.content_hash, "thumb"),
                        media_url=media.media_url(secret, h.item.content_hash),
                        meta=h.item.meta,
                    )
                    for h in context.queue.items
                ],
                previous=context.queue.previous,
                next=context.queue.next,
                next_todo=context.queue.next_todo,
                counts=context.queue.counts,
            ),
        )


def _payload_of(context: LabelingContext, shown: Shown) -> Any:
    mine = context.revisions.get(shown.suggestion.annotation_type)
    return None if mine is None else mine.payload


def module_url(plugin: str, module: str) -> str:
    """Where a plugin's ES module is served (its ``static/`` folder)."""
    return f"/static/plugins/{plugin}/{module}"

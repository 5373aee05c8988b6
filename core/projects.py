"""Projects: creating one (with its first guideline and label schema), listing, reading."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import msgspec.inspect
from sqlmodel import Session, col, select

from . import audit, consensus, counts, labels, limits, membership
from .contributions import AnnotationType, QualityRule
from .errors import InvalidInput, NotFound, invalid_from_msgspec
from .item_state import ItemState
from .models import GuidelineVersion, Project, Role
from .plugins import Plugins
from .project_settings import ProjectSettings, settings_of

__all__ = [
    "ProjectSummary",
    "create_project",
    "current_guideline",
    "get_project",
    "list_projects",
    "summarize",
    "update_settings",
]


def _settings(raw: dict[str, Any] | None) -> dict[str, Any]:
    try:
        parsed = msgspec.convert(raw or {}, ProjectSettings)
    except msgspec.ValidationError as error:
        raise invalid_from_msgspec(error, "$.settings") from None
    return msgspec.to_builtins(parsed)  # type: ignore[no-any-return]


def _check_options(
    options: dict[str, dict[str, Any]], annotation_types: Sequence[AnnotationType]
) -> None:
    """Each annotation type's options must fit the shape its plugin declares."""
    declared = {t.name: t for t in annotation_types}
    for type_name, value in options.items():
        where = f"$.settings.annotation_options.{type_name}"
        annotation_type = declared.get(type_name)
        if annotation_type is None:
            raise InvalidInput(
                f"Options given for {type_name!r}, which is not one of this project's annotation "
                f"types ({', '.join(declared)})",
                where,
            )
        if annotation_type.options is None:
            raise InvalidInput(f"Annotation type {type_name!r} takes no options", where)
        try:
            msgspec.convert(value, annotation_type.options)
        except msgspec.ValidationError as error:
            invalid = invalid_from_msgspec(error, where)
            raise InvalidInput(
                f"{invalid.reason}. {type_name.capitalize()} options: "
                f"{_describe(annotation_type.options)}",
                invalid.path,
            ) from None


def _describe(options: type[msgspec.Struct]) -> str:
    """``mode: 'single' or 'multi' (default 'single')``: what a person may write."""
    described = []
    for option in msgspec.inspect.type_info(options).fields:  # type: ignore[attr-defined]
        kind = option.type
        if isinstance(kind, msgspec.inspect.Metadata):  # a title or choice labels for forms
            kind = kind.type
        if isinstance(kind, msgspec.inspect.LiteralType):
            allowed = " or ".join(repr(v) for v in sorted(kind.values, key=str))
        else:
            allowed = type(kind).__name__.removesuffix("Type").lower()
        default = "" if option.required else f" (default {option.default!r})"
        described.append(f"{option.name}: {allowed}{default}")
    return "; ".join(described)


def create_project(
    session: Session,
    plugins: Plugins,
    *,
    actor_id: int,
    name: str,
    modality: str,
    annotation_types: Sequence[str],
    description: str = "",
    categories: Sequence[str] = (),
    guidelines: str = "",
    settings: dict[str, Any] | None = None,
    category_colors: Sequence[str] = (),
) -> Project:
    """A new project with guideline version 1 and label schema 1.0.0.

    ``category_colors`` (#rrggbb) colour the categories in order; the rest take the palette's.

    The modality and annotation types must come from loaded plugins; the error lists what is
    installed, so a missing plugin is obvious.
    """
    name = name.strip()
    if not name:
        raise InvalidInput("A project needs a name", "$.name")
    limits.check(name, "$.name", limits.NAME_MAX)
    limits.check(description, "$.description", limits.LONG_TEXT_MAX)
    limits.check(guidelines, "$.guidelines", limits.LONG_TEXT_MAX)
    limits.check_all(categories, "$.categories", limits.NAME_MAX)
    modalities = plugins.modalities
    if modality not in modalities:
        installed = ", ".join(sorted(modalities)) or "none"
        raise InvalidInput(
            f"No loaded plugin provides the modality {modality!r} (installed: {installed}). "
            "Install a plugin that does, e.g. `pip install scholia-image`, and restart",
            "$.modality",
        )
    if not annotation_types:
        raise InvalidInput("Choose at least one annotation type", "$.annotation_types")
    known = plugins.annotation_types
    for index, type_name in enumerate(annotation_types):
        annotation_type: AnnotationType | None = known.get(type_name)
        if annotation_type is None:
            raise InvalidInput(
                f"No loaded plugin provides the annotation type {type_name!r} "
                f"(installed: {', '.join(sorted(known)) or 'none'})",
                f"$.annotation_types[{index}]",
            )
        if annotation_type.modalities and modality not in annotation_type.modalities:
            raise InvalidInput(
                f"Annotation type {type_name!r} does not apply to {modality!r} "
                f"(it applies to: {', '.join(annotation_type.modalities)})",
                f"$.annotation_types[{index}]",
            )
    _check_thresholds((settings or {}).get("quality_thresholds"), plugins)
    settings = _settings(settings)
    _check_options(settings["annotation_options"], [known[t] for t in annotation_types])
    project = Project(
        name=name,
        description=description.strip(),
        modality=modality,
        annotation_types=list(dict.fromkeys(annotation_types)),
        settings=settings,
        created_by=actor_id,
    )
    session.add(project)
    session.flush()
    assert project.id is not None
    session.add(
        GuidelineVersion(project_id=project.id, version=1, body=guidelines, created_by=actor_id)
    )
    labels.create_initial(session, project, categories, actor_id, category_colors)
    audit.record(
        session,
        actor_id=actor_id,
        project_id=project.id,
        entity="project",
        entity_id=project.id,
        action="create",
        data={"name": name, "modality": modality, "annotation_types": project.annotation_types},
    )
    membership.add_member(session, project.id, actor_id, Role.manager, actor_id)
    return project


def update_settings(
    session: Session,
    plugins: Plugins,
    project_id: int,
    changes: dict[str, Any],
    *,
    actor_id: int,
) -> ProjectSettings:
    """Change some of a project's settings (a nested group, e.g. ``gold``, is merged key by
    key). Everything is checked before anything is stored: an unknown key, a value out of
    range or a threshold for a rule that is not registered (or outside the rule's range) is
    refused with the path of the bad field, and the settings stay as they were."""
    project = get_project(session, project_id)
    merged = dict(project.settings)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    _check_thresholds(merged.get("quality_thresholds"), plugins)
    settings = _settings(merged)
    known = plugins.annotation_types
    _check_options(
        settings["annotation_options"], [known[t] for t in project.annotation_types if t in known]
    )
    overlap_before = settings_of(project).overlap
    project.settings = settings
    session.add(project)
    updated = msgspec.convert(settings, ProjectSettings)
    if updated.overlap != overlap_before:
        consensus.apply_overlap(session, plugins, project_id, updated, actor_id)
    audit.record(
        session,
        actor_id=actor_id,
        project_id=project_id,
        entity="project",
        entity_id=project_id,
        action="settings",
        data={"changes": changes},
    )
    return updated


def _check_thresholds(thresholds: object, plugins: Plugins) -> None:
    """Each threshold must name a registered rule and lie in that rule's range (checked
    before the settings' shape, so the message can name the rule)."""
    if not isinstance(thresholds, dict):
        return  # not a mapping at all: the settings' own check says so
    rules = {rule.name: rule for rule in plugins.all(QualityRule)}
    for name, value in thresholds.items():
        where = f"$.settings.quality_thresholds.{name}"
        rule = rules.get(name)
        if rule is None:
            raise InvalidInput(
                f"No quality rule {name!r} is registered (rules: {', '.join(sorted(rules))})",
                where,
            )
        problem = rule.threshold_problem(value)
        if problem is not None:
            raise InvalidInput(problem[0].upper() + problem[1:], where)


def get_project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound("project", project_id)
    return project


def current_guideline(session: Session, project_id: int) -> GuidelineVersion:
    guideline = session.exec(
        select(GuidelineVersion)
        .where(col(GuidelineVersion.project_id) == project_id)
        .order_by(col(GuidelineVersion.version).desc())
        .limit(1)
    ).first()
    if guideline is None:
        raise NotFound("guideline for project", project_id)
    return guideline


@dataclass
class ProjectSummary:
    project: Project
    counts: dict[str, int] = field(default_factory=dict)
    """Items per lifecycle state (every state present, zero where none)."""

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return self.counts.get(ItemState.approved, 0)


def _counts(session: Session, project_ids: list[int]) -> dict[int, dict[str, int]]:
    """Items per state for each project: counted in one place, ``scholia.core.counts``."""
    return counts.status_counts(session, project_ids)


def list_projects(
    session: Session, include_archived: bool = False, only: set[int] | None = None
) -> list[ProjectSummary]:
    """Every project (or those in ``only``: the ones a user may see), newest first, with its
    item counts per state."""
    query = select(Project).order_by(col(Project.id).desc())
    if only is not None:
        query = query.where(col(Project.id).in_(only))
    if not include_archived:
        query = query.where(col(Project.archived_at).is_(None))
    found = list(session.exec(query))
    counts = _counts(session, [p.id for p in found if p.id is not None])
    return [ProjectSummary(project=p, counts=counts[p.id or 0]) for p in found]


def summarize(session: Session, project_id: int) -> ProjectSummary:
    """One project with its item counts per state."""
    project = get_project(session, project_id)
    return ProjectSummary(project=project, counts=_counts(session, [project_id])[project_id])

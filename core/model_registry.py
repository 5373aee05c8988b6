"""The models registry: a project's models, which one is active, and whether each still fits.

A model is registered with the categories it was trained on (its outputs' order); their
``labels_hash`` is compared with the project's current schema before anything is asked of it:
a model trained on other labels would put wrong names on items, so it gives no suggestion
(``check_schema`` names both hashes and the categories that differ). Registering loads the
model once, so a missing or corrupt file, or an input shape that does not match the
registration, is refused before it is stored. At most one model per annotation type is active.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from sqlmodel import Session, col, select

from . import audit, labels, limits
from .contributions import PrelabelBackend
from .errors import Conflict, InvalidInput, ModelFailed, NotFound, invalid_from_msgspec
from .models import Model, ModelStatus
from .models.types import utcnow
from .payloads import enabled_type
from .plugins import Plugins
from .predictors import Predictors
from .projects import get_project
from .storage import MediaStore

__all__ = [
    "SchemaFit",
    "activate",
    "active_model",
    "active_models",
    "check_schema",
    "file_store",
    "get_model",
    "list_models",
    "register",
    "retire",
    "schema_fit",
]


@dataclass(frozen=True)
class SchemaFit:
    """How a model's categories compare with the project's live ones."""

    model_hash: str
    project_hash: str
    only_in_model: list[tuple[int, str]]
    only_in_project: list[tuple[int, str]]
    renamed: list[tuple[int, str, str]]
    """``(id, name the model knows, name the project has now)``."""

    @property
    def fits(self) -> bool:
        return self.model_hash == self.project_hash

    def describe(self) -> str:
        parts = [f"{n!r} (id {i}) only in the model" for i, n in self.only_in_model]
        parts += [f"{n!r} (id {i}) only in the project" for i, n in self.only_in_project]
        parts += [f"id {i} is {old!r} in the model, {new!r} now" for i, old, new in self.renamed]
        return "; ".join(parts)


def file_store(data_dir: Path) -> MediaStore:
    """Uploaded model files, content-addressed in the data directory (never served)."""
    return MediaStore(data_dir / "models")


def schema_fit(session: Session, model: Model) -> SchemaFit:
    live = {c.id: c.name for c in labels.live_categories(session, model.project_id)}
    known = {int(i): str(n) for i, n in model.categories}
    return SchemaFit(
        model_hash=model.labels_hash,
        project_hash=labels.hash_of_pairs(live.items()),
        only_in_model=sorted((i, n) for i, n in known.items() if i not in live),
        only_in_project=sorted((i, n) for i, n in live.items() if i is not None and i not in known),
        renamed=sorted((i, n, live[i]) for i, n in known.items() if i in live and live[i] != n),
    )


def check_schema(session: Session, model: Model) -> None:
    """Refuse a model whose labels are not the project's current ones, saying how they differ."""
    fit = schema_fit(session, model)
    if not fit.fits:
        raise ModelFailed(
            f"Model {model.name} {model.version} was trained on labels {fit.model_hash[:12]}, "
            f"but the project's schema is now {fit.project_hash[:12]}: {fit.describe()}. "
            "Register a model trained on the current categories (or restore them)."
        )


def _categories(
    session: Session, project_id: int, given: Sequence[Any] | None
) -> list[tuple[int, str]]:
    """The model's ``(id, name)`` pairs: as given (``{"id", "name"}`` for a model trained on
    an older schema, or a category name, looked up now), or the project's live categories in
    display order."""
    live = labels.live_categories(session, project_id)
    if given is None:
        return [(c.id, c.name) for c in live if c.id is not None]
    by_name = {c.name: c.id for c in live}
    pairs: list[tuple[int, str]] = []
    for index, entry in enumerate(given):
        where = f"$.categories[{index}]"
        if isinstance(entry, str):
            if entry not in by_name:
                known = ", ".join(repr(n) for n in by_name) or "none"
                raise InvalidInput(
                    f"no category named {entry!r} in this project (categories: {known}); "
                    'give {"id": …, "name": …} for a category the project no longer has',
                    where,
                )
            pairs.append((int(by_name[entry] or 0), entry))
        elif isinstance(entry, dict) and isinstance(entry.get("id"), int) and entry.get("name"):
            pairs.append((entry["id"], str(entry["name"])))
        else:
            raise InvalidInput('give a category name or {"id": 3, "name": "cat"}', where)
    if not pairs:
        raise InvalidInput("a model needs at least one category", "$.categories")
    ids = [i for i, _ in pairs]
    if len(set(ids)) != len(ids):
        raise InvalidInput("a category is listed twice", "$.categories")
    return pairs


def register(
    session: Session,
    plugins: Plugins,
    predictors: Predictors,
    project_id: int,
    *,
    name: str,
    version: str,
    backend: str,
    source: str,
    annotation_type: str,
    categories: Sequence[Any] | None = None,
    labels_hash: str | None = None,
    config: dict[str, Any] | None = None,
    actor_id: int,
) -> Model:
    """Register a model after loading it once (``ModelFailed`` says why it cannot be)."""
    project = get_project(session, project_id)
    enabled_type(plugins, project, annotation_type)
    name, version, source = name.strip(), version.strip(), source.strip()
    for field_name, value in (("name", name), ("version", version), ("source", source)):
        if not value:
            raise InvalidInput(f"give the model's {field_name}", f"$.{field_name}")
    limits.check(name, "$.name", limits.NAME_MAX)
    limits.check(version, "$.version", limits.NAME_MAX)
    chosen = next((b for b in plugins.all(PrelabelBackend) if b.name == backend), None)
    if chosen is None:
        known = ", ".join(b.name for b in plugins.all(PrelabelBackend)) or "none installed"
        raise InvalidInput(f"no pre-label backend {backend!r} (backends: {known})", "$.backend")
    if annotation_type not in chosen.annotation_types:
        raise InvalidInput(
            f"backend {backend!r} serves {', '.join(chosen.annotation_types)}, "
            f"not {annotation_type!r}",
            "$.annotation_type",
        )
    checked: dict[str, Any] = {}
    if chosen.config is not None:
        try:
            checked = msgspec.to_builtins(msgspec.convert(config or {}, chosen.config))
        except msgspec.ValidationError as error:
            raise invalid_from_msgspec(error, "$.config") from None
        except ValueError as error:
            raise InvalidInput(str(error), "$.config") from None
    elif config:
        raise InvalidInput(f"backend {backend!r} takes no config", "$.config")
    pairs = _categories(session, project_id, categories)
    computed = labels.hash_of_pairs(pairs)
    if labels_hash is not None and labels_hash != computed:
        raise InvalidInput(
            f"labels_hash {labels_hash[:12]}… does not match the categories given "
            f"({computed[:12]}…): list the categories the model was trained on",
            "$.labels_hash",
        )
    taken = session.exec(
        select(Model.id).where(
            col(Model.project_id) == project_id,
            col(Model.name) == name,
            col(Model.version) == version,
        )
    ).first()
    if taken is not None:
        raise Conflict(f"Model {name} {version} is registered already (model {taken}).")
    model = Model(
        project_id=project_id,
        name=name,
        version=version,
        backend=backend,
        source=source,
        annotation_type=annotation_type,
        categories=[[i, n] for i, n in pairs],
        labels_hash=computed,
        config=checked,
        created_by=actor_id,
    )
    predictors.get(plugins, model)  # loads it: a model that cannot load is not registered
    session.add(model)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        project_id=project_id,
        entity="model",
        entity_id=model.id,
        action="register",
        to_state=model.status,
        data={"name": name, "version": version, "backend": backend, "labels_hash": computed},
    )
    return model


def get_model(session: Session, model_id: int, project_id: int | None = None) -> Model:
    model = session.get(Model, model_id)
    if model is None or (project_id is not None and model.project_id != project_id):
        raise NotFound("model", model_id)
    return model


def list_models(session: Session, project_id: int) -> list[Model]:
    return list(
        session.exec(
            select(Model).where(col(Model.project_id) == project_id).order_by(col(Model.id).desc())
        )
    )


def active_model(session: Session, project_id: int, annotation_type: str) -> Model | None:
    return session.exec(
        select(Model).where(
            col(Model.project_id) == project_id,
            col(Model.annotation_type) == annotation_type,
            col(Model.status) == ModelStatus.active,
        )
    ).first()


def active_models(session: Session, project_id: int) -> list[Model]:
    """The project's active models, one per annotation type at most."""
    return list(
        session.exec(
            select(Model)
            .where(col(Model.project_id) == project_id, col(Model.status) == ModelStatus.active)
            .order_by(col(Model.id))
        )
    )


def _move(session: Session, model: Model, to: ModelStatus, actor_id: int) -> None:
    before = model.status
    model.status = to
    session.add(model)
    audit.record(
        session,
        actor_id=actor_id,
        project_id=model.project_id,
        entity="model",
        entity_id=model.id,
        action=str(to) if to != ModelStatus.registered else "deactivate",
        from_state=before,
        to_state=to,
    )


def activate(session: Session, model: Model, actor_id: int) -> Model:
    """Make ``model`` the one whose suggestions annotators see (the previous active model of
    its annotation type goes back to registered)."""
    if model.status == ModelStatus.retired:
        raise Conflict(f"Model {model.name} {model.version} is retired; register a new version.")
    if model.status == ModelStatus.active:
        return model
    current = active_model(session, model.project_id, model.annotation_type)
    if current is not None:
        _move(session, current, ModelStatus.registered, actor_id)
        session.flush()
    model.activated_at = utcnow()
    _move(session, model, ModelStatus.active, actor_id)
    return model


def retire(session: Session, model: Model, actor_id: int) -> Model:
    """Retire ``model`` for good: it is asked for nothing more and its pending suggestions stop
    showing; what it suggested stays in the outcome log and in provenance."""
    if model.status == ModelStatus.retired:
        return model
    model.retired_at = utcnow()
    _move(session, model, ModelStatus.retired, actor_id)
    return model

"""A payload through its annotation type: which type a project accepts, what a payload is
checked against, and decoding it into the type's Struct with errors that carry the field path.

Kept apart from ``annotations`` (which stores submissions) so every place that reads a payload
(gold answers, adjudication, suggestions, imports) checks it the same way without depending on
the submission path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from .contributions import AnnotationType, ValidationContext
from .errors import InvalidInput, invalid_from_msgspec
from .models import LabelSchemaVersion, Project
from .plugins import Plugins

__all__ = ["decode_payload", "enabled_type", "validation_context"]


def decode_payload(annotation_type: AnnotationType, raw: Any, context: ValidationContext) -> Any:
    """The payload as its type's Struct, validated; errors carry the bad field's path."""
    try:
        payload = msgspec.convert(raw, annotation_type.payload)
    except msgspec.ValidationError as error:
        raise invalid_from_msgspec(error, "$.payload") from None
    try:
        annotation_type.validate(payload, context)
    except InvalidInput as error:
        path = "$.payload" + (error.path or "$").removeprefix("$")
        raise InvalidInput(error.reason, path) from None
    except ValueError as error:
        raise InvalidInput(str(error), "$.payload") from None
    return payload


def enabled_type(plugins: Plugins, project: Project, annotation_type: str) -> AnnotationType:
    """The annotation type, if a loaded plugin provides it and the project uses it."""
    kind = plugins.annotation_types.get(annotation_type)
    if kind is None or annotation_type not in project.annotation_types:
        enabled = ", ".join(project.annotation_types) or "none"
        raise InvalidInput(
            f"Annotation type {annotation_type!r} is not enabled in project {project.id} "
            f"(enabled: {enabled})",
            "$.annotation_type",
        )
    return kind


def validation_context(
    item_meta: Mapping[str, Any], project: Project, schema: LabelSchemaVersion
) -> ValidationContext:
    """What a payload on an item (its probed ``meta``) is checked against: the schema's live
    categories (and the deleted ones, so a refusal can say a category was deleted)."""
    return ValidationContext(
        item_meta=item_meta,
        categories={c["id"]: c["name"] for c in schema.categories if not c["deleted"]},
        settings=project.settings,
        deleted_categories={c["id"]: c["name"] for c in schema.categories if c["deleted"]},
    )

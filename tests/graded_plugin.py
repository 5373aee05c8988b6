"""A test-only plugin whose annotation types the core must compare only through the type.

``span``: an interval on the item with a free note; two spans agree by their overlap
(intersection over union), whatever their notes say, and it declares no aggregate (the core
gives it the medoid). ``flag``: a word, with neither agreement nor aggregate (the core gives it
equality and majority). Registered through a real plugin object, as a vendor's would be.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from scholia.core.contributions import AnnotationType, ValidationContext
from scholia.core.errors import InvalidInput
from scholia.core.hookspecs import hookimpl
from scholia.core.plugins import Plugins, load_plugins

from .conftest import DEFAULT_PLUGINS, EXAMPLE_PLUGINS

__all__ = ["Flag", "Span", "with_graded_types"]


class Span(msgspec.Struct, forbid_unknown_fields=True):
    start: int
    end: int
    note: str = ""


class Flag(msgspec.Struct, forbid_unknown_fields=True):
    value: str


def _validate_span(span: Span, context: ValidationContext) -> None:
    if span.end <= span.start:
        raise InvalidInput("a span ends after it starts", "$.end")


def _validate_flag(flag: Flag, context: ValidationContext) -> None:
    if not flag.value:
        raise InvalidInput("say something", "$.value")


def overlap(a: Span, b: Span) -> float:
    """Intersection over union of the two intervals (notes do not count)."""
    inter = max(0, min(a.end, b.end) - max(a.start, b.start))
    union = max(a.end, b.end) - min(a.start, b.start)
    return inter / union if union else 1.0


class GradedTypes:
    @hookimpl
    def register_annotation_types(self, register: Callable[[AnnotationType], None]) -> None:
        register(
            AnnotationType(
                name="span", title="Span", payload=Span, validate=_validate_span, agreement=overlap
            )
        )
        register(AnnotationType(name="flag", title="Flag", payload=Flag, validate=_validate_flag))


def with_graded_types() -> Plugins:
    """The example plugins plus ``span`` and ``flag``."""
    return load_plugins(
        default_plugins=DEFAULT_PLUGINS, select=EXAMPLE_PLUGINS, extra=[GradedTypes()]
    )

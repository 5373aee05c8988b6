"""Form fields for a plugin's options Struct (a video's frame sampling on the upload form, an
annotation type's options on the new-project form).

A plugin declares its options as a ``msgspec.Struct``; each field's ``msgspec.Meta`` gives its
``title``, its bounds, and in ``extra`` the labels of a choice's values (``choices``) and the
choice value a field belongs to (``when``), so the page needs no plugin-specific markup
(``_option_fields.html`` draws them). Upload fields are named ``options.<name>``, as the
upload API reads them; the new-project form's ``annotation_options.<type>.<name>``. Both
the pages and the API use this module, so it sits below both.
"""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
import msgspec.inspect as inspect

__all__ = ["expand_options", "option_fields", "options_from"]


def _number(kind: Any) -> dict[str, Any]:
    low = kind.ge if kind.ge is not None else kind.gt
    high = kind.le if kind.le is not None else kind.lt
    step = "1" if isinstance(kind, inspect.IntType) else "any"
    return {"kind": "number", "min": low, "max": high, "step": step}


def option_fields(options: type[msgspec.Struct], prefix: str = "options.") -> list[dict[str, Any]]:
    """One entry a field: ``name`` (``prefix`` + the field's), ``title``, ``default``, ``when``
    and either ``choices`` (value, label) for a select or ``min``/``max``/``step`` for a
    number."""
    fields = []
    for field in inspect.type_info(options).fields:  # type: ignore[union-attr]
        kind, extra, title = field.type, {}, field.name.replace("_", " ").capitalize()
        if isinstance(kind, inspect.Metadata):
            extra = kind.extra or {}
            title = (kind.extra_json_schema or {}).get("title", title)
            kind = kind.type
        entry: dict[str, Any] = {
            "name": f"{prefix}{field.name}",
            "title": title,
            "default": None if field.default is msgspec.NODEFAULT else field.default,
            "when": extra.get("when"),
        }
        if isinstance(kind, inspect.LiteralType):
            labels = extra.get("choices", {})
            ordered = [*labels, *(v for v in kind.values if v not in labels)]
            entry |= {"kind": "select", "choices": [(v, labels.get(v, str(v))) for v in ordered]}
        elif isinstance(kind, inspect.IntType | inspect.FloatType):
            entry |= _number(kind)
        else:
            entry |= {"kind": "text"}
        fields.append(entry)
    return fields


def expand_options(data: dict[str, Any]) -> dict[str, Any]:
    """The ``options.<name>`` fields of an upload form, by name (empty ones left out)."""
    return {
        key.removeprefix("options."): value
        for key, value in data.items()
        if key.startswith("options.") and isinstance(value, str) and value.strip()
    }


def options_from(
    data: dict[str, Any], options: type[msgspec.Struct], prefix: str
) -> dict[str, Any]:
    """The options a form gave for ``options`` (fields named ``prefix`` + name; empty ones
    left out), numbers read as numbers where they are; the core checks the rest against the
    Struct and says what is wrong."""
    found: dict[str, Any] = {}
    for field in option_fields(options, prefix):
        text = data.get(field["name"])
        if not isinstance(text, str) or not text.strip():
            continue
        key = field["name"].removeprefix(prefix)
        found[key] = text.strip()
        if field["kind"] == "number":
            with contextlib.suppress(ValueError):  # the core refuses it, saying where
                found[key] = int(text) if field["step"] == "1" else float(text)
    return found

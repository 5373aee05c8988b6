"""Form fields for a plugin's options Struct (a video's frame sampling on the upload form).

A plugin declares its options as a ``msgspec.Struct``; each field's ``msgspec.Meta`` gives its
``title``, its bounds, and in ``extra`` the labels of a choice's values (``choices``) and the
choice value a field belongs to (``when``), so the page needs no plugin-specific markup. Fields
are named ``options.<name>``, as the upload API reads them. Both the pages and the API use
this module, so it sits below both.
"""

from __future__ import annotations

from typing import Any

import msgspec
import msgspec.inspect as inspect

__all__ = ["expand_options", "option_fields"]


def _number(kind: Any) -> dict[str, Any]:
    low = kind.ge if kind.ge is not None else kind.gt
    high = kind.le if kind.le is not None else kind.lt
    step = "1" if isinstance(kind, inspect.IntType) else "any"
    return {"kind": "number", "min": low, "max": high, "step": step}


def option_fields(options: type[msgspec.Struct]) -> list[dict[str, Any]]:
    """One entry a field: ``name``, ``title``, ``default``, ``when`` and either ``choices``
    (value, label) for a select or ``min``/``max``/``step`` for a number."""
    fields = []
    for field in inspect.type_info(options).fields:  # type: ignore[union-attr]
        kind, extra, title = field.type, {}, field.name.replace("_", " ").capitalize()
        if isinstance(kind, inspect.Metadata):
            extra = kind.extra or {}
            title = (kind.extra_json_schema or {}).get("title", title)
            kind = kind.type
        entry: dict[str, Any] = {
            "name": f"options.{field.name}",
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

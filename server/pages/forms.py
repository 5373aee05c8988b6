"""Reading HTML form posts."""

from __future__ import annotations

from typing import Annotated, Any

from litestar.enums import RequestEncodingType
from litestar.params import Body

__all__ = ["Form", "values"]

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def values(form: dict[str, Any], key: str) -> list[str]:
    """All values of a repeated field (checkboxes), as a list."""
    value = form.get(key)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def value(form: dict[str, Any], key: str, default: str = "") -> str:
    found = values(form, key)
    return found[-1] if found else default

"""What input may hold: how long free text may be (names, descriptions, reasoning, comments,
op ids), which characters it may not hold, and how large an id or a count may be.

NUL (U+0000) cannot be stored by PostgreSQL and is silently kept by SQLite, so the two
databases would disagree; the bidirectional overrides and isolates (U+202A–U+202E,
U+2066–U+2069) make text display in another order than it is stored, which hides what a label
or a name really says. Both are refused everywhere, on both databases alike.

The limits are the database columns' where there is one (names: 200), and otherwise sizes no
person types by hand (reasoning and comments: 10,000 characters). The request Structs carry
them as ``msgspec.Meta`` so the OpenAPI schema shows them; the core checks them again because
the CLI and the pages call it directly.

Ids are at most int64 (what the databases give out); counts stored in 32-bit columns
(milliseconds spent) at most 2³¹−1 (the core refuses negative ones); positions (display
order) any 32-bit number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

import msgspec

from .errors import InvalidInput

__all__ = [
    "CHOICE_MAX",
    "FILE_NAME_MAX",
    "INLINE_PART_MAX",
    "INT32_MAX",
    "INT64_MAX",
    "LONG_TEXT_MAX",
    "NAME_MAX",
    "OP_ID_MAX",
    "TEXT_MAX",
    "Choice",
    "Count",
    "Id",
    "LongText",
    "Name",
    "OpId",
    "Position",
    "Text",
    "check",
    "check_all",
    "first_refused",
    "refused_character",
]

NAME_MAX = 200
"""Project, category, token, model names and display names (the columns are 200 wide)."""
CHOICE_MAX = 64
"""Words picked from a fixed list: an annotation type, a modality, a decision, a state."""
OP_ID_MAX = 100
"""A client's idempotency key (``client_op_id``; the column is 100 wide)."""
TEXT_MAX = 10_000
"""Reasoning, comments, explanations, reasons: a few paragraphs at most."""
FILE_NAME_MAX = 255
"""An uploaded file's name (what file systems allow; the items table holds 500)."""
LONG_TEXT_MAX = 100_000
"""Project descriptions and guidelines: a long document, but not a file's worth."""

INLINE_PART_MAX = 256 * 1024
"""An item's inline part (a text record, a conversation) as encoded JSON: a record, not a file
(files go in the media store)."""

INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1

Id = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
Count = Annotated[int, msgspec.Meta(le=INT32_MAX)]
"""A count stored in a 32-bit column; the core refuses a negative one (422, with its reason)."""
Position = Annotated[int, msgspec.Meta(ge=-INT32_MAX - 1, le=INT32_MAX)]
Name = Annotated[str, msgspec.Meta(max_length=NAME_MAX)]
Choice = Annotated[str, msgspec.Meta(max_length=CHOICE_MAX)]
OpId = Annotated[str, msgspec.Meta(min_length=1, max_length=OP_ID_MAX)]
Text = Annotated[str, msgspec.Meta(max_length=TEXT_MAX)]
LongText = Annotated[str, msgspec.Meta(max_length=LONG_TEXT_MAX)]

REFUSED = re.compile("[\x00\u202a-\u202e\u2066-\u2069]")
NAMES = {
    "\x00": "NUL",
    "\u202a": "LEFT-TO-RIGHT EMBEDDING",
    "\u202b": "RIGHT-TO-LEFT EMBEDDING",
    "\u202c": "POP DIRECTIONAL FORMATTING",
    "\u202d": "LEFT-TO-RIGHT OVERRIDE",
    "\u202e": "RIGHT-TO-LEFT OVERRIDE",
    "\u2066": "LEFT-TO-RIGHT ISOLATE",
    "\u2067": "RIGHT-TO-LEFT ISOLATE",
    "\u2068": "FIRST STRONG ISOLATE",
    "\u2069": "POP DIRECTIONAL ISOLATE",
}


def refused_character(value: str) -> str | None:
    """Why ``value`` cannot be stored as it is (a NUL or a bidi override in it), or None."""
    found = REFUSED.search(value)
    if found is None:
        return None
    char = found.group()
    return (
        f"contains a character that is not allowed in text: U+{ord(char):04X} "
        f"({NAMES[char]}) at position {found.start()}; remove it and send it again"
    )


def check(value: str | None, path: str, max_length: int, min_length: int = 0) -> str | None:
    """``value`` as it is, or ``InvalidInput`` at ``path`` when it is too long (or too short)
    or holds a refused character."""
    if value is None:
        return None
    if len(value) < min_length:
        raise InvalidInput(f"must have at least {min_length} character(s)", path)
    if len(value) > max_length:
        raise InvalidInput(
            f"is {len(value):,} characters long; at most {max_length:,} are accepted", path
        )
    if (reason := refused_character(value)) is not None:
        raise InvalidInput(reason, path)
    return value


def check_all(values: Any, path: str, max_length: int) -> None:
    """``check`` on every string in a list (category names, say)."""
    for index, value in enumerate(values):
        if isinstance(value, str):
            check(value, f"{path}[{index}]", max_length)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            if isinstance(key, str):
                yield f"{path}.{key}", key
            yield from _strings(inner, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, inner in enumerate(value):
            yield from _strings(inner, f"{path}[{index}]")


def first_refused(value: Any, path: str = "$") -> InvalidInput | None:
    """The first string anywhere in decoded JSON (or a form) holding a refused character, as
    the error to answer with; None when all of it can be stored."""
    for where, text in _strings(value, path):
        if (reason := refused_character(text)) is not None:
            return InvalidInput(reason, where)
    return None

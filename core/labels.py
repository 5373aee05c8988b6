"""Categories and label schema versions.

A category's id is assigned once per project (the next integer after the highest ever used)
and never changes or gets reused: soft delete keeps the row. Every change writes a new
``LabelSchemaVersion`` whose ``schema_version`` follows this rule:

* **major** when a category is deleted: labels that used it no longer fit the schema;
* **minor** when a category is added, restored or renamed: ``labels_hash`` changes, existing
  ids keep their meaning;
* **patch** when only display changes (order, colour, hotkey): ``labels_hash`` is unchanged.

Keys: on the labeling page the digits 1-9 always pick the category at that display position, so a
category's own ``hotkey`` is one extra key (a letter, say), checked here so pages and API agree:
a single character, unused by the other live categories and not one the labeling page keeps
for itself (``RESERVED_HOTKEYS``).

``labels_hash`` is the sha256 of the live categories' id→name pairs, ordered by id, so a
model can declare the exact label set it was trained on.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from typing import Literal

from sqlalchemy import func
from sqlmodel import Session, col, select

from . import audit, limits
from .errors import Conflict, InvalidInput, NotFound
from .models import Category, LabelSchemaVersion, Project
from .models.types import utcnow

__all__ = [
    "FIRST_SCHEMA_VERSION",
    "PALETTE",
    "RESERVED_HOTKEYS",
    "add_categories",
    "add_category",
    "bump",
    "current_schema",
    "hash_of_pairs",
    "labels_hash",
    "live_categories",
    "move_category",
    "update_category",
]

FIRST_SCHEMA_VERSION = "1.0.0"
PALETTE = (
    "#2563eb",
    "#dc2626",
    "#16a34a",
    "#d97706",
    "#7c3aed",
    "#0891b2",
    "#db2777",
    "#65a30d",
    "#ea580c",
    "#4f46e5",
)
Bump = Literal["major", "minor", "patch"]
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
RESERVED_HOTKEYS = {
    **{str(digit): "picks the category at that position" for digit in range(10)},
    "s": "skips the item",
    "z": "undoes the last decision",
    "a": "accepts the model's suggestion",
    "?": "shows the keys",
    "+": "zooms in",
    "=": "zooms in",
    "-": "zooms out",
}
"""Keys the labeling page keeps for itself (0 fits the image to the viewer)."""


def labels_hash(categories: Sequence[Category]) -> str:
    return hash_of_pairs([(c.id, c.name) for c in categories if c.deleted_at is None])


def hash_of_pairs(pairs: Iterable[tuple[int | None, str]]) -> str:
    """``labels_hash`` of ``(id, name)`` pairs in any order (a model's categories, say)."""
    ordered = sorted((int(i or 0), n) for i, n in pairs)
    return hashlib.sha256(json.dumps(ordered, separators=(",", ":")).encode()).hexdigest()


def bump(version: str, part: Bump) -> str:
    major, minor, patch = (int(p) for p in version.split("."))
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def all_categories(session: Session, project_id: int) -> list[Category]:
    return list(
        session.exec(
            select(Category)
            .where(col(Category.project_id) == project_id)
            .order_by(col(Category.display_order), col(Category.id))
        )
    )


def live_categories(session: Session, project_id: int) -> list[Category]:
    return [c for c in all_categories(session, project_id) if c.deleted_at is None]


def current_schema(session: Session, project_id: int) -> LabelSchemaVersion:
    schema = session.exec(
        select(LabelSchemaVersion)
        .where(col(LabelSchemaVersion.project_id) == project_id)
        .order_by(col(LabelSchemaVersion.id).desc())
        .limit(1)
    ).first()
    if schema is None:
        raise NotFound("label schema for project", project_id)
    return schema


def _snapshot(
    session: Session, project_id: int, part: Bump | None, change: str, actor_id: int
) -> LabelSchemaVersion:
    session.flush()
    categories = all_categories(session, project_id)
    version = (
        FIRST_SCHEMA_VERSION
        if part is None
        else bump(current_schema(session, project_id).schema_version, part)
    )
    schema = LabelSchemaVersion(
        project_id=project_id,
        schema_version=version,
        labels_hash=labels_hash(categories),
        categories=[
            {
                "id": c.id,
                "name": c.name,
                "color": c.color,
                "hotkey": c.hotkey,
                "display_order": c.display_order,
                "deleted": c.deleted_at is not None,
            }
            for c in categories
        ],
        change=change,
        created_by=actor_id,
    )
    session.add(schema)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        project_id=project_id,
        entity="label_schema",
        entity_id=schema.id,
        action="version",
        reason=change,
        data={"schema_version": version, "labels_hash": schema.labels_hash},
    )
    return schema


def _check_name(session: Session, project_id: int, name: str, exclude_id: int | None) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("A category needs a name", "$.name")
    limits.check(name, "$.name", limits.NAME_MAX)
    for other in live_categories(session, project_id):
        if other.id != exclude_id and other.name.casefold() == name.casefold():
            raise Conflict(f"Category {other.id} is already called {other.name!r}.")
    return name


def _check_colour(raw: str) -> str:
    if not COLOUR.match(raw):
        raise InvalidInput(f"A colour is written #rrggbb, not {raw!r}", "$.color")
    return raw.lower()


def _check_hotkey(session: Session, project_id: int, category_id: int, raw: str) -> str | None:
    """One key, not reserved by the labeling page, not already another live category's."""
    hotkey = raw.strip()
    if not hotkey:
        return None
    if len(hotkey) > 1:
        raise InvalidInput(f"A hotkey is a single key, not {hotkey!r}", "$.hotkey")
    if hotkey.casefold() in RESERVED_HOTKEYS:
        raise InvalidInput(
            f"The key {hotkey!r} {RESERVED_HOTKEYS[hotkey.casefold()]} on the labeling page; "
            "choose another (a letter, for example)",
            "$.hotkey",
        )
    for other in live_categories(session, project_id):
        if other.id != category_id and (other.hotkey or "").casefold() == hotkey.casefold():
            raise Conflict(f"Hotkey {hotkey!r} is already used by {other.name!r}.")
    return hotkey


def create_initial(
    session: Session,
    project: Project,
    names: Sequence[str],
    actor_id: int,
    colors: Sequence[str] = (),
) -> LabelSchemaVersion:
    """The project's first categories (ids 1..n) and schema version 1.0.0; ``colors`` colour
    the first ones (the "red" category drawn red), the palette the rest."""
    assert project.id is not None
    for index, raw in enumerate(names):
        name = _check_name(session, project.id, raw, None)
        color = _check_colour(colors[index]) if index < len(colors) else None
        session.add(
            Category(
                project_id=project.id,
                id=index + 1,
                name=name,
                color=color or PALETTE[index % len(PALETTE)],
                display_order=index,
            )
        )
        session.flush()
    return _snapshot(session, project.id, None, "initial categories", actor_id)


def _new_category(
    session: Session, project_id: int, name: str, category_id: int | None, color: str | None
) -> Category:
    """One more category, last in display order, with ``category_id`` or the next id."""
    name = _check_name(session, project_id, name, None)
    highest = session.exec(
        select(func.max(Category.id)).where(col(Category.project_id) == project_id)
    ).one()
    if category_id is not None and session.get(Category, (project_id, category_id)) is not None:
        raise Conflict(f"Category id {category_id} is already used in project {project_id}.")
    next_order = session.exec(
        select(func.max(Category.display_order)).where(col(Category.project_id) == project_id)
    ).one()
    new_id = category_id if category_id is not None else (highest or 0) + 1
    category = Category(
        project_id=project_id,
        id=new_id,
        name=name,
        color=_check_colour(color) if color else PALETTE[(new_id - 1) % len(PALETTE)],
        display_order=(next_order if next_order is not None else -1) + 1,
    )
    session.add(category)
    session.flush()
    return category


def add_category(
    session: Session, project_id: int, name: str, actor_id: int, color: str | None = None
) -> Category:
    category = _new_category(session, project_id, name, None, color)
    change = f"added category {category.id} {category.name!r}"
    _snapshot(session, project_id, "minor", change, actor_id)
    return category


def add_categories(
    session: Session,
    project_id: int,
    wanted: Sequence[tuple[str, int | None]],
    actor_id: int,
    change: str,
) -> list[Category]:
    """Several categories (name, id or None) in one schema version, in the order given.

    A given id is kept (an id the project ever used is refused: ids are never reused); None
    gets the next id after the highest. An import brings its categories this way, so a file
    with its own ids keeps them."""
    for _, category_id in wanted:
        if category_id is not None and (isinstance(category_id, bool) or category_id < 1):
            raise InvalidInput(f"A category id is a whole number from 1, not {category_id!r}")
    given = [(n, i) for n, i in wanted if i is not None]
    created = [_new_category(session, project_id, n, i, None) for n, i in given]
    created += [_new_category(session, project_id, n, None, None) for n, i in wanted if i is None]
    order = {name.strip().casefold(): index for index, (name, _) in enumerate(wanted)}
    first = min(c.display_order for c in created) if created else 0
    for category in created:  # display order as given, ids as given
        category.display_order = first + order[category.name.casefold()]
        session.add(category)
    if created:
        _snapshot(session, project_id, "minor", change, actor_id)
    return sorted(created, key=lambda c: c.display_order)


def update_category(
    session: Session,
    project_id: int,
    category_id: int,
    actor_id: int,
    *,
    name: str | None = None,
    color: str | None = None,
    hotkey: str | None = None,
    display_order: int | None = None,
    deleted: bool | None = None,
) -> Category:
    """Change one category; its id never changes. Writes a schema version if anything changed."""
    category = session.get(Category, (project_id, category_id))
    if category is None:
        raise NotFound("category", category_id)
    changes: list[str] = []
    part: Bump = "patch"
    if deleted is not None and deleted != (category.deleted_at is not None):
        if deleted:
            category.deleted_at = utcnow()
            part = "major"
            changes.append("deleted")
        else:
            _check_name(session, project_id, category.name, category.id)
            category.deleted_at = None
            part = "minor"
            changes.append("restored")
    if name is not None and name.strip() != category.name:
        category.name = _check_name(session, project_id, name, category.id)
        part = "minor" if part == "patch" else part
        changes.append(f"renamed to {category.name!r}")
    if color and color.lower() != category.color:
        category.color = _check_colour(color)
        changes.append(f"colour {category.color}")
    if hotkey is not None and (hotkey.strip() or None) != category.hotkey:
        category.hotkey = _check_hotkey(session, project_id, category_id, hotkey)
        changes.append(f"hotkey {category.hotkey or 'none'}")
    if display_order is not None and display_order != category.display_order:
        category.display_order = display_order
        changes.append(f"moved to position {display_order}")
    if changes:
        session.add(category)
        _snapshot(
            session, project_id, part, f"category {category_id}: {', '.join(changes)}", actor_id
        )
    return category


def move_category(
    session: Session, project_id: int, category_id: int, direction: str, actor_id: int
) -> Category:
    """Swap a live category with its neighbour in display order (``"up"`` is towards the
    first). Only ``display_order`` changes, never an id; writes one schema version (patch).

    Moving the first category up or the last one down is refused with a message, as is
    moving a deleted category (restore it first)."""
    if direction not in ("up", "down"):
        raise InvalidInput(f"direction must be 'up' or 'down', not {direction!r}", "$.direction")
    category = session.get(Category, (project_id, category_id))
    if category is None:
        raise NotFound("category", category_id)
    if category.deleted_at is not None:
        raise InvalidInput(
            f"Category {category_id} ({category.name!r}) is deleted; restore it before moving it",
            "$.direction",
        )
    ordered = all_categories(session, project_id)
    live = [c for c in ordered if c.deleted_at is None]
    index = next(i for i, c in enumerate(live) if c.id == category_id)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(live):
        where = "first" if direction == "up" else "last"
        raise InvalidInput(
            f"Category {category_id} ({category.name!r}) is already {where}; "
            f"it cannot move {direction}",
            "$.direction",
        )
    neighbour = live[target]
    if category.display_order == neighbour.display_order:
        # Equal positions (possible through the API) cannot be swapped: number every
        # category 0..n-1 in its current order first, which keeps the order as shown.
        for position, each in enumerate(ordered):
            each.display_order = position
            session.add(each)
    category.display_order, neighbour.display_order = (
        neighbour.display_order,
        category.display_order,
    )
    session.add(category)
    session.add(neighbour)
    relation = "before" if direction == "up" else "after"
    change = (
        f"category {category_id}: moved {direction} "
        f"(now {relation} category {neighbour.id} {neighbour.name!r})"
    )
    _snapshot(session, project_id, "patch", change, actor_id)
    return category

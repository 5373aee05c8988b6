"""Categories and label schema versions in the core: ids assigned once per project, semver bumps
by kind of change, labels_hash over the live id→name pairs, and an immutable snapshot per change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import col, select

from scholia.core import labels, projects
from scholia.core.errors import Conflict, InvalidInput, NotFound
from scholia.core.models import AuditEvent, Category, LabelSchemaVersion, User
from scholia.core.runtime import Runtime


@pytest.fixture
def manager(make_user: Callable[..., User]) -> User:
    return make_user("manager")


@pytest.fixture
def new_project(runtime: Runtime, manager: User) -> Callable[..., int]:
    def make(categories: list[str] | None = None) -> int:
        with runtime.session() as session:
            project = projects.create_project(
                session,
                runtime.plugins,
                actor_id=manager.id,  # type: ignore[arg-type]
                name="Labels",
                modality="image",
                annotation_types=["rating"],
                categories=["cat", "dog", "bird"] if categories is None else categories,
            )
            assert project.id is not None
            return project.id

    return make


@pytest.fixture
def project_id(new_project: Callable[..., int]) -> int:
    return new_project()


def change(
    runtime: Runtime, project_id: int, manager: User, category_id: int, **fields: Any
) -> None:
    with runtime.session() as session:
        labels.update_category(session, project_id, category_id, manager.id, **fields)  # type: ignore[arg-type]


def add(runtime: Runtime, project_id: int, manager: User, name: str) -> int:
    with runtime.session() as session:
        category = labels.add_category(session, project_id, name, manager.id)  # type: ignore[arg-type]
        return category.id


def schema(runtime: Runtime, project_id: int) -> LabelSchemaVersion:
    with runtime.session() as session:
        return labels.current_schema(session, project_id)


def history(runtime: Runtime, project_id: int) -> list[LabelSchemaVersion]:
    with runtime.session() as session:
        return list(
            session.exec(
                select(LabelSchemaVersion)
                .where(col(LabelSchemaVersion.project_id) == project_id)
                .order_by(col(LabelSchemaVersion.id))
            )
        )


# --- the rules as functions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "part", "bumped"),
    [
        ("1.0.0", "patch", "1.0.1"),
        ("1.4.2", "minor", "1.5.0"),
        ("1.4.2", "major", "2.0.0"),
        ("2.9.9", "patch", "2.9.10"),
    ],
)
def test_bumping_a_part_resets_the_parts_after_it(version: str, part: Any, bumped: str) -> None:
    assert labels.bump(version, part) == bumped


def test_labels_hash_depends_on_live_ids_and_names_only() -> None:
    def category(id: int, name: str, order: int = 0, deleted: bool = False) -> Category:
        from scholia.core.models.types import utcnow

        return Category(
            project_id=1,
            id=id,
            name=name,
            color="#000000",
            display_order=order,
            deleted_at=utcnow() if deleted else None,
        )

    base = labels.labels_hash([category(1, "cat"), category(2, "dog")])
    assert labels.labels_hash([category(2, "dog", 0), category(1, "cat", 5)]) == base
    assert (
        labels.labels_hash([category(1, "cat"), category(2, "dog"), category(3, "x", deleted=True)])
        == base
    )
    assert labels.labels_hash([category(1, "dog"), category(2, "cat")]) != base
    assert labels.labels_hash([category(1, "cat"), category(2, "puppy")]) != base
    assert labels.labels_hash([category(1, "cat")]) != base


# --- versions written by changes ------------------------------------------------------------


def test_every_kind_of_change_bumps_the_version_the_docstring_promises(
    runtime: Runtime, project_id: int, manager: User
) -> None:
    add(runtime, project_id, manager, "fish")
    change(runtime, project_id, manager, 4, display_order=0)
    change(runtime, project_id, manager, 2, deleted=True)
    change(runtime, project_id, manager, 2, deleted=False)
    change(runtime, project_id, manager, 1, name="kitten")
    change(runtime, project_id, manager, 1, color="#111111")
    change(runtime, project_id, manager, 1, hotkey="k")
    versions = [v.schema_version for v in history(runtime, project_id)]
    assert versions == ["1.0.0", "1.1.0", "1.1.1", "2.0.0", "2.1.0", "2.2.0", "2.2.1", "2.2.2"]


def test_the_labels_hash_changes_exactly_when_the_live_names_change(
    runtime: Runtime, project_id: int, manager: User
) -> None:
    add(runtime, project_id, manager, "fish")  # changes
    change(runtime, project_id, manager, 4, display_order=0)  # same
    change(runtime, project_id, manager, 2, deleted=True)  # changes
    change(runtime, project_id, manager, 2, deleted=False)  # back to the hash after "fish"
    change(runtime, project_id, manager, 1, color="#111111")  # same
    hashes = [v.labels_hash for v in history(runtime, project_id)]
    assert hashes[0] != hashes[1]
    assert hashes[2] == hashes[1]
    assert hashes[3] not in (hashes[1], hashes[0])
    assert hashes[4] == hashes[1]
    assert hashes[5] == hashes[4]


def test_a_change_that_deletes_and_renames_at_once_is_major(
    runtime: Runtime, project_id: int, manager: User
) -> None:
    change(runtime, project_id, manager, 3, name="parrot", deleted=True)
    assert schema(runtime, project_id).schema_version == "2.0.0"


def test_a_change_that_renames_and_recolours_at_once_is_minor(
    runtime: Runtime, project_id: int, manager: User
) -> None:
    change(runtime, project_id, manager, 3, name="parrot", color="#00ff00")
    assert schema(runtime, project_id).schema_version == "1.1.0"


def test_older_snapshots_keep_the_categories_as_they_were(
    runtime: Runtime, project_id: int, manager: User
) -> None:
    change(runtime, project_id, manager, 2, name="puppy")
    change(runtime, project_id, manager, 3, deleted=True)
    first, renamed, deleted = history(runtime, project_id)
    assert [(c["id"], c["name"], c["deleted"]) for c in first.categories] == [
        (1, "cat", False),
        (2, "dog", False),
        (3, "bird", False),
    ]
    assert [c["name"] for c in renamed.categories] == ["cat", "puppy", "bird"]
    assert [(c["id"], c["deleted"]) for c in deleted.categories] == [
        (1, False),
        (2, False),
        (3, True),
    ]
    assert "renamed to 'puppy'" in renamed.change
    assert "deleted" in deleted.change


def test_each_schema_version_is_recorded_in_the_audit_log_with_who_made_it(
    runtime: Runtime, project_id: int, manager: User
) -> None:
    add(runtime, project_id, manager, "fish")
    with runtime.session() as session:
        events = list(
            session.exec(
                select(AuditEvent)
                .where(
                    col(AuditEvent.entity) == "label_schema",
                    col(AuditEvent.project_id) == project_id,
                )
                .order_by(col(AuditEvent.id))
            )
        )
    assert [(e.action, e.data["schema_version"], e.actor_id) for e in events] == [
        ("version", "1.0.0", manager.id),
        ("version", "1.1.0", manager.id),
    ]
    assert events[1].reason == "added category 4 'fish'"


def test_initial_categories_get_a_palette_colour_and_no_hotkey_of_their_own(
    runtime: Runtime, project_id: int
) -> None:
    """Digits pick by display position on the labeling page; a hotkey is an extra key."""
    with runtime.session() as session:
        found = labels.live_categories(session, project_id)
    assert [(c.color, c.hotkey) for c in found] == [
        (labels.PALETTE[0], None),
        (labels.PALETTE[1], None),
        (labels.PALETTE[2], None),
    ]


def test_clearing_a_hotkey_removes_it(runtime: Runtime, project_id: int, manager: User) -> None:
    change(runtime, project_id, manager, 1, hotkey="k")
    change(runtime, project_id, manager, 1, hotkey="")
    with runtime.session() as session:
        category = session.get(Category, (project_id, 1))
        assert category is not None and category.hotkey is None
    assert schema(runtime, project_id).schema_version == "1.0.2"


# --- ids --------------------------------------------------------------------------------------


def test_category_ids_are_numbered_per_project(
    runtime: Runtime, new_project: Callable[..., int], manager: User
) -> None:
    first = new_project(["a", "b", "c", "d"])
    second = new_project(["x"])
    assert add(runtime, first, manager, "e") == 5
    assert add(runtime, second, manager, "y") == 2


def test_a_project_without_categories_starts_at_1_0_0_and_its_first_category_is_id_1(
    runtime: Runtime, new_project: Callable[..., int], manager: User
) -> None:
    project_id = new_project([])
    assert schema(runtime, project_id).schema_version == "1.0.0"
    assert add(runtime, project_id, manager, "only") == 1
    assert schema(runtime, project_id).schema_version == "1.1.0"


def test_deleting_the_newest_category_does_not_free_its_id(
    runtime: Runtime, project_id: int, manager: User
) -> None:
    newest = add(runtime, project_id, manager, "fish")
    change(runtime, project_id, manager, newest, deleted=True)
    assert add(runtime, project_id, manager, "eel") == newest + 1


# --- refusals change nothing ----------------------------------------------------------------


def test_a_name_longer_than_200_characters_is_refused_at_name(
    runtime: Runtime, project_id: int, manager: User
) -> None:
    with pytest.raises(InvalidInput) as raised, runtime.session() as session:
        labels.add_category(session, project_id, "x" * 201, manager.id)  # type: ignore[arg-type]
    assert raised.value.path == "$.name"
    assert "200" in raised.value.reason
    assert len(history(runtime, project_id)) == 1


def test_a_duplicate_name_is_refused_case_insensitively_and_writes_no_version(
    runtime: Runtime, project_id: int, manager: User
) -> None:
    with pytest.raises(Conflict, match="Category 3 is already called 'bird'"):
        add(runtime, project_id, manager, "BIRD")
    assert len(history(runtime, project_id)) == 1


def test_changing_an_unknown_category_is_not_found(
    runtime: Runtime, project_id: int, manager: User
) -> None:
    with pytest.raises(NotFound, match="No category with id 9"):
        change(runtime, project_id, manager, 9, name="ghost")


def test_a_category_of_another_project_cannot_be_changed_through_this_one(
    runtime: Runtime, new_project: Callable[..., int], manager: User
) -> None:
    first = new_project(["a"])
    second = new_project(["x", "y"])
    with pytest.raises(NotFound):
        change(runtime, first, manager, 2, name="z")
    with runtime.session() as session:
        assert [c.name for c in labels.live_categories(session, second)] == ["x", "y"]

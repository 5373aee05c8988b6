"""`scholia import PROJECT PATH...`: folders, globs, refusals by name, re-runs, exit codes."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from PIL import Image
from sqlalchemy import func
from sqlmodel import col, select

from scholia.core import identity, projects
from scholia.core.models import AuditEvent, Item, User
from scholia.core.runtime import Runtime
from scholia.server.cli import main
from tests.conftest import PASSWORD, add_member


def image_bytes(index: int, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (index * 7 % 256, 90, 255 - index * 5 % 256)).save(out, format=fmt)
    return out.getvalue()


def make_project(runtime: Runtime, *roles: str) -> tuple[User, int]:
    with runtime.session() as session:
        user = identity.create_user(
            session,
            username=f"importer-{uuid.uuid4().hex[:6]}",
            password=PASSWORD,
            roles=roles or ("admin",),
        )
        assert user.id is not None
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=user.id,
            name="Imported",
            modality="image",
            annotation_types=("classification",),
        )
        assert project.id is not None
        return user, project.id


def run(runtime: Runtime, *args: str) -> Result:
    """``scholia import ...`` in-process against the test's database and data directory."""
    return CliRunner().invoke(
        main,
        ["import", *args, "--data-dir", str(runtime.settings.data_dir)],
        env={"SCHOLIA_DATABASE_URL": runtime.settings.database_url},
        catch_exceptions=False,
    )


def item_count(runtime: Runtime, project_id: int) -> int:
    with runtime.session() as session:
        return session.exec(
            select(func.count()).select_from(Item).where(col(Item.project_id) == project_id)
        ).one()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """5 PNGs in a/, 3 JPEGs in b/sub/, a text file, a truncated PNG and an empty PNG."""
    root = tmp_path / "photos"
    (root / "a").mkdir(parents=True)
    (root / "b" / "sub").mkdir(parents=True)
    for i in range(5):
        (root / "a" / f"p{i}.png").write_bytes(image_bytes(i))
    for i in range(5, 8):
        (root / "b" / "sub" / f"j{i}.jpg").write_bytes(image_bytes(i, "JPEG"))
    (root / "notes.txt").write_text("not an image")
    whole = image_bytes(99)
    (root / "b" / "truncated.png").write_bytes(whole[: len(whole) // 2])
    (root / "b" / "empty.png").write_bytes(b"")
    return root


def test_folder_import_reports_refusals_by_name_and_rerun_adds_no_duplicates(
    runtime: Runtime, tree: Path
) -> None:
    _, project_id = make_project(runtime)

    result = run(runtime, str(project_id), str(tree))
    assert result.exit_code == 1, result.output
    out = result.output
    assert "skipped: 1 not image files" in out
    assert "added: 8 · already in the project: 0 · refused: 2" in out
    assert "Refused 2 files:" in out
    assert "truncated.png' cannot be read: damaged or truncated PNG file" in out
    assert "empty.png' is empty (0 bytes)" in out
    assert "notes.txt" not in out  # skipped by extension, not an error
    assert item_count(runtime, project_id) == 8

    again = run(runtime, str(project_id), str(tree))
    assert again.exit_code == 1, again.output
    assert "added: 0 · already in the project: 8 · refused: 2" in again.output
    assert item_count(runtime, project_id) == 8


def test_globs_expanded_by_the_command_and_no_file_counted_twice(
    runtime: Runtime, tree: Path
) -> None:
    user, project_id = make_project(runtime)
    # Quoted globs reach the command unexpanded; the same files named twice count once.
    result = run(
        runtime,
        str(project_id),
        str(tree / "**" / "*.jpg"),
        str(tree / "a" / "p[0-2].png"),
        str(tree / "a" / "p0.png"),
        "--as",
        user.username,
    )
    assert result.exit_code == 0, result.output
    assert "added: 6 · already in the project: 0 · refused: 0" in result.output
    assert "Refused" not in result.output
    assert item_count(runtime, project_id) == 6
    with runtime.session() as session:
        actors = set(
            session.exec(
                select(AuditEvent.actor_id).where(
                    col(AuditEvent.entity) == "item", col(AuditEvent.action) == "ingest"
                )
            )
        )
    assert actors == {user.id}

    rest = run(runtime, str(project_id), str(tree / "a"))
    assert rest.exit_code == 0, rest.output
    assert "added: 2 · already in the project: 3 · refused: 0" in rest.output
    assert item_count(runtime, project_id) == 8


def test_progress_is_plain_lines_when_not_a_terminal(runtime: Runtime, tree: Path) -> None:
    _, project_id = make_project(runtime)
    result = run(runtime, str(project_id), str(tree / "a"))
    assert result.exit_code == 0, result.output
    assert "import: 5/5 files (100%)" in result.output
    assert "files/s, ETA" in result.output
    assert "\x1b[" not in result.output  # no terminal control codes in a log
    assert "━" not in result.output


def test_usage_errors_exit_2_with_a_clear_message(
    runtime: Runtime, tree: Path, tmp_path: Path
) -> None:
    _, project_id = make_project(runtime)

    unknown = run(runtime, "4242", str(tree))
    assert unknown.exit_code == 2
    assert "no project with id 4242" in unknown.output

    missing = run(runtime, str(project_id), str(tmp_path / "nowhere"))
    assert missing.exit_code == 2
    assert "nowhere': no such file or folder" in missing.output

    no_match = run(runtime, str(project_id), str(tmp_path / "*.png"))
    assert no_match.exit_code == 2
    assert "matches no file" in no_match.output

    nobody = run(runtime, str(project_id), str(tree), "--as", "ghost")
    assert nobody.exit_code == 2
    assert "no user named 'ghost'" in nobody.output

    not_an_id = run(runtime, "photos", str(tree))
    assert not_an_id.exit_code == 2

    no_paths = run(runtime, str(project_id))
    assert no_paths.exit_code == 2
    assert item_count(runtime, project_id) == 0


def test_annotator_may_not_import(runtime: Runtime, tree: Path) -> None:
    _, project_id = make_project(runtime, "manager")
    with runtime.session() as session:
        annotator = identity.create_user(
            session, username="annotator-1", password=PASSWORD, roles=("annotator",)
        )
    add_member(runtime, project_id, annotator)
    result = run(runtime, str(project_id), str(tree), "--as", annotator.username)
    assert result.exit_code == 2
    assert "is not a manager of project" in result.output
    assert "annotator" in result.output
    # A manager of another project is no manager of this one.
    other, _ = make_project(runtime, "manager")
    assert "not a member" in run(runtime, str(project_id), str(tree), "--as", other.username).output
    # With no admin at all the default actor is refused too, with the way out named.
    default = run(runtime, str(project_id), str(tree))
    assert default.exit_code == 2
    assert "--as USERNAME" in default.output
    assert item_count(runtime, project_id) == 0


def test_no_user_at_all_says_how_to_create_one(runtime: Runtime, tree: Path) -> None:
    result = run(runtime, "1", str(tree))
    assert result.exit_code == 2
    assert "there is no user yet" in result.output
    assert "scholia users create" in result.output

"""Importing COCO and Label Studio exports: into a new project with the file's category ids,
round trips that give the same labels, re-runs that duplicate nothing, and bad files that are
refused with where they are wrong, leaving what the project held untouched."""

from __future__ import annotations

import json
import shutil
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import func
from sqlmodel import col, select

from scholia.core import exports, identity, imports, labels, projects, review
from scholia.core.errors import Conflict, InvalidInput
from scholia.core.models import Annotation, AnnotationSource, Item, Project, User
from scholia.core.runtime import Runtime
from scholia.server.cli import main

from .conftest import PASSWORD, add_member, export, png_bytes, relabel


def new_project(runtime: Runtime, categories: tuple[str, ...] = ()) -> tuple[User, Project]:
    """An admin and a classification project on images, with ``categories`` (ids 1..n)."""
    with runtime.session() as session:
        user = identity.create_user(
            session,
            username=f"importer-{uuid.uuid4().hex[:8]}",
            password=PASSWORD,
            roles=("admin",),
        )
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=user.id,  # type: ignore[arg-type]
            name="Imported",
            modality="image",
            annotation_types=("classification",),
            categories=categories,
        )
    return user, project


def run(
    runtime: Runtime, project: Project, user: User, format_name: str, source: Path
) -> imports.ImportResult:
    with imports.read(runtime, format_name, source) as dataset:
        return imports.apply(
            runtime,
            project.id,  # type: ignore[arg-type]
            dataset,
            actor_id=user.id,  # type: ignore[arg-type]
            origin=f"{format_name} {source.name}",
        )


def categories_of(runtime: Runtime, project: Project) -> list[tuple[int, str]]:
    with runtime.reading() as session:
        return [(c.id, c.name) for c in labels.live_categories(session, project.id)]  # type: ignore[arg-type]


def item_count(runtime: Runtime, project: Project) -> int:
    with runtime.reading() as session:
        return int(
            session.exec(
                select(func.count()).select_from(Item).where(col(Item.project_id) == project.id)
            ).one()
        )


def approve_all(runtime: Runtime, project: Project, reviewer: User) -> None:
    with runtime.session() as session:
        ids = session.exec(select(Item.id).where(col(Item.project_id) == project.id)).all()
        review.decide(session, item_ids=ids, decision="approved", reviewer_id=reviewer.id)  # type: ignore[arg-type]


def coco_labels(folder: Path) -> dict[str, list[str]]:
    """Category names per file name (without the ``<item id>-`` an export puts before it)."""
    coco = json.loads((folder / "annotations.json").read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    files = {i["id"]: Path(i["file_name"]).name.split("-", 1)[1] for i in coco["images"]}
    found: dict[str, list[str]] = {name: [] for name in files.values()}
    for annotation in coco["annotations"]:
        found[files[annotation["image_id"]]].append(names[annotation["category_id"]])
    return found


def label_studio_labels(folder: Path) -> dict[str, list[str]]:
    tasks = json.loads((folder / "tasks.json").read_text())
    return {
        Path(t["data"]["image"]).name.split("-", 1)[1]: t["annotations"][0]["result"][0]["value"][
            "choices"
        ]
        for t in tasks
    }


@pytest.fixture
def coco_export(runtime: Runtime, labeled: dict[str, Any], tmp_path: Path) -> Path:
    """The labeled project's version written as COCO, with categories 1 cat, 2 dog, 3 bird and 5 owl
    (4 was deleted), owl on the first image: ids that are not simply 1..n."""
    project_id = labeled["project"].id
    owner = labeled["owner"].id
    with runtime.session() as session:
        fox = labels.add_category(session, project_id, "fox", owner)
        labels.add_category(session, project_id, "owl", owner)
        labels.update_category(session, project_id, fox.id, owner, deleted=True)
    relabel(runtime, labeled, labeled["ids"][0], [5])
    version = export(runtime, project_id)
    return exports.write(runtime, version.id, "coco", tmp_path / "coco-export")  # type: ignore[arg-type]


def zipped(folder: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"export/{path.relative_to(folder).as_posix()}")
    return out


def copy_of(folder: Path, out: Path) -> Path:
    shutil.copytree(folder, out)
    return out


# --- into a new project, and back out --------------------------------------------------------


def test_a_coco_export_imported_into_a_new_project_keeps_its_category_ids(
    runtime: Runtime, coco_export: Path
) -> None:
    user, project = new_project(runtime)
    result = run(runtime, project, user, "coco", coco_export)
    assert categories_of(runtime, project) == [(1, "cat"), (2, "dog"), (3, "bird"), (5, "owl")]
    assert (result.items_created, result.annotations_created, result.problems) == (4, 4, [])
    with runtime.reading() as session:
        stored = session.exec(select(Annotation).where(col(Annotation.project_id) == project.id))
        imported = list(stored)
        states = set(session.exec(select(Item.status).where(col(Item.project_id) == project.id)))
    assert {a.source for a in imported} == {AnnotationSource.imported}
    assert {a.annotator_id for a in imported} == {user.id}
    assert all(a.reasoning == f"Imported from coco {coco_export.name}" for a in imported)
    assert states == {"labeled"}


def test_coco_round_trip_gives_the_same_labels_and_category_ids(
    runtime: Runtime, coco_export: Path, make_user: Callable[..., User], tmp_path: Path
) -> None:
    user, project = new_project(runtime)
    run(runtime, project, user, "coco", coco_export)
    approve_all(runtime, project, make_user("reviewer"))
    version = export(runtime, project.id)  # type: ignore[arg-type]
    again = exports.write(runtime, version.id, "coco", tmp_path / "again")  # type: ignore[arg-type]
    assert coco_labels(again) == coco_labels(coco_export)
    assert coco_labels(coco_export)["seed.png"] == ["owl"]
    first = json.loads((coco_export / "annotations.json").read_text())["categories"]
    assert json.loads((again / "annotations.json").read_text())["categories"] == first


def test_label_studio_round_trip_keeps_every_label_and_the_annotator(
    runtime: Runtime,
    labeled: dict[str, Any],
    tmp_path: Path,
    make_user: Callable[..., User],
) -> None:
    version = export(runtime, labeled["project"].id)
    out = exports.write(runtime, version.id, "label-studio", tmp_path / "ls")  # type: ignore[arg-type]
    user, project = new_project(runtime)
    result = run(runtime, project, user, "label-studio", out / "tasks.json")
    assert (result.items_created, result.annotations_created, result.problems) == (4, 4, [])
    assert categories_of(runtime, project) == [(1, "cat"), (2, "dog"), (3, "bird")]
    with runtime.reading() as session:
        reasons = set(
            session.exec(
                select(Annotation.reasoning).where(col(Annotation.project_id) == project.id)
            )
        )
    pseudonym = labeled["annotator"].pseudonym
    assert reasons == {
        f"Imported from label-studio tasks.json; annotated by {pseudonym} in the source"
    }
    approve_all(runtime, project, make_user("reviewer"))
    again = export(runtime, project.id)  # type: ignore[arg-type]
    back = exports.write(runtime, again.id, "label-studio", tmp_path / "back")  # type: ignore[arg-type]
    assert label_studio_labels(back) == label_studio_labels(out)
    assert (back / "label_config.xml").read_text() == (out / "label_config.xml").read_text()


def test_a_zip_of_the_export_imports_like_its_folder(
    runtime: Runtime, coco_export: Path, tmp_path: Path
) -> None:
    user, project = new_project(runtime)
    result = run(runtime, project, user, "coco", zipped(coco_export, tmp_path / "export.zip"))
    assert (result.items_created, result.annotations_created, result.problems) == (4, 4, [])
    assert not any((runtime.settings.data_dir / "imports").iterdir())  # scratch removed


def test_importing_the_same_export_again_adds_nothing(runtime: Runtime, coco_export: Path) -> None:
    user, project = new_project(runtime)
    run(runtime, project, user, "coco", coco_export)
    again = run(runtime, project, user, "coco", coco_export)
    assert again.categories_created == [] and again.categories_matched == [1, 2, 3, 5]
    assert (again.items_created, again.items_existing) == (0, 4)
    assert (again.annotations_created, again.annotations_existing) == (0, 4)
    assert item_count(runtime, project) == 4


def test_a_label_studio_export_made_by_label_studio_is_read(
    runtime: Runtime, tmp_path: Path
) -> None:
    """Label Studio's own export: upload URLs, a cancelled and a ground-truth annotation,
    ``completed_by`` as a user id, and a box result this import does not read yet."""
    folder = tmp_path / "from-label-studio"
    folder.mkdir()
    (folder / "0f3a9b1c-cat.png").write_bytes(png_bytes((10, 20, 30)))
    (folder / "d41d8cd9-dog.png").write_bytes(png_bytes((40, 50, 60)))

    def choice(name: str) -> dict[str, Any]:
        return {
            "from_name": "choice",
            "to_name": "image",
            "type": "choices",
            "value": {"choices": [name]},
        }

    box = {"type": "rectanglelabels", "value": {"x": 1, "y": 2, "rectanglelabels": ["dog"]}}
    tasks = [
        {
            "id": 7,
            "data": {"image": "/data/upload/1/0f3a9b1c-cat.png"},
            "annotations": [
                {"completed_by": 3, "result": [choice("dog")], "was_cancelled": True},
                {"completed_by": 4, "result": [choice("cat")], "ground_truth": False},
                {"completed_by": 5, "result": [choice("lynx")], "ground_truth": True},
            ],
        },
        {
            "id": 8,
            "data": {"image": "http://localhost:8080/data/upload/1/d41d8cd9-dog.png"},
            "annotations": [{"completed_by": {"email": "a@b.org"}, "result": [choice("dog"), box]}],
        },
    ]
    (folder / "export.json").write_text(json.dumps(tasks))
    user, project = new_project(runtime)
    result = run(runtime, project, user, "label-studio", folder / "export.json")
    assert categories_of(runtime, project) == [(1, "lynx"), (2, "cat"), (3, "dog")]
    assert (result.items_created, result.annotations_created) == (2, 2)
    assert [(p.where, p.message.split(";")[0]) for p in result.problems] == [
        (
            "export.json $[1].annotations[0].result[1]",
            "a 'rectanglelabels' result is not imported yet (only choices)",
        ),
        (
            "export.json $[0].annotations[1]",
            "a second classification annotation on '0f3a9b1c-cat.png' was left out: an import "
            "brings one per item and type (the first)",
        ),
    ]
    with runtime.reading() as session:
        reasons = sorted(
            session.exec(
                select(Annotation.reasoning).where(col(Annotation.project_id) == project.id)
            )
        )
    assert reasons == [
        "Imported from label-studio export.json; annotated by Label Studio user 5 in the source",
        "Imported from label-studio export.json; annotated by Label Studio user a@b.org in the "
        "source",
    ]


# --- into a project that has categories ------------------------------------------------------


def test_categories_are_matched_by_name_where_the_ids_agree(
    runtime: Runtime, coco_export: Path
) -> None:
    user, project = new_project(runtime, ("cat", "dog"))
    result = run(runtime, project, user, "coco", coco_export)
    assert (result.categories_matched, result.categories_created) == ([1, 2], [3, 5])
    assert categories_of(runtime, project) == [(1, "cat"), (2, "dog"), (3, "bird"), (5, "owl")]


def test_label_studio_categories_without_ids_match_by_name_or_get_the_next_id(
    runtime: Runtime, labeled: dict[str, Any], tmp_path: Path
) -> None:
    version = export(runtime, labeled["project"].id)
    out = exports.write(runtime, version.id, "label-studio", tmp_path / "ls")  # type: ignore[arg-type]
    user, project = new_project(runtime, ("owl", "Bird"))
    result = run(runtime, project, user, "label-studio", out)
    assert categories_of(runtime, project) == [(1, "owl"), (2, "Bird"), (3, "cat"), (4, "dog")]
    assert result.categories_matched == [2] and result.problems == []


def test_a_category_id_clash_refuses_the_whole_file(runtime: Runtime, coco_export: Path) -> None:
    user, project = new_project(runtime, ("dog", "cat"))
    with pytest.raises(Conflict) as refused:
        run(runtime, project, user, "coco", coco_export)
    message = str(refused.value)
    assert "'cat' is category 1 in the file but 2 here" in message
    assert "nothing was imported" in message and "Import into a new project" in message
    assert categories_of(runtime, project) == [(1, "dog"), (2, "cat")]
    assert item_count(runtime, project) == 0


def test_annotation_types_the_project_does_not_enable_refuse_the_file(
    runtime: Runtime, coco_export: Path
) -> None:
    with runtime.session() as session:
        user = identity.create_user(session, username="rater", password=PASSWORD, roles=("admin",))
        project = projects.create_project(
            session,
            runtime.plugins,
            actor_id=user.id,
            name="Ratings",  # type: ignore[arg-type]
            modality="image",
            annotation_types=("rating",),
        )
    with pytest.raises(InvalidInput, match="holds classification annotations, which project"):
        run(runtime, project, user, "coco", coco_export)
    assert categories_of(runtime, project) == [] and item_count(runtime, project) == 0


# --- bad files ---------------------------------------------------------------------------------


def test_malformed_json_is_refused_with_its_line_and_column(
    runtime: Runtime, coco_export: Path, tmp_path: Path
) -> None:
    broken = copy_of(coco_export, tmp_path / "broken")
    (broken / "annotations.json").write_text('{"images": [\n  {"id": 1,, "file_name": "x"}]}')
    user, project = new_project(runtime)
    with pytest.raises(InvalidInput) as refused:
        run(runtime, project, user, "coco", broken)
    assert str(refused.value) == (
        "annotations.json is not valid JSON: Expecting property name enclosed in double quotes "
        "at line 2, column 12; nothing was imported"
    )
    assert item_count(runtime, project) == 0 and categories_of(runtime, project) == []


def test_a_json_of_the_wrong_shape_says_where(
    runtime: Runtime, coco_export: Path, tmp_path: Path
) -> None:
    wrong = copy_of(coco_export, tmp_path / "wrong")
    coco = json.loads((wrong / "annotations.json").read_text())
    coco["images"][1]["id"] = "two"
    (wrong / "annotations.json").write_text(json.dumps(coco))
    user, project = new_project(runtime)
    with pytest.raises(InvalidInput) as refused:
        run(runtime, project, user, "coco", wrong)
    assert refused.value.path == "$.images[1].id"
    assert "annotations.json is not in COCO form" in str(refused.value)
    assert "Expected `int`, got `str`" in str(refused.value)
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps({"data": {"image": "a.png"}}))
    with pytest.raises(InvalidInput, match=r"not a Label Studio export .* got `object`"):
        run(runtime, project, user, "label-studio", tasks)
    assert item_count(runtime, project) == 0


def test_missing_media_and_unknown_categories_leave_out_those_images_only(
    runtime: Runtime, coco_export: Path, tmp_path: Path
) -> None:
    bad = copy_of(coco_export, tmp_path / "bad")
    coco = json.loads((bad / "annotations.json").read_text())
    missing, unknown = coco["images"][1], coco["images"][2]
    (bad / missing["file_name"]).unlink()
    at = next(i for i, a in enumerate(coco["annotations"]) if a["image_id"] == unknown["id"])
    coco["annotations"][at]["category_id"] = 99
    (bad / "annotations.json").write_text(json.dumps(coco))
    user, project = new_project(runtime)
    result = run(runtime, project, user, "coco", bad)
    assert (result.items_created, result.annotations_created) == (2, 2)
    assert sorted((p.where, p.message) for p in result.problems) == sorted(
        [
            (
                f"annotations.json $.images[1] ({missing['file_name']})",
                f"no media file {missing['file_name']!r} beside the file; add it and import again",
            ),
            (
                f"annotations.json $.images[2] ({unknown['file_name']})",
                f"left out: $.annotations[{at}] refers to category 99, which $.categories does "
                "not list",
            ),
        ]
    )


def test_a_media_path_leaving_the_export_folder_is_not_read(
    runtime: Runtime, coco_export: Path, tmp_path: Path
) -> None:
    bad = copy_of(coco_export, tmp_path / "bad")
    secret = tmp_path / "secret.png"
    shutil.copyfile(
        bad / json.loads((bad / "annotations.json").read_text())["images"][0]["file_name"], secret
    )
    coco = json.loads((bad / "annotations.json").read_text())
    coco["images"][0]["file_name"] = "../secret.png"
    (bad / "annotations.json").write_text(json.dumps(coco))
    user, project = new_project(runtime)
    result = run(runtime, project, user, "coco", bad)
    assert result.items_created == 3
    assert [p.message for p in result.problems] == [
        "the media file lies outside the folder being imported; only files inside it are read"
    ]


@pytest.mark.parametrize("member", ["../escaped.png", "/tmp/absolute.png"])
def test_a_zip_whose_paths_escape_is_refused_and_nothing_existing_is_lost(
    runtime: Runtime, coco_export: Path, tmp_path: Path, member: str
) -> None:
    user, project = new_project(runtime)
    run(runtime, project, user, "coco", coco_export)
    archive = zipped(coco_export, tmp_path / "evil.zip")
    with zipfile.ZipFile(archive, "a") as appended:
        appended.writestr(zipfile.ZipInfo(member), b"not really an image")
    with pytest.raises(InvalidInput) as refused:
        run(runtime, project, user, "coco", archive)
    assert f"member {member!r}" in str(refused.value) and "nothing was imported" in str(
        refused.value
    )
    assert not (tmp_path / "escaped.png").exists() and not Path("/tmp/absolute.png").exists()
    assert item_count(runtime, project) == 4
    assert categories_of(runtime, project) == [(1, "cat"), (2, "dog"), (3, "bird"), (5, "owl")]


def test_a_zip_holding_a_symbolic_link_is_refused(
    runtime: Runtime, coco_export: Path, tmp_path: Path
) -> None:
    archive = zipped(coco_export, tmp_path / "linked.zip")
    link = zipfile.ZipInfo("export/images/link.png")
    link.external_attr = 0o120777 << 16
    with zipfile.ZipFile(archive, "a") as appended:
        appended.writestr(link, "/etc/passwd")
    user, project = new_project(runtime)
    with pytest.raises(InvalidInput, match="is a symbolic link"):
        run(runtime, project, user, "coco", archive)
    assert item_count(runtime, project) == 0


def test_an_unknown_format_name_lists_the_installed_ones(
    runtime: Runtime, coco_export: Path
) -> None:
    with pytest.raises(InvalidInput) as refused, imports.read(runtime, "cvat", coco_export):
        pass
    assert str(refused.value) == (
        "Unknown import format 'cvat' (installed: coco, label-studio) (at $.format)"
    )


# --- the command line and the API --------------------------------------------------------------


def cli(runtime: Runtime, *args: str) -> Any:
    return CliRunner().invoke(
        main,
        ["import", *args, "--data-dir", str(runtime.settings.data_dir)],
        env={"SCHOLIA_DATABASE_URL": runtime.settings.database_url},
        catch_exceptions=False,
    )


def test_scholia_import_format_reads_an_export_and_sums_it_up(
    runtime: Runtime, coco_export: Path, tmp_path: Path
) -> None:
    user, project = new_project(runtime)
    done = cli(
        runtime, str(project.id), "--format", "coco", str(coco_export), "--as", user.username
    )
    assert done.exit_code == 0, done.output
    assert (
        "categories: 4 created, 0 matched · items: 4 added, 0 already in the project" in done.output
    )
    assert "annotations: 4 added, 0 already imported" in done.output
    broken = copy_of(coco_export, tmp_path / "broken")
    first = json.loads((broken / "annotations.json").read_text())["images"][0]["file_name"]
    (broken / first).unlink()
    other = new_project(runtime)[1]
    partly = cli(runtime, str(other.id), "--format", "coco", str(broken))
    assert partly.exit_code == 1
    assert f"no media file {first!r}" in partly.output
    unknown = cli(runtime, str(project.id), "--format", "cvat", str(coco_export))
    assert unknown.exit_code == 2 and "Unknown import format 'cvat'" in unknown.output


def test_the_api_imports_an_uploaded_zip_and_reports_problems(
    runtime: Runtime,
    coco_export: Path,
    tmp_path: Path,
    api_for: Callable[..., TestClient[Any]],
) -> None:
    _, project = new_project(runtime)
    manager = api_for("manager", project=project)
    bad = copy_of(coco_export, tmp_path / "bad")
    first = json.loads((bad / "annotations.json").read_text())["images"][0]["file_name"]
    (bad / first).unlink()
    archive = zipped(bad, tmp_path / "export.zip").read_bytes()
    response = manager.post(
        f"/api/v1/projects/{project.id}/imports",
        data={"format": "coco"},
        files=[("file", ("export.zip", archive, "application/zip"))],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["counts"]["items_created"] == 3 and body["counts"]["annotations_created"] == 3
    assert body["categories_created"] == [1, 2, 3, 5]
    assert [p["where"] for p in body["problems"]] == [f"annotations.json $.images[0] ({first})"]
    unknown = manager.post(
        f"/api/v1/projects/{project.id}/imports",
        data={"format": "cvat"},
        files=[("file", ("export.zip", archive, "application/zip"))],
    )
    assert unknown.status_code == 422 and "installed: coco, label-studio" in unknown.text
    not_zip = manager.post(
        f"/api/v1/projects/{project.id}/imports",
        data={"format": "coco"},
        files=[("file", ("annotations.json", b"{}", "application/json"))],
    )
    assert not_zip.status_code == 422 and "a .zip" in not_zip.text
    _, clashing = new_project(runtime, ("dog", "cat"))
    add_member(runtime, clashing, manager.user)  # type: ignore[attr-defined]
    refused = manager.post(
        f"/api/v1/projects/{clashing.id}/imports",
        data={"format": "coco"},
        files=[("file", ("export.zip", archive, "application/zip"))],
    )
    assert refused.status_code == 409 and "nothing was imported" in refused.text
    assert item_count(runtime, clashing) == 0


def test_a_file_the_format_does_not_read_is_refused_before_reading(
    runtime: Runtime, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("cat,dog")
    with pytest.raises(InvalidInput) as refused, imports.read(runtime, "coco", notes):
        pass
    assert str(refused.value) == (
        "'notes.txt': the COCO format reads .json files, a folder of them, or a .zip (at $.source)"
    )

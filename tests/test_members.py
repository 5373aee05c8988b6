"""Project members: managers add people with a role, change it and remove them (page, API,
CLI); the project's last manager stays; only members see a project."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from click.testing import CliRunner
from litestar.testing import TestClient

from scholia.core.runtime import Runtime
from scholia.server.cli import main

Client = TestClient[Any]


def members_url(project: dict[str, Any]) -> str:
    return f"/api/v1/projects/{project['id']}/members"


def test_the_creator_is_the_projects_manager_and_the_only_member(
    project: dict[str, Any],
) -> None:
    listed = project["manager"].get(members_url(project)).json()
    manager = project["manager"].user  # type: ignore[attr-defined]
    assert [(m["username"], m["role"]) for m in listed] == [(manager.username, "manager")]


def test_a_manager_adds_changes_and_removes_a_member_through_the_api(
    project: dict[str, Any], make_user: Callable[..., Any], bearer: Callable[..., Any]
) -> None:
    manager: Client = project["manager"]
    ada = make_user("annotator", username="ada")
    added = manager.post(members_url(project), json={"username": "ada", "role": "annotator"})
    assert added.status_code == 201, added.text
    assert (added.json()["username"], added.json()["role"]) == ("ada", "annotator")
    url = f"{members_url(project)}/{ada.id}"
    changed = manager.patch(url, json={"role": "reviewer"})
    assert changed.status_code == 200 and changed.json()["role"] == "reviewer"
    assert manager.delete(url).status_code == 204
    assert [m["username"] for m in manager.get(members_url(project)).json()] == [
        manager.user.username  # type: ignore[attr-defined]
    ]
    # Once removed, the project is gone for them: 404, as if it did not exist.
    outsider = bearer("annotator")
    assert manager.get(f"/api/v1/projects/{project['id']}", headers=outsider).status_code == 404


def test_clear_errors_for_unknown_users_roles_duplicates_and_the_last_manager(
    project: dict[str, Any], make_user: Callable[..., Any]
) -> None:
    manager: Client = project["manager"]
    unknown = manager.post(members_url(project), json={"username": "ghost", "role": "annotator"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["path"] == "$.username"
    assert "no user named 'ghost'" in unknown.json()["error"]["message"]
    make_user("annotator", username="bea")
    bad_role = manager.post(members_url(project), json={"username": "bea", "role": "admin"})
    assert bad_role.status_code == 422 and bad_role.json()["error"]["path"] == "$.role"
    assert "global role" in bad_role.json()["error"]["message"]
    assert (
        manager.post(
            members_url(project), json={"username": "bea", "role": "annotator"}
        ).status_code
        == 201
    )
    again = manager.post(members_url(project), json={"username": "bea", "role": "reviewer"})
    assert again.status_code == 409 and "already a member" in again.text
    me = manager.user.id  # type: ignore[attr-defined]
    last = manager.delete(f"{members_url(project)}/{me}")
    assert last.status_code == 409 and "last manager" in last.json()["error"]["message"]
    demoted = manager.patch(f"{members_url(project)}/{me}", json={"role": "annotator"})
    assert demoted.status_code == 409
    assert manager.get(members_url(project)).json()[0]["role"] == "manager"


def test_the_members_page_lists_adds_changes_and_removes(
    runtime: Runtime, client_for: Callable[..., Client], make_user: Callable[..., Any]
) -> None:
    manager = client_for("manager")
    created = manager.post(
        "/api/v1/projects",
        json={"name": "Team", "modality": "image", "annotation_types": ["rating"]},
    ).json()
    url = f"/projects/{created['id']}/members"
    assert f'href="{url}"' in manager.get(f"/projects/{created['id']}").text
    cy = make_user("annotator", username="cy")
    added = manager.post(url, data={"username": "cy", "role": "adjudicator"})
    assert added.status_code == 200
    assert "cy added as adjudicator." in added.text
    assert 'data-member="cy"' in added.text
    refused = manager.post(url, data={"username": "nobody", "role": "annotator"})
    assert "There is no user named &#39;nobody&#39;" in refused.text
    changed = manager.post(f"{url}/{cy.id}", data={"role": "reviewer"})
    assert "Role changed to reviewer." in changed.text
    removed = manager.post(f"{url}/{cy.id}/remove", data={})
    assert "Member removed" in removed.text and 'data-member="cy"' not in removed.text
    me = manager.user.id  # type: ignore[attr-defined]
    kept = manager.post(f"{url}/{me}/remove", data={})
    assert "last manager" in kept.text
    annotator = client_for("annotator", project=created["id"])
    assert annotator.get(url).status_code == 403
    assert f'href="{url}"' not in annotator.get(f"/projects/{created['id']}").text


def test_the_members_command_adds_lists_and_removes(
    runtime: Runtime, project: dict[str, Any], make_user: Callable[..., Any]
) -> None:
    make_user("reviewer", username="dan")

    def run(*args: str) -> Any:
        return CliRunner().invoke(
            main,
            ["members", *args, "--data-dir", str(runtime.settings.data_dir)],
            env={"SCHOLIA_DATABASE_URL": runtime.settings.database_url},
        )

    pid = str(project["id"])
    added = run("add", pid, "dan", "--role", "reviewer")
    assert added.exit_code == 0, added.output
    assert "Added dan to project" in added.output
    assert "dan is now adjudicator" in run("add", pid, "dan", "--role", "adjudicator").output
    listed = run("list", pid)
    assert "dan" in listed.output and "adjudicator" in listed.output
    assert "Removed dan" in run("remove", pid, "dan").output
    unknown = run("add", pid, "ghost", "--role", "annotator")
    assert unknown.exit_code == 1 and "no user named 'ghost'" in unknown.output
    assert "dan" not in run("list", pid).output

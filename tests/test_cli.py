"""The ``scholia`` command: help everywhere, database upgrade and status, users, plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from sqlmodel import col, select

from scholia.core import identity
from scholia.core.errors import SignInFailed
from scholia.core.models import ApiToken, User, WebSession
from scholia.core.runtime import Runtime
from scholia.server.cli import main

from .conftest import PASSWORD


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    """The CLI pointed at this test's database and a data directory of its own."""
    data = tmp_path / "cli-data"
    return {"SCHOLIA_DATA_DIR": str(data), "SCHOLIA_DATABASE_URL": database_url}


def run(env: dict[str, str], *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(
        main, list(args), env={"COLUMNS": "200", **env}, input=input, prog_name="scholia"
    )


def command_paths(
    command: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from command_paths(sub, (*path, name))


ALL_COMMANDS = list(command_paths(main))


def test_the_command_tree_is_walked() -> None:
    names = {" ".join(path) for path, _ in ALL_COMMANDS}
    assert {"", "serve", "db", "db upgrade", "db status", "users create", "plugins"} <= names
    assert {"users deactivate", "users reactivate", "users reset-password"} <= names


@pytest.mark.parametrize(
    ("path", "command"), ALL_COMMANDS, ids=[" ".join(p) or "scholia" for p, _ in ALL_COMMANDS]
)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_command_explains_itself(
    path: tuple[str, ...], command: click.Command, flag: str, tmp_path: Path
) -> None:
    result = run({"SCHOLIA_DATA_DIR": str(tmp_path)}, *path, flag)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(" ".join(("Usage: scholia", *path)))
    summary = " ".join((command.help or "").split("\n\n")[0].split())
    assert summary, f"`scholia {' '.join(path)}` has no help text"
    assert summary in " ".join(result.output.split())


def test_version_prints_the_version(tmp_path: Path) -> None:
    from scholia.core import __version__

    result = run({"SCHOLIA_DATA_DIR": str(tmp_path)}, "--version")
    assert result.exit_code == 0
    assert f"scholia, version {__version__}" in result.output


# --- db -------------------------------------------------------------------------------------


def test_db_upgrade_then_status_says_up_to_date(tmp_path: Path) -> None:
    env = {
        "SCHOLIA_DATA_DIR": str(tmp_path / "data"),
        "SCHOLIA_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
    }
    before = run(env, "db", "status")
    assert before.exit_code == 0, before.output
    assert "current: empty" in before.output
    assert "run `scholia db upgrade`" in before.output

    upgraded = run(env, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert "Database upgraded from empty to " in upgraded.output

    after = run(env, "db", "status")
    assert after.exit_code == 0, after.output
    assert "up to date" in after.output
    assert "empty" not in after.output


def test_db_upgrade_on_a_current_database_does_nothing(cli_env: dict[str, str]) -> None:
    result = run(cli_env, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.output
    status = run(cli_env, "db", "status")
    assert "up to date" in status.output


# --- users ----------------------------------------------------------------------------------


def test_users_create_then_list_shows_the_user_who_can_sign_in(
    cli_env: dict[str, str], runtime: Runtime
) -> None:
    created = run(
        cli_env, "users", "create", "ada", "--role", "admin", "--password-stdin", input=PASSWORD
    )
    assert created.exit_code == 0, created.output
    assert "Created ada (admin)" in created.output
    listed = run(cli_env, "users", "list")
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.output.splitlines() if " ada " in line)
    assert "admin" in row and "yes" in row
    with runtime.session() as session:
        user = identity.authenticate(session, "ada", PASSWORD)
        assert user.roles == ["admin"]


def test_users_create_takes_several_roles_and_a_display_name(
    cli_env: dict[str, str], runtime: Runtime
) -> None:
    result = run(
        cli_env,
        "users",
        "create",
        "grace",
        "--role",
        "reviewer",
        "--role",
        "annotator",
        "--name",
        "Grace H.",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    with runtime.session() as session:
        user = identity.authenticate(session, "grace", PASSWORD)
        assert (user.display_name, user.roles) == ("Grace H.", ["annotator", "reviewer"])


def test_users_list_with_nobody_says_how_to_create_one(cli_env: dict[str, str]) -> None:
    result = run(cli_env, "users", "list")
    assert result.exit_code == 0
    assert "No users yet" in result.output
    assert "scholia users create" in result.output


def test_a_too_short_password_fails_with_a_clear_message(
    cli_env: dict[str, str], runtime: Runtime
) -> None:
    result = run(
        cli_env, "users", "create", "ada", "--role", "admin", "--password-stdin", input="short\n"
    )
    assert result.exit_code != 0
    assert "A password needs at least 8 characters" in result.output
    assert "No users yet" in run(cli_env, "users", "list").output


def test_an_unknown_role_fails_listing_the_roles(cli_env: dict[str, str]) -> None:
    result = run(
        cli_env, "users", "create", "ada", "--role", "boss", "--password-stdin", input=PASSWORD
    )
    assert result.exit_code != 0
    assert "'boss'" in result.output
    for role in ("annotator", "reviewer", "adjudicator", "manager", "admin"):
        assert role in result.output
    assert "No users yet" in run(cli_env, "users", "list").output


def test_a_username_that_is_taken_fails_and_keeps_the_first_user(
    cli_env: dict[str, str], runtime: Runtime
) -> None:
    run(cli_env, "users", "create", "ada", "--role", "admin", "--password-stdin", input=PASSWORD)
    again = run(
        cli_env,
        "users",
        "create",
        "ada",
        "--role",
        "annotator",
        "--password-stdin",
        input="another password",
    )
    assert again.exit_code != 0
    assert "A user named 'ada' already exists." in again.output
    with runtime.session() as session:
        assert identity.authenticate(session, "ada", PASSWORD).roles == ["admin"]


def test_an_invalid_username_fails_saying_what_is_allowed(cli_env: dict[str, str]) -> None:
    result = run(
        cli_env, "users", "create", "a b", "--role", "admin", "--password-stdin", input=PASSWORD
    )
    assert result.exit_code != 0
    assert "A username is 2-64 characters" in result.output


def test_users_create_without_a_role_is_refused(cli_env: dict[str, str]) -> None:
    result = run(cli_env, "users", "create", "ada", "--password-stdin", input=PASSWORD)
    assert result.exit_code != 0
    assert "--role" in result.output


def admin_and_annotator(runtime: Runtime) -> tuple[User, User]:
    with runtime.session() as session:
        admin = identity.create_user(session, username="ada", password=PASSWORD, roles=["admin"])
        annotator = identity.create_user(
            session, username="bob", password=PASSWORD, roles=["annotator"]
        )
        identity.start_web_session(session, annotator, 3600)
        identity.create_api_token(session, annotator, "laptop")
    return admin, annotator


def test_users_create_generate_prints_a_password_that_signs_in(
    cli_env: dict[str, str], runtime: Runtime
) -> None:
    result = run(cli_env, "users", "create", "ada", "--role", "admin", "--generate")
    assert result.exit_code == 0, result.output
    assert "shown once" in result.output
    password = result.output.strip().splitlines()[-1].strip()
    with runtime.session() as session:
        assert identity.authenticate(session, "ada", password).username == "ada"


def test_users_create_prompts_twice_for_the_password(
    cli_env: dict[str, str], runtime: Runtime
) -> None:
    result = run(
        cli_env, "users", "create", "ada", "--role", "admin", input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    with runtime.session() as session:
        assert identity.authenticate(session, "ada", PASSWORD).username == "ada"


def test_users_deactivate_signs_out_revokes_tokens_and_refuses_sign_in(
    cli_env: dict[str, str], runtime: Runtime
) -> None:
    _, bob = admin_and_annotator(runtime)
    result = run(cli_env, "users", "deactivate", "bob")
    assert result.exit_code == 0, result.output
    assert "bob is deactivated" in result.output
    with runtime.session() as session:
        assert not session.exec(select(WebSession).where(col(WebSession.user_id) == bob.id)).all()
        tokens = session.exec(select(ApiToken).where(col(ApiToken.user_id) == bob.id)).all()
        assert tokens and all(token.revoked_at is not None for token in tokens)
    with pytest.raises(SignInFailed), runtime.session() as session:
        identity.authenticate(session, "bob", PASSWORD)
    row = next(
        line for line in run(cli_env, "users", "list").output.splitlines() if " bob " in line
    )
    assert " no " in row
    back = run(cli_env, "users", "reactivate", "bob")
    assert back.exit_code == 0, back.output
    with runtime.session() as session:
        assert identity.authenticate(session, "bob", PASSWORD).is_active


def test_users_deactivate_refuses_the_last_active_admin(
    cli_env: dict[str, str], runtime: Runtime
) -> None:
    admin_and_annotator(runtime)
    result = run(cli_env, "users", "deactivate", "ada")
    assert result.exit_code == 1
    assert "ada is the last active admin" in result.output
    with runtime.session() as session:
        assert identity.authenticate(session, "ada", PASSWORD).is_active


def test_users_commands_name_an_unknown_user(cli_env: dict[str, str]) -> None:
    for command in ("deactivate", "reactivate"):
        result = run(cli_env, "users", command, "nobody")
        assert result.exit_code == 1
        assert "No user named 'nobody'" in result.output
    result = run(cli_env, "users", "reset-password", "nobody", "--generate")
    assert result.exit_code == 1
    assert "No user named 'nobody'" in result.output


@pytest.mark.parametrize("how", ["--generate", "--password-stdin", "prompt"])
def test_users_reset_password_sets_it_and_ends_the_sessions(
    cli_env: dict[str, str], runtime: Runtime, how: str
) -> None:
    _, bob = admin_and_annotator(runtime)
    new = "a brand new password"
    if how == "--generate":
        result = run(cli_env, "users", "reset-password", "bob", "--generate")
        new = result.output.strip().splitlines()[-1].strip()
    elif how == "--password-stdin":
        result = run(cli_env, "users", "reset-password", "bob", how, input=new + "\n")
        assert new not in result.output
    else:
        result = run(cli_env, "users", "reset-password", "bob", input=f"{new}\n{new}\n")
    assert result.exit_code == 0, result.output
    assert "1 browser session signed out" in result.output
    with runtime.session() as session:
        assert not session.exec(select(WebSession).where(col(WebSession.user_id) == bob.id)).all()
        assert identity.authenticate(session, "bob", new).username == "bob"
    with pytest.raises(SignInFailed), runtime.session() as session:
        identity.authenticate(session, "bob", PASSWORD)


def test_users_reset_password_refuses_a_short_one_and_keeps_the_old(
    cli_env: dict[str, str], runtime: Runtime
) -> None:
    admin_and_annotator(runtime)
    result = run(cli_env, "users", "reset-password", "bob", "--password-stdin", input="tiny\n")
    assert result.exit_code == 1
    assert "A password needs at least 8 characters" in result.output
    with runtime.session() as session:
        assert identity.authenticate(session, "bob", PASSWORD).username == "bob"


def test_users_reset_password_takes_one_source_only(cli_env: dict[str, str]) -> None:
    result = run(cli_env, "users", "reset-password", "bob", "--generate", "--password-stdin")
    assert result.exit_code == 1
    assert "Choose one of --password-stdin and --generate" in result.output


# --- plugins --------------------------------------------------------------------------------


def scholia(*args: str, load: str | None, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SCHOLIA_LOAD_PLUGINS"}
    env.update(COLUMNS="200", SCHOLIA_DATA_DIR=str(tmp_path))
    if load is not None:
        env["SCHOLIA_LOAD_PLUGINS"] = load
    return subprocess.run(
        [sys.executable, "-c", "from scholia.server.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def by_name(described: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in described}


def test_plugins_lists_every_installed_plugin_with_what_it_registered(tmp_path: Path) -> None:
    table = scholia("plugins", load=None, tmp_path=tmp_path)
    assert table.returncode == 0, table.stderr
    rating_row = next(line for line in table.stdout.splitlines() if "scholia-rating" in line)
    assert "annotation_type: rating" in rating_row
    assert "loaded" in rating_row

    described = scholia("plugins", "--json", load=None, tmp_path=tmp_path)
    assert described.returncode == 0, described.stderr
    plugins = by_name(json.loads(described.stdout))
    assert plugins["scholia-rating"]["contributions"] == {"annotation_type": ["rating"]}
    assert plugins["scholia-rating"]["loaded"] is True
    assert plugins["scholia-image"]["contributions"] == {
        "modality": ["image"],
        "viewer": ["image"],
        "annotation_type": ["classification"],
        "prelabel_backend": ["onnx-classifier", "label-studio-ml"],
    }


def test_scholia_load_plugins_limits_which_plugins_load(tmp_path: Path) -> None:
    result = scholia("plugins", "--json", load="scholia-image", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    plugins = by_name(json.loads(result.stdout))
    assert "scholia-rating" not in plugins
    assert plugins["scholia-image"]["loaded"] is True
    table = scholia("plugins", load="scholia-image", tmp_path=tmp_path)
    assert "scholia-rating" not in table.stdout
    assert "SCHOLIA_LOAD_PLUGINS='scholia-image' limits" in table.stdout

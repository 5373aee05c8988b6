"""The ``scholia`` command."""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from scholia.core import __version__, identity
from scholia.core.db import create_db_engine, migration_status, upgrade
from scholia.core.errors import ScholiaError
from scholia.core.models import Role, User
from scholia.core.plugins import describe_plugins, load_plugins
from scholia.core.runtime import DEFAULT_PLUGINS, Runtime
from scholia.core.settings import Settings

__all__ = ["main"]

console = Console()
data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory (default: $SCHOLIA_DATA_DIR or ~/.local/share/scholia).",
)


def _runtime(data_dir: Path | None) -> Runtime:
    from .app import DEFAULT_PLUGINS as SERVER_DEFAULTS

    return Runtime.open(Settings.from_env(data_dir), default_plugins=SERVER_DEFAULTS)


def _fail(message: str) -> None:
    console.print(f"[red]Error:[/red] {message}")
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scholia")
def main() -> None:
    """Scholia: label data with plugins, and ship datasets that carry their proof."""


def _serve(runtime: Runtime, host: str, port: int, link_sign_in: bool = False) -> None:
    import uvicorn

    from .app import create_app

    app = create_app(runtime, link_sign_in=link_sign_in)
    uvicorn.run(app, host=host, port=port, log_level="info")


@main.command()
@data_dir_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(data_dir: Path | None, host: str, port: int) -> None:
    """Serve the web app and the JSON API."""
    runtime = _runtime(data_dir)
    console.print(
        f"Scholia {__version__} · data in {runtime.settings.data_dir} · "
        f"database {runtime.engine.dialect.name}"
    )
    _serve(runtime, host, port)


@main.command()
@data_dir_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--images", default=12, show_default=True, help="Sample images to generate.")
def demo(data_dir: Path | None, host: str, port: int, images: int) -> None:
    """Create a demo project with generated sample images, sign in a demo admin, and serve."""
    from .demo import set_up_demo

    runtime = _runtime(data_dir)
    setup = set_up_demo(runtime, image_count=images)
    base = f"http://{host}:{port}"
    console.rule("[bold]Scholia demo")
    console.print(f"Data directory: {runtime.settings.data_dir}")
    if setup.password:
        console.print(
            f"Demo admin: [bold]{setup.username}[/bold] / password "
            f"[bold]{setup.password}[/bold] (shown once)"
        )
    for missing in setup.missing:
        console.print(f"[yellow]The demo project needs {missing}; install it to see it.[/yellow]")
    console.print("Open this link to start signed in as the demo admin:")
    click.echo(f"  {base}/sign-in/link?token={setup.session_token}")
    console.rule()
    _serve(runtime, host, port, link_sign_in=True)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins(as_json: bool) -> None:
    """List installed plugins, what each registered, and any that failed to load."""
    from .app import DEFAULT_PLUGINS as SERVER_DEFAULTS

    loaded = load_plugins(default_plugins=(*DEFAULT_PLUGINS, *SERVER_DEFAULTS))
    described = describe_plugins(loaded)
    if as_json:
        click.echo(json.dumps(described, indent=2))
        return
    table = Table(title="Scholia plugins", show_lines=True)
    for column in ("plugin", "version", "status", "contributes"):
        table.add_column(column)
    for plugin in described:
        contributes = (
            "\n".join(
                f"{kind}: {', '.join(names)}" for kind, names in plugin["contributions"].items()
            )
            or "-"
        )
        status = "[green]loaded[/green]" if plugin["loaded"] else "[red]failed[/red]"
        name = plugin["name"] + (" (built in)" if plugin["default"] else "")
        table.add_row(
            name,
            plugin["version"] or "-",
            status,
            contributes if plugin["loaded"] else f"[red]{plugin['error']}[/red]",
        )
    console.print(table)
    if os.environ.get("SCHOLIA_LOAD_PLUGINS") is not None:
        console.print(
            f"(SCHOLIA_LOAD_PLUGINS={os.environ['SCHOLIA_LOAD_PLUGINS']!r} limits "
            "which installed plugins load)"
        )


@main.group()
def db() -> None:
    """Database schema: upgrade and status."""


@db.command("upgrade")
@data_dir_option
def db_upgrade(data_dir: Path | None) -> None:
    """Apply pending migrations."""
    settings = Settings.from_env(data_dir)
    engine = create_db_engine(settings.database_url)
    before = migration_status(engine)
    upgrade(engine)
    after = migration_status(engine)
    if before.current == after.current:
        console.print(f"Database already at {after.current}; nothing to do.")
    else:
        console.print(f"Database upgraded from {before.current or 'empty'} to {after.current}.")


@db.command("status")
@data_dir_option
def db_status(data_dir: Path | None) -> None:
    """Show the database's migration and the one this version expects."""
    settings = Settings.from_env(data_dir)
    status = migration_status(create_db_engine(settings.database_url))
    console.print(
        f"current: {status.current or 'empty'} · expected: {status.head} · "
        + (
            "[green]up to date[/green]"
            if status.is_current
            else "[yellow]run `scholia db upgrade`[/yellow]"
        )
    )


@main.group()
def users() -> None:
    """Create and list users."""


@users.command("create")
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="Repeat for several roles.",
)
@click.option("--name", "display_name", default=None, help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@data_dir_option
def users_create(
    username: str,
    roles: tuple[str, ...],
    display_name: str | None,
    password_stdin: bool,
    data_dir: Path | None,
) -> None:
    """Create a user who signs in with a password."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            _fail("The passwords differ.")
    runtime = _runtime(data_dir)
    try:
        with runtime.session() as session:
            user = identity.create_user(
                session,
                username=username,
                password=password,
                roles=roles,
                display_name=display_name,
            )
    except ScholiaError as error:
        _fail(error.message)
    console.print(f"Created {user.username} ({', '.join(user.roles)}), pseudonym {user.pseudonym}.")


@users.command("list")
@data_dir_option
def users_list(data_dir: Path | None) -> None:
    """List users with their roles."""
    from sqlmodel import col, select

    runtime = _runtime(data_dir)
    with runtime.session() as session:
        found = list(session.exec(select(User).order_by(col(User.id))))
    if not found:
        console.print("No users yet. Create one with `scholia users create NAME --role admin`.")
        return
    table = Table()
    for column in ("id", "username", "name", "roles", "pseudonym", "active"):
        table.add_column(column)
    for user in found:
        table.add_row(
            str(user.id),
            user.username,
            user.display_name,
            ", ".join(user.roles),
            user.pseudonym,
            "yes" if user.is_active else "no",
        )
    console.print(table)


if __name__ == "__main__":
    main()

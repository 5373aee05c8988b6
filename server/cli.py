"""The ``scholia`` command."""

from __future__ import annotations

import contextlib
import glob as globmod
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import click
import msgspec
from rich.console import Console
from rich.table import Table

from scholia.core import __version__, identity, membership
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
    from .background import WATCH_EVERY_S
    from .heap import limit_arenas

    limit_arenas()
    app = create_app(runtime, link_sign_in=link_sign_in, watch_stalled=WATCH_EVERY_S)
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
        for type_name, said in plugin["annotation_types"].items():
            contributes += f"\n  {type_name}: " + ", ".join(f"{k}: {v}" for k, v in said.items())
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
    """Create, list, deactivate and reactivate users; reset their passwords."""


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
@click.option("--generate", is_flag=True, help="Generate a password and print it once.")
@data_dir_option
def users_create(
    username: str,
    roles: tuple[str, ...],
    display_name: str | None,
    password_stdin: bool,
    generate: bool,
    data_dir: Path | None,
) -> None:
    """Create a user who signs in with a password."""
    password = _new_password(password_stdin, generate)
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
    if generate:
        _print_generated(user.username, password)


def _new_password(password_stdin: bool, generate: bool) -> str:
    """The password from standard input, generated, or typed twice at a prompt."""
    if password_stdin and generate:
        _fail("Choose one of --password-stdin and --generate.")
    if generate:
        return identity.generate_password()
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt="Again", err=True)
    return password


def _print_generated(username: str, password: str) -> None:
    console.print(f"Password for {username} (shown once; pass it on now):")
    click.echo(f"  {password}")


def _user_id(session: Any, username: str) -> int:
    from sqlmodel import col, select

    user = session.exec(select(User).where(col(User.username) == username)).first()
    if user is None:
        _fail(f"No user named {username!r} (see `scholia users list`).")
    assert user.id is not None
    return int(user.id)


@users.command("list")
@data_dir_option
def users_list(data_dir: Path | None) -> None:
    """List users with their roles, whether they are active, and when they last signed in."""
    runtime = _runtime(data_dir)
    with runtime.reading() as session:
        found = identity.list_users(session)
    if not found:
        console.print("No users yet. Create one with `scholia users create NAME --role admin`.")
        return
    table = Table()
    for column in (
        "id",
        "username",
        "name",
        "roles",
        "pseudonym",
        "active",
        "created",
        "last sign-in",
    ):
        table.add_column(column)
    for user in found:
        table.add_row(
            str(user.id),
            user.username,
            user.display_name,
            ", ".join(user.roles),
            user.pseudonym,
            "yes" if user.is_active else "no",
            user.created_at.strftime("%Y-%m-%d"),
            user.last_sign_in_at.strftime("%Y-%m-%d %H:%M")
            if user.last_sign_in_at
            else "not known",
        )
    console.print(table)


@users.command("deactivate")
@click.argument("username")
@data_dir_option
def users_deactivate(username: str, data_dir: Path | None) -> None:
    """Deactivate a user: signed out everywhere, API tokens revoked, work kept under their name."""
    runtime = _runtime(data_dir)
    try:
        with runtime.session() as session:
            user = identity.deactivate_user(session, _user_id(session, username), actor_id=None)
    except ScholiaError as error:
        _fail(error.message)
    console.print(f"{user.username} is deactivated: signed out everywhere, API tokens revoked.")


@users.command("reactivate")
@click.argument("username")
@data_dir_option
def users_reactivate(username: str, data_dir: Path | None) -> None:
    """Let a deactivated user sign in again (old sessions and tokens stay ended)."""
    runtime = _runtime(data_dir)
    with runtime.session() as session:
        user = identity.reactivate_user(session, _user_id(session, username), actor_id=None)
    console.print(f"{user.username} can sign in again.")


@users.command("reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@click.option("--generate", is_flag=True, help="Generate a password and print it once.")
@data_dir_option
def users_reset_password(
    username: str, password_stdin: bool, generate: bool, data_dir: Path | None
) -> None:
    """Set a user's password (prompted, from standard input, or generated); their browser
    sessions end."""
    password = _new_password(password_stdin, generate)
    runtime = _runtime(data_dir)
    try:
        with runtime.session() as session:
            user, ended = identity.set_password(
                session, _user_id(session, username), password, actor_id=None
            )
    except ScholiaError as error:
        _fail(error.message)
    console.print(
        f"New password for {user.username} set; "
        f"{ended} browser session{'s' if ended != 1 else ''} signed out."
    )
    if generate:
        _print_generated(user.username, password)


# --- scholia members ------------------------------------------------------------------------


@main.group()
def members() -> None:
    """A project's members and their roles (annotator, reviewer, adjudicator, manager)."""


def _member_work(data_dir: Path | None, work: Callable[[Any], str]) -> None:
    runtime = _runtime(data_dir)
    try:
        with runtime.session() as session:
            message = work(session)
    except ScholiaError as error:
        _fail(error.message)
    finally:
        runtime.close()
    console.print(message)


@members.command("add")
@click.argument("project_id", metavar="PROJECT", type=int)
@click.argument("username", metavar="USER")
@click.option(
    "--role",
    required=True,
    type=click.Choice([r.value for r in membership.PROJECT_ROLES]),
    help="The member's role in this project.",
)
@data_dir_option
def members_add(project_id: int, username: str, role: str, data_dir: Path | None) -> None:
    """Make USER a member of PROJECT with a role (or change the role of a member)."""
    from scholia.core.projects import get_project

    def work(session: Any) -> str:
        get_project(session, project_id)
        user = membership.find_user(session, username)
        assert user.id is not None
        if membership.role_in(session, project_id, user) not in (None, Role.admin):
            membership.change_role(session, project_id, user.id, role, None)
            return f"{username} is now {role} in project {project_id}."
        membership.add_member(session, project_id, user.id, role, None)
        return f"Added {username} to project {project_id} as {role}."

    _member_work(data_dir, work)


@members.command("remove")
@click.argument("project_id", metavar="PROJECT", type=int)
@click.argument("username", metavar="USER")
@data_dir_option
def members_remove(project_id: int, username: str, data_dir: Path | None) -> None:
    """Take USER off PROJECT (their annotations stay)."""

    def work(session: Any) -> str:
        user = membership.find_user(session, username)
        assert user.id is not None
        membership.remove_member(session, project_id, user.id, None)
        return f"Removed {username} from project {project_id}."

    _member_work(data_dir, work)


@members.command("list")
@click.argument("project_id", metavar="PROJECT", type=int)
@data_dir_option
def members_list(project_id: int, data_dir: Path | None) -> None:
    """List PROJECT's members with their roles."""
    from scholia.core.projects import get_project

    runtime = _runtime(data_dir)
    try:
        with runtime.reading() as session:
            get_project(session, project_id)
            found = membership.list_members(session, project_id)
    except ScholiaError as error:
        _fail(error.message)
    finally:
        runtime.close()
    table = Table()
    for column in ("user", "name", "role", "added"):
        table.add_column(column)
    for member in found:
        table.add_row(
            member.user.username,
            member.user.display_name,
            member.role,
            f"{member.added_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)


# --- scholia import -------------------------------------------------------------------------

GLOB_CHARS = frozenset("*?[")


def _usage_error(message: str) -> NoReturn:
    from rich.text import Text

    Console(stderr=True, soft_wrap=True).print(Text.assemble(("Error: ", "red"), message))
    sys.exit(2)


def _collect_files(paths: tuple[str, ...]) -> list[Path]:
    """Files named by ``paths``: files as they are, folders recursively, and glob patterns
    (also when the shell left them unexpanded), in a stable order and without repeats."""
    found: list[Path] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            found.append(path)

    def add_any(path: Path) -> None:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file():
                    add(child)
        elif path.is_file():
            add(path)

    for raw in paths:
        path = Path(raw).expanduser()
        if path.exists():
            add_any(path)
        elif GLOB_CHARS & set(raw):
            matches = sorted(globmod.glob(str(path), recursive=True))
            if not matches:
                _usage_error(f"{raw!r} matches no file")
            for match in matches:
                add_any(Path(match))
        else:
            _usage_error(f"{raw!r}: no such file or folder")
    return found


def _import_actor(session: Any, username: str | None, project_id: int) -> User:
    """The user the command acts as: ``--as`` must be a manager of the project (or an
    admin); without it, the first active admin."""
    from sqlmodel import col, select

    if username is not None:
        user = session.exec(select(User).where(col(User.username) == username)).first()
        if user is None:
            _usage_error(f"no user named {username!r} (see `scholia users list`)")
        role = membership.role_in(session, project_id, user)
        if not membership.holds(role, Role.manager):
            _usage_error(
                f"{username!r} is not a manager of project {project_id} (their role there: "
                f"{role or 'not a member'}); pass --as with one of its managers or an admin"
            )
        return user
    everyone = list(session.exec(select(User).order_by(col(User.id))))
    if not everyone:
        _usage_error(
            "there is no user yet to record the import under; create one with "
            "`scholia users create NAME --role admin`"
        )
    admin = next((u for u in everyone if u.has_role(Role.admin) and u.is_active), None)
    if admin is None:
        _usage_error("there is no active admin; name the importing user with --as USERNAME")
    return admin


def _duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}m{whole % 60:02d}s" if whole >= 60 else f"{whole}s"


class _PlainProgress:
    """Progress as periodic plain lines, for logs and pipes (not a terminal)."""

    def __init__(self, label: str, unit: str, total: int, every_s: float = 2.0) -> None:
        self.label = label
        self.unit = unit
        self.total = total
        self.done = 0
        self.every_s = every_s
        self.started = time.monotonic()
        self.last = self.started

    def advance(self) -> None:
        self.done += 1
        now = time.monotonic()
        if now - self.last >= self.every_s or self.done == self.total:
            self.last = now
            elapsed = max(now - self.started, 1e-9)
            rate = self.done / elapsed
            eta = (self.total - self.done) / rate if rate else 0.0
            click.echo(
                f"{self.label}: {self.done}/{self.total} {self.unit} "
                f"({100 * self.done // max(self.total, 1)}%), "
                f"{rate:.1f} {self.unit}/s, ETA {_duration(eta)}"
            )


def _progress(label: str, unit: str, total: int) -> tuple[Any, Callable[[], None]]:
    """A progress bar on a terminal, plain lines otherwise: (context manager, advance)."""
    if not console.is_terminal:
        plain = _PlainProgress(label, unit, total)
        return contextlib.nullcontext(), plain.advance
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    started = time.monotonic()
    bar = Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} " + unit + "/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    )
    task = bar.add_task(label, total=total, rate="-")

    def advance() -> None:
        elapsed = max(time.monotonic() - started, 1e-9)
        done = bar.tasks[0].completed + 1
        bar.update(task, advance=1, rate=f"{done / elapsed:.1f}")

    return bar, advance


@main.command("import")
@click.argument("project_id", metavar="PROJECT", type=int)
@click.argument("paths", metavar="PATH...", nargs=-1, required=True)
@click.option(
    "--as",
    "as_user",
    metavar="USERNAME",
    default=None,
    help="User recorded in the audit log (default: the first admin).",
)
@click.option(
    "--format",
    "format_name",
    metavar="NAME",
    default=None,
    help="Read PATH as an export in this format (coco, label-studio…): a folder, its json "
    "file or a .zip; brings in categories, items and annotations.",
)
@click.option(
    "--option",
    "options",
    metavar="KEY=VALUE",
    multiple=True,
    help="An option of the files that expand into items, e.g. for videos into an image "
    "project: --option mode=count --option count=20 (mode: fps, count or all; default: "
    "fps with fps=1).",
)
@data_dir_option
def import_(
    project_id: int,
    paths: tuple[str, ...],
    as_user: str | None,
    format_name: str | None,
    options: tuple[str, ...],
    data_dir: Path | None,
) -> None:
    """Add files to project PROJECT (its id): files, folders (recursively) and glob patterns.

    Files the project's modality does not accept are skipped. Each file is stored once by its
    sha256, so re-running after an interruption adds only what is missing. A video given to
    an image project is split into frame items here, with a progress bar (--option says which
    frames); one that stopped part-way (a truncated file) keeps its frames and is retried
    when the command runs again. With --format, PATH
    is one export (e.g. `scholia import 3 --format coco export.zip`) whose categories (ids
    kept), items and annotations are brought in. A project whose items are made of parts
    (a sensor frame, a text record) takes .jsonl files instead, one record a line:
    `{"name": …, "parts": {"<role>": <data, or a file's path beside the .jsonl>}}`. Exits 0
    when everything went in or was already there, 1 when something was refused, 2 on a usage
    error.
    """
    from scholia.core.items import container_for, takes
    from scholia.core.models import Project
    from scholia.core.uploads import ingest_files

    runtime = _runtime(data_dir)
    with runtime.session() as session:
        actor = _import_actor(session, as_user, project_id)
        assert actor.id is not None
        actor_id = actor.id
        project = session.get(Project, project_id)
        if project is None:
            _usage_error(f"there is no project with id {project_id} (the web app lists them)")
        modality = runtime.plugins.modalities.get(project.modality)
        if modality is None:
            _usage_error(
                f"project {project_id} labels {project.modality!r} media, but no installed "
                "plugin provides that modality"
            )
        project_name = project.name
    if format_name is not None:
        _import_export(runtime, project_id, project_name, format_name, paths, actor_id)
        return
    if modality.parts:
        _import_records(runtime, project_id, modality, paths, actor_id)
        return

    expand_options = dict(_key_value(o) for o in options)
    candidates = _collect_files(paths)
    files = [
        f
        for f in candidates
        if takes(modality, f.name) or container_for(runtime.plugins, project, f.name) is not None
    ]
    skipped = len(candidates) - len(files)
    kind = modality.title.lower()
    console.print(
        f"Importing {len(files)} {kind} files into project {project_id} ({project_name})"
        + (f" · skipped: {skipped} not {kind} files" if skipped else ""),
        highlight=False,
        markup=False,
        soft_wrap=True,
    )

    unreadable: list[tuple[str, str]] = []
    counts = {"created": 0, "existing": 0, "expanding": 0, "refused": 0}

    def sources() -> Iterator[tuple[str, BinaryIO]]:
        for path in files:
            try:
                handle = path.open("rb")
            except OSError as error:
                unreadable.append((str(path), f"cannot be opened: {error.strerror or error}"))
                advance()
                continue
            with handle:
                yield str(path), handle

    started = time.monotonic()
    interrupted = False
    failure = ""
    result = None
    progress_context, advance = _progress("import", "files", len(files))

    def on_file(name: str, outcome: str) -> None:
        counts[outcome] += 1
        advance()

    try:
        with progress_context:
            result = ingest_files(
                runtime,
                project_id,
                sources(),
                actor_id=actor_id,
                expand_options=expand_options,
                on_file=on_file,
            )
        for expansion in result.expansions:
            refusal = _expand(runtime, expansion, actor_id)
            if refusal is not None:
                unreadable.append((expansion.name, refusal))
    except KeyboardInterrupt:
        interrupted = True
    except OSError as error:  # a file vanished or failed to read mid-way: stop, report, re-run
        failure = f"stopped: {error}"
        interrupted = True
    finally:
        runtime.close()
    elapsed = time.monotonic() - started

    refused = [*(result.problems if result else []), *unreadable]
    done = sum(counts.values()) + len(unreadable)
    rate = done / elapsed if elapsed > 0 else 0.0
    console.print(
        f"added: {counts['created']} · already in the project: {counts['existing']} · "
        f"refused: {counts['refused'] + len(unreadable)}"
        + (f" · split into items: {counts['expanding']}" if counts["expanding"] else "")
        + (f" · skipped: {skipped} not {kind} files" if skipped else "")
        + f" · {done} files in {elapsed:.1f}s ({rate:.1f} files/s)",
        highlight=False,
        soft_wrap=True,
    )
    if interrupted:
        if failure:
            console.print(f"Error: {failure}", style="red", markup=False, soft_wrap=True)
        console.print(
            f"[yellow]Interrupted after {done} of {len(files)} files.[/yellow] Run the same "
            "command again to add the rest; files already added are recognised, not duplicated.",
            highlight=False,
        )
        sys.exit(1 if failure else 130)
    if refused:
        plural = "file" if len(refused) == 1 else "files"
        console.print(f"[red]Refused {len(refused)} {plural}:[/red]")
        for name, reason in refused:
            # The reason usually names the file already ("'a.png' is empty (0 bytes)").
            line = reason if repr(name) in reason else f"{name}: {reason}"
            console.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(1)


def _import_records(
    runtime: Runtime, project_id: int, modality: Any, paths: tuple[str, ...], actor_id: int
) -> None:
    """Items made of parts, from JSON Lines files: one record a line, ``{"name": …, "parts":
    {"<role>": …}, "provenance": {…}}``, where an inline role's value is its data and a file
    role's value is the file's path (relative to the .jsonl file). Each record goes in on its
    own; a refused one is reported with its line and the part's path."""
    from scholia.core import parts
    from scholia.core.errors import InvalidInput
    from scholia.core.models import Project

    roles = {role.name: role for role in modality.parts}
    sources = [Path(p) for p in paths]
    for source in sources:
        if source.suffix != ".jsonl" or not source.is_file():
            _usage_error(
                f"{modality.title} items are made of parts: give .jsonl files of records "
                f'({{"parts": {{"{next(iter(roles))}": …}}}} a line), not {str(source)!r}'
            )
    counts = {"created": 0, "existing": 0}
    refused: list[tuple[str, str]] = []
    for source in sources:
        with source.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                where = f"{source.name}:{number}"
                try:
                    with contextlib.ExitStack() as opened, runtime.session() as session:
                        record = _record_of(line, roles, source.parent, opened)
                        project = session.get(Project, project_id)
                        assert project is not None  # checked before the import started
                        made = parts.ingest_parts(
                            session,
                            runtime.store,
                            runtime.plugins,
                            project,
                            record,
                            actor_id=actor_id,
                        )
                except InvalidInput as error:
                    refused.append((where, str(error)))
                    continue
                counts["created" if made.created else "existing"] += 1
    runtime.close()
    console.print(
        f"added: {counts['created']} · already in the project: {counts['existing']} · "
        f"refused: {len(refused)}",
        highlight=False,
        soft_wrap=True,
    )
    if refused:
        console.print(f"[red]Refused {len(refused)} records:[/red]")
        for where, reason in refused:
            console.print(f"  {where}: {reason}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(1)


def _record_of(
    line: bytes, roles: dict[str, Any], folder: Path, opened: contextlib.ExitStack
) -> Any:
    """One JSON Lines record as the core's ``NewItem``: a file role's path opened (relative
    to ``folder``), an inline role's data as it is."""
    from scholia.core import parts
    from scholia.core.errors import InvalidInput

    try:
        record = msgspec.json.decode(line)
    except msgspec.DecodeError as error:
        raise InvalidInput(f"not a JSON record ({error})", "$") from None
    if not isinstance(record, dict) or not isinstance(record.get("parts"), dict):
        raise InvalidInput('a record is an object with "parts"', "$.parts")
    files: dict[str, Any] = {}
    inline: dict[str, Any] = {}
    for role, value in record["parts"].items():
        if role in roles and roles[role].kind == "file":
            if not isinstance(value, str):
                raise InvalidInput("a file part is the file's path", f"$.parts.{role}")
            path = folder / value
            try:
                files[role] = parts.PartFile(path.name, opened.enter_context(path.open("rb")))
            except OSError as error:
                raise InvalidInput(
                    f"{value!r} cannot be opened: {error.strerror or error}", f"$.parts.{role}"
                ) from None
        else:
            inline[role] = value  # an unknown role is refused by the core, by name
    name, provenance = record.get("name", ""), record.get("provenance", {})
    if not isinstance(name, str) or not isinstance(provenance, dict):
        raise InvalidInput('"name" is a string and "provenance" an object', "$")
    return parts.NewItem(files=files, inline=inline, name=name, provenance=provenance)


def _key_value(option: str) -> tuple[str, str]:
    key, equals, value = option.partition("=")
    if not equals or not key.strip():
        _usage_error(f"--option takes KEY=VALUE (e.g. mode=count), not {option!r}")
    return key.strip(), value.strip()


def _expand(runtime: Runtime, expansion: Any, actor_id: int) -> str | None:
    """Run one expansion here with a progress bar (retrying one an earlier run left failed,
    cancelled or stalled); the reason when it stops part-way. Ctrl-C cancels it, so the next
    run retries it at once."""
    from scholia.core import expansions, jobs
    from scholia.core.models import JobStatus

    if expansion.status == JobStatus.done:
        console.print(f"{expansion.name}: split already ({expansion.created} items)", markup=False)
        return None
    if expansion.status != JobStatus.running or jobs.stalled(expansions.JOB, expansion):
        with runtime.session() as session:
            stored = expansions.get_expansion(session, expansion.id)
            jobs.claim_again(session, expansions.JOB, stored, actor_id)
    total = expansions.expected(runtime, expansion) or 0
    progress_context, advance = _progress(expansion.name, "items", total)
    done = 0

    def on_progress(moved: Any) -> None:
        nonlocal done
        for _ in range(moved.processed - done):
            advance()
        done = moved.processed

    try:
        with progress_context:
            finished = expansions.run(runtime, expansion.id, on_progress=on_progress)
            on_progress(finished)
    except KeyboardInterrupt:
        with runtime.session() as session:
            stored = expansions.get_expansion(session, expansion.id)
            if stored.status == JobStatus.running:
                jobs.cancel(session, expansions.JOB, stored, actor_id)
        raise
    console.print(
        f"{finished.name}: {finished.processed} items · {finished.created} new · "
        f"{finished.existing} already in the project",
        highlight=False,
        markup=False,
    )
    if finished.status == JobStatus.failed:
        return f"stopped after {finished.processed} items, which are kept: {finished.error}"
    return None


def _import_export(
    runtime: Runtime,
    project_id: int,
    project_name: str,
    format_name: str,
    paths: tuple[str, ...],
    actor_id: int,
) -> None:
    """``scholia import --format``: one export read by an import format and applied."""
    from scholia.core import imports

    if len(paths) != 1:
        _usage_error(
            f"--format reads one export (a folder, its json file or a .zip), not {len(paths)}"
        )
    source = Path(paths[0]).expanduser()
    try:
        imports.import_format(runtime.plugins, format_name)
    except ScholiaError as error:
        _usage_error(error.message)
    if not source.exists():
        _usage_error(f"{paths[0]!r}: no such file or folder")
    started = time.monotonic()
    try:
        with imports.read(runtime, format_name, source) as dataset:
            console.print(
                f"Importing {format_name} {source.name} into project {project_id} "
                f"({project_name}): {len(dataset.items)} items, {len(dataset.categories)} "
                "categories",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
            progress_context, advance = _progress("import", "items", len(dataset.items))
            with progress_context:
                result = imports.apply(
                    runtime,
                    project_id,
                    dataset,
                    actor_id=actor_id,
                    origin=f"{format_name} {source.name}",
                    on_item=lambda _name, _outcome: advance(),
                )
    except ScholiaError as error:
        console.print(f"Error: {error.message}", style="red", markup=False, soft_wrap=True)
        sys.exit(1)
    finally:
        runtime.close()
    elapsed = time.monotonic() - started
    counts = result.counts()
    console.print(
        f"categories: {counts['categories_created']} created, {counts['categories_matched']} "
        f"matched · items: {counts['items_created']} added, {counts['items_existing']} already "
        f"in the project · annotations: {counts['annotations_created']} added, "
        f"{counts['annotations_existing']} already imported · {elapsed:.1f}s",
        highlight=False,
        soft_wrap=True,
    )
    if result.problems:
        console.print(f"[red]Left out ({len(result.problems)}):[/red]")
        for problem in result.problems:
            console.print(
                f"  {problem.where}: {problem.message}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
        sys.exit(1)


# --- scholia export -------------------------------------------------------------------------


@main.command("export")
@click.argument("project_id", metavar="PROJECT", type=int)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    default=("approved",),
    show_default=True,
    help="Item status to include (repeat for several).",
)
@click.option(
    "--category", "category_ids", multiple=True, type=int, help="Only items with this category id."
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder to write the version into (new or empty).",
)
@click.option(
    "--format",
    "format_name",
    metavar="NAME",
    default=None,
    help="Write the version in this export format (see `scholia plugins`) instead of as it is.",
)
@click.option("--as", "as_user", metavar="USERNAME", default=None, help="User recorded.")
@data_dir_option
def export(
    project_id: int,
    statuses: tuple[str, ...],
    category_ids: tuple[int, ...],
    out: Path,
    format_name: str | None,
    as_user: str | None,
    data_dir: Path | None,
) -> None:
    """Write a new dataset version of project PROJECT to --out.

    The version (records.jsonl, checksums.sha256, manifest.json, media/) is numbered and
    kept in the data directory; the export gate runs before release. --out gets
    a copy of it, or with --format the released version written in that format. Exits 0 when
    released, 1 when the gate held it or the export failed, 2 on a usage error.
    """
    import shutil

    from scholia.core import datasets, exports
    from scholia.core.contributions import ExportFormat

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        _usage_error(f"{str(out)!r} is not an empty folder; nothing was written")
    runtime = _runtime(data_dir)
    formats = sorted(f.name for f in runtime.plugins.all(ExportFormat))
    if format_name is not None and format_name not in formats:
        runtime.close()
        _usage_error(
            f"unknown export format {format_name!r} (installed: {', '.join(formats) or 'none'}); "
            "nothing was written"
        )
    try:
        selection = datasets.parse_selection(
            {"statuses": list(statuses), "category_ids": list(category_ids)}
        )
        with runtime.session() as session:
            actor = _import_actor(session, as_user, project_id)
            version = datasets.create(session, project_id, selection, actor.id)  # type: ignore[arg-type]
            total = datasets.count_selected(session, project_id, selection)
    except ScholiaError as error:
        runtime.close()
        _usage_error(str(error))
    console.print(
        f"Exporting version {version.version} of project {project_id}: up to {total} items",
        highlight=False,
    )
    progress_context, advance = _progress("export", "items", total)
    written = True
    try:
        with progress_context:
            built = datasets.build(runtime, version.id, on_progress=lambda _: advance())  # type: ignore[arg-type]
        if format_name is None:
            shutil.copytree(
                datasets.export_folder(runtime, project_id) / f"v{built.version}",
                out,
                dirs_exist_ok=True,
            )
        elif built.status == "released":
            exports.write(runtime, built.id, format_name, out)  # type: ignore[arg-type]
        else:
            written = False  # a held version is written in no format
    except ScholiaError as error:
        console.print(f"[red]Export failed:[/red] {error}", highlight=False, soft_wrap=True)
        sys.exit(1)
    finally:
        runtime.close()
    where = (f" as {format_name}" if format_name else "") + f" → {out}"
    if not written:
        where = f"; nothing written to {out}"
    console.print(
        f"version {built.version}: {built.item_count} items, {built.annotation_count} annotations, "
        f"content hash {built.content_hash}{where}",
        highlight=False,
        soft_wrap=True,
    )
    if built.status != "released":
        console.print("[red]Held by the export gate:[/red]", highlight=False)
        for rule in built.gate_report.get("rules", []):
            if not rule["passed"]:
                wanted = f"{rule['direction'].replace('_', ' ')} {rule['threshold']}"
                console.print(
                    f"  {rule['rule']}: {rule['value']}, wanted {wanted}. {rule['message']}",
                    highlight=False,
                    markup=False,
                    soft_wrap=True,
                )
        sys.exit(1)


# --- scholia suggest ------------------------------------------------------------------------


@main.command("suggest")
@click.argument("project_id", metavar="PROJECT", type=int)
@click.option(
    "--model",
    "model_id",
    type=int,
    default=None,
    help="Model id (see the project's Models page); the active model if left out.",
)
@click.option(
    "--item", "item_ids", multiple=True, type=int, help="Only this item (repeat for several)."
)
@click.option(
    "--resume", "resume_id", type=int, default=None, help="Resume this cancelled or failed job."
)
@click.option("--as", "as_user", metavar="USERNAME", default=None, help="User recorded.")
@data_dir_option
def suggest(
    project_id: int,
    model_id: int | None,
    item_ids: tuple[int, ...],
    resume_id: int | None,
    as_user: str | None,
    data_dir: Path | None,
) -> None:
    """Ask a model for suggestions on project PROJECT's unlabeled items (or --item ones).

    Runs the same job as the Models page's "Suggest for unlabeled", in this process, with its
    progress on the job's row (the page shows it). Ctrl-C cancels after the current batch;
    --resume JOB goes on from there. Suggestions made again supersede the earlier ones.
    Exits 0 when done, 1 when the model failed, 2 on a usage error.
    """
    from scholia.core import jobs, model_registry, suggestion_jobs

    runtime = _runtime(data_dir)
    try:
        with runtime.session() as session:
            actor = _import_actor(session, as_user, project_id)
            assert actor.id is not None
            if resume_id is not None:
                job = suggestion_jobs.get_job(session, resume_id, project_id)
                jobs.claim_again(session, suggestion_jobs.JOB, job, actor.id)
            else:
                if model_id is not None:
                    model = model_registry.get_model(session, model_id, project_id)
                else:
                    active = model_registry.active_models(session, project_id)
                    if not active:
                        _usage_error(
                            f"project {project_id} has no active model; activate one on its "
                            "Models page or pass --model ID"
                        )
                    model = active[0]
                job = suggestion_jobs.start(
                    session,
                    model,
                    scope="items" if item_ids else "unlabeled",
                    item_ids=list(item_ids) or None,
                    actor_id=actor.id,
                )
    except ScholiaError as error:
        runtime.close()
        _usage_error(str(error))
    assert job.id is not None
    left = job.total - job.processed
    console.print(
        f"Suggestion job {job.id}: {left} of {job.total} items to ask the model about",
        highlight=False,
    )
    progress_context, advance = _progress("suggest", "items", left)
    seen = job.processed

    def moved(progress: Any) -> None:
        nonlocal seen
        for _ in range(progress.processed - seen):
            advance()
        seen = progress.processed

    try:
        with progress_context:
            finished = suggestion_jobs.run(runtime, job.id, on_progress=moved)
    except KeyboardInterrupt:
        with runtime.session() as session:
            finished = suggestion_jobs.get_job(session, job.id)
            if finished.status == "running":
                jobs.cancel(session, suggestion_jobs.JOB, finished, job.created_by)
        console.print(
            f"Cancelled after {finished.processed} of {finished.total} items; resume with "
            f"`scholia suggest {project_id} --resume {job.id}`",
            highlight=False,
        )
    finally:
        runtime.close()
    console.print(
        f"job {finished.id} {finished.status}: {finished.suggested} suggested, "
        f"{finished.failed} failed, {finished.processed} of {finished.total} items",
        highlight=False,
    )
    for failure in finished.failures[:10]:
        console.print(
            f"  {failure['name']} (item {failure['item_id']}): {failure['error']}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if finished.status != "done":
        console.print(f"[red]The model failed:[/red] {finished.error}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()

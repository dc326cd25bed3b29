"""Store commands: `geogrid db upgrade`, `geogrid import` and `geogrid user add`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from geogrid.access import ROLES
from geogrid.db.engine import INSUFFICIENT_PRIVILEGE
from geogrid.errors import InputError

db_app = typer.Typer(no_args_is_help=True, add_completion=False, help="Manage the store's database.")
err = Console(stderr=True)

UrlOpt = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL (default: GEOGRID_DATABASE_URL or the embedded file)."),
]
LayerOpt = Annotated[Path | None, typer.Option(dir_okay=False)]


@contextmanager
def _user_errors() -> Iterator[None]:
    """Show a bad-input message on stderr and exit 2, never a traceback."""
    try:
        yield
    except InputError as exc:
        _fail(str(exc))
    except (ArgumentError, OperationalError) as exc:  # a malformed URL or an unreachable database
        _fail(f"cannot use the database: {' '.join(str(exc.orig if hasattr(exc, 'orig') else exc).split())}")
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        reason = " ".join(str(exc.orig).split())
        _fail(f"the database role may not do this ({reason}): ask the database's owner to grant it")


def _fail(message: str) -> NoReturn:
    err.print("[bold red]error:[/]", escape(message), highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _ready(url: str | None) -> None:
    """Raise InputError unless the database schema is at the newest revision."""
    from geogrid.db.engine import get_engine
    from geogrid.db.migrate import is_current

    if not is_current(get_engine(url)):
        raise InputError("the database schema is not up to date: run `geogrid db upgrade` first")


@db_app.command("upgrade")
def upgrade_command(database_url: UrlOpt = None) -> None:
    """Create or migrate the store's tables to the newest schema."""
    from geogrid.db.migrate import describe_upgrade, upgrade

    with _user_errors():
        before, after = upgrade(database_url)
    typer.echo(describe_upgrade(before, after))


def import_command(
    districts: LayerOpt = None,
    streets: LayerOpt = None,
    communities: LayerOpt = None,
    buildings: LayerOpt = None,
    roads: LayerOpt = None,
    villager_groups: LayerOpt = None,
    input_crs: Annotated[
        str | None, typer.Option(help="CRS of inputs that declare none, e.g. gcj02, EPSG:4490.")
    ] = None,
    database_url: UrlOpt = None,
) -> None:
    """Import layers into the store in one transaction: any bad row rejects the whole import."""
    from geogrid.store.imports import import_files

    given = {
        "districts": districts,
        "streets": streets,
        "communities": communities,
        "buildings": buildings,
        "roads": roads,
        "villager_groups": villager_groups,
    }
    paths = {kind: path for kind, path in given.items() if path is not None}
    with _user_errors():
        if not paths:
            raise InputError("give at least one layer, e.g. --communities FILE")
        _ready(database_url)
        counts = import_files(database_url, paths, input_crs)
    for kind, count in counts.items():
        typer.echo(f"{kind}: {count} rows")


def user_add_command(
    username: Annotated[str, typer.Argument(help="Sign-in name.")],
    role: Annotated[str, typer.Option(help=f"{', '.join(ROLES[:-1])} or {ROLES[-1]}.")],
    scope: Annotated[str, typer.Option(help="Area code the user may act on (district, street or community; a grid "
                                             "for a grid worker); it must be in the store.")],
    password: Annotated[str | None, typer.Option(help="Password (asked for when omitted).")] = None,
    display_name: Annotated[str | None, typer.Option(help="Name shown in the app.")] = None,
    department: Annotated[
        str | None, typer.Option(help="For department staff: the department cases are dispatched to.")
    ] = None,
    database_url: UrlOpt = None,
) -> None:
    """Add a user who can sign in to the service."""
    from geogrid.db.session import session_scope
    from geogrid.store.users import add_user, check_scope_is_an_area

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _user_errors():
        _ready(database_url)
        with session_scope(database_url) as session:
            if department is not None:
                from geogrid.incidents.taxonomy import load_taxonomy

                load_taxonomy().check_department(department)
            if role in ROLES:  # an unknown role is named by add_user, before any scope
                check_scope_is_an_area(session, role, scope)
            add_user(session, username, password, role, scope, display_name, department=department)
    typer.echo(f"added user {username} ({role}, scope {scope})")


def user_password_command(
    username: Annotated[str, typer.Argument(help="Sign-in name.")],
    password: Annotated[str | None, typer.Option(help="The new password (asked for when omitted).")] = None,
    database_url: UrlOpt = None,
) -> None:
    """Give a user a new password."""
    from geogrid.db.session import session_scope
    from geogrid.store.users import set_password

    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with _user_errors():
        _ready(database_url)
        with session_scope(database_url) as session:
            set_password(session, username, password)
    typer.echo(f"user {username}: password changed")


def user_disable_command(
    username: Annotated[str, typer.Argument(help="Sign-in name.")], database_url: UrlOpt = None
) -> None:
    """Stop a user from signing in; their tokens are refused from the next request on."""
    _set_active(username, False, database_url)


def user_enable_command(
    username: Annotated[str, typer.Argument(help="Sign-in name.")], database_url: UrlOpt = None
) -> None:
    """Let a disabled user sign in again."""
    _set_active(username, True, database_url)


def _set_active(username: str, active: bool, database_url: str | None) -> None:
    from geogrid.db.session import session_scope
    from geogrid.store.users import set_active

    with _user_errors():
        _ready(database_url)
        with session_scope(database_url) as session:
            set_active(session, username, active)
    typer.echo(f"user {username} {'enabled' if active else 'disabled'}")

"""`geogrid plans`: partition the store's communities, import a plan file, list and publish plan versions."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.running import executor, progress
from geogrid.partition.report import report_console
from cli.store import UrlOpt, _ready, _user_errors
from geogrid.errors import InputError

plans_app = typer.Typer(no_args_is_help=True, add_completion=False, help="Partition, import, list and publish plans.")
err = Console(stderr=True)

ActorOpt = Annotated[str | None, typer.Option("--actor", help="Name recorded in the audit log (default: your login).")]
PublishOpt = Annotated[bool, typer.Option("--publish", help="Publish each new plan version at once.")]


@plans_app.command("partition")
def partition_command(
    all_communities: Annotated[bool, typer.Option("--all", help="Every community in the store.")] = False,
    community: Annotated[list[str] | None, typer.Option("--community", help="A community code (repeatable).")] = None,
    street: Annotated[str | None, typer.Option("--street", help="Every community of this street or town.")] = None,
    publish: PublishOpt = False,
    keep_previous: Annotated[
        bool, typer.Option(help="Start from each published plan, keeping its grids that obey the rules.")
    ] = True,
    min_households: Annotated[int, typer.Option(help="Fewest households in a town grid.")] = 300,
    max_households: Annotated[int, typer.Option(help="Most households in a town grid.")] = 500,
    max_population: Annotated[int, typer.Option(help="Most residents in a town grid.")] = 1000,
    rural_target_population: Annotated[int, typer.Option(help="Residents of a village grid, about.")] = 500,
    rural_tolerance: Annotated[float, typer.Option(help="Allowed share above or below the village target.")] = 0.3,
    note: Annotated[str | None, typer.Option(help="A note kept with each plan version.")] = None,
    workers: Annotated[int, typer.Option(help="Processes (0: all cores on large inputs, else 1).")] = 0,
    dask_scheduler: Annotated[str | None, typer.Option(help="Run communities on this Dask scheduler.")] = None,
    actor: ActorOpt = None,
    database_url: UrlOpt = None,
) -> None:
    """Partition communities of the store by the rules and save each as a draft plan version (see `plans list`)."""
    from cli.main import user_errors
    from geogrid.db.session import session_scope
    from geogrid.partition.rules import Rules
    from geogrid.store.partitioning import community_codes, partition_and_save

    chosen = [all_communities, bool(community), street is not None]
    with _user_errors(), user_errors():
        if sum(chosen) != 1:
            raise InputError("choose the communities with exactly one of --all, --community CODE or --street CODE")
        rules = Rules(min_households=min_households, max_households=max_households, max_population=max_population,
                      rural_target_population=rural_target_population, rural_tolerance=rural_tolerance)
        _ready(database_url)
        with session_scope(database_url) as session:
            codes = community_codes(session, street=street, codes=community or ())
            if not codes:
                raise InputError(f"street {street} has no communities in the store")
            with executor(workers, dask_scheduler, 0) as pool, progress(err) as tick:
                saved = partition_and_save(session, codes, rules, actor or getpass.getuser(), publish_plans=publish,
                                           keep_previous=keep_previous, note=note, progress=tick, executor=pool)
    grids = sum(plan.grids for plan in saved)
    table = Table(title=f"{len(saved)} plan versions {'published' if publish else 'saved as drafts'} ({grids} grids)")
    for name in ("plan", "community", "version", "grids", "within limits", "flags"):
        table.add_column(name, justify="left" if name in ("community", "flags") else "right",
                         overflow="fold")
    for plan in saved:
        share = plan.report.get("within_limits_share")
        table.add_row(str(plan.plan_id), plan.community_code, str(plan.number), str(plan.grids),
                      "" if share is None else f"{share:.0%}",
                      ", ".join(f"{rule}:{n}" for rule, n in plan.report.get("flags", {}).items()))
    report_console().print(table)


@plans_app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(dir_okay=False, help="A plan GeoPackage made by `geogrid partition`.")],
    publish: PublishOpt = False,
    actor: ActorOpt = None,
    database_url: UrlOpt = None,
) -> None:
    """Load a plan made by `geogrid partition` as one draft plan version per community."""
    from geogrid.db.session import session_scope
    from geogrid.store.plan_files import import_plan, read_plan_file

    with _user_errors():
        grids, assignments = read_plan_file(path)
        _ready(database_url)
        with session_scope(database_url) as session:
            saved = import_plan(session, grids, assignments, actor or getpass.getuser(),
                                note=f"imported from {path.name}", publish_plans=publish)
    state = "published" if publish else "draft"
    for plan in saved:
        typer.echo(f"plan {plan.plan_id}: community {plan.community_code} version {plan.number}, "
                   f"{plan.grids} grids ({state})")


@plans_app.command("list")
def list_command(
    community: Annotated[str | None, typer.Option(help="Only this community's plan versions.")] = None,
    status: Annotated[str | None, typer.Option(help="Only draft, published or archived versions.")] = None,
    database_url: UrlOpt = None,
) -> None:
    """Every plan version: id, community, version, status, grids, households, who made it and when."""
    from geogrid.db.models import PLAN_STATUSES
    from geogrid.db.session import session_scope
    from geogrid.store.plan_files import list_plans

    with _user_errors():
        if status is not None and status not in PLAN_STATUSES:
            raise InputError(f"--status must be one of {', '.join(PLAN_STATUSES)}, not {status!r}")
        _ready(database_url)
        with session_scope(database_url) as session:
            rows = list_plans(session, community=community, status=status)
    table = Table(title=f"{len(rows)} plan versions")
    for name in ("id", "community", "name", "version", "status", "grids", "households", "by", "created"):
        table.add_column(name, justify="right" if name in ("id", "version", "grids", "households") else "left",
                         overflow="fold")
    for row in rows:
        table.add_row(str(row.id), row.community_code, row.community_name, str(row.number), row.status, str(row.grids),
                      str(row.households), row.created_by, row.created_at.strftime("%Y-%m-%d %H:%M"))
    report_console().print(table)


@plans_app.command("publish")
def publish_command(
    plan_id: Annotated[int, typer.Argument(help="The plan version's id (see `geogrid plans list`).")],
    actor: ActorOpt = None,
    database_url: UrlOpt = None,
) -> None:
    """Publish a plan version; the community's previously published one is archived."""
    from geogrid.db.session import session_scope
    from geogrid.store.plans import NotFound, publish

    with _user_errors():
        _ready(database_url)
        try:
            with session_scope(database_url) as session:
                plan = publish(session, plan_id, actor or getpass.getuser())
                code, number = plan.community_code, plan.number
        except NotFound as exc:
            raise InputError(str(exc)) from None
    typer.echo(f"published plan {plan_id}: community {code} version {number}")

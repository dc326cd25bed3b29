"""The `geogrid` command line."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import geopandas as gpd
import pandas as pd
import typer
from pydantic import ValidationError
from rich.console import Console

from cli.running import executor, progress
from geogrid.partition.report import report_console
from geogrid.errors import InputError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="geogrid: grid-management GIS.")
err = Console(stderr=True)

def _show_version(value: bool) -> None:
    if value:
        from geogrid import __version__

        typer.echo(f"geogrid {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """geogrid: grid-management GIS."""


@contextmanager
def user_errors():
    """Show a bad-input message and exit 2, never a traceback."""
    try:
        yield
    except InputError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'rules'}: {e['msg']}" for e in exc.errors())
        err.print(f"[bold red]error:[/] {details}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except typer.Exit:
        raise
    except Exception as exc:  # a fault of geogrid, not of the input: still a message, not a traceback
        if os.environ.get("GEOGRID_DEBUG"):
            raise
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}. Nothing was written. Please report "
                  f"it with the input files (GEOGRID_DEBUG=1 shows where it happened).", highlight=False)
        raise typer.Exit(1) from None


@app.command()
def sample(
    out: Annotated[Path, typer.Option(help="Folder to write the sample layers into.")],
    households: Annotated[int, typer.Option(min=1000, help="Households in the district.")] = 60_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 0,
    fmt: Annotated[str, typer.Option("--format", help="geojson or gpkg")] = "geojson",
) -> None:
    """Generate a synthetic district: streets, communities, buildings, roads, cameras, incidents."""
    from geogrid.sample.district import generate

    with user_errors():
        if fmt not in ("geojson", "gpkg"):
            raise InputError(f"--format must be geojson or gpkg, not {fmt!r}")
        paths = generate(out, households=households, seed=seed, fmt=fmt)
    for name, path in paths.items():
        typer.echo(f"{name}: {path}")


@app.command("partition")
def partition_command(
    communities: Path = typer.Option(..., dir_okay=False, help="Community (first-level grid) polygons."),
    buildings: Path = typer.Option(..., dir_okay=False, help="Building footprints with households and population."),
    out: Path = typer.Option(..., dir_okay=False, help="Output GeoPackage (grids, assignments)."),
    roads: Optional[Path] = typer.Option(None, dir_okay=False, help="Street network lines."),
    road_class_column: Optional[str] = typer.Option(
        None, help="The roads' class column (default: highway, fclass, road_class, 道路等级, class or grade if "
                   "present). Footways and service roads do not cut blocks; boundaries prefer major streets."),
    villager_groups: Optional[Path] = typer.Option(None, dir_okay=False, help="Villager groups (村民小组)."),
    streets: Optional[Path] = typer.Option(
        None, dir_okay=False, help="Streets and towns (street_code, name): their names go into the plan's grids."),
    previous: Optional[Path] = typer.Option(None, dir_okay=False, help="An earlier output GeoPackage to keep."),
    input_crs: Optional[str] = typer.Option(
        None, help="CRS of inputs that declare none, or that say lon/lat but are gcj02 or bd09; e.g. EPSG:4490."),
    min_households: int = typer.Option(300, help="Fewest households in a town grid."),
    max_households: int = typer.Option(500, help="Most households in a town grid."),
    max_population: int = typer.Option(1000, help="Most residents in a town grid."),
    rural_target_population: int = typer.Option(500, help="Residents of a village grid, about."),
    rural_tolerance: float = typer.Option(0.3, help="Allowed share above or below the village target."),
    report: Optional[Path] = typer.Option(None, dir_okay=False, help="Write the report as JSON here."),
    workers: int = typer.Option(0, help="Processes (0: all cores on large inputs, else 1)."),
    dask_scheduler: Optional[str] = typer.Option(None, help="Run communities on this Dask scheduler address."),
    resolve_overlaps: bool = typer.Option(
        False, help="Give each area where communities overlap to the one with the smaller code (else refused)."),
) -> None:
    """Divide communities into second-level grids that meet the rules."""
    from geogrid.geo.io import make_parent, read_layer, read_table, write_gpkg
    from geogrid.partition import partition
    from geogrid.partition.plan_file import assignments_layer, grids_layer
    from geogrid.partition.report import print_report
    from geogrid.partition.rules import Rules

    with user_errors():
        rules = Rules(min_households=min_households, max_households=max_households, max_population=max_population,
                      rural_target_population=rural_target_population, rural_tolerance=rural_tolerance)
        if out.suffix.lower() != ".gpkg":
            raise InputError(f"--out must be a GeoPackage file ending in .gpkg, not {out.name}")
        for path in filter(None, (out, report)):  # before the run, not after it
            make_parent(path)
        layers = {
            "communities": read_layer(communities, name="communities", input_crs=input_crs),
            "buildings": read_layer(buildings, name="buildings", input_crs=input_crs),
        }
        if roads:
            layers["roads"] = read_layer(roads, name="roads", input_crs=input_crs)
        if villager_groups:
            layers["villager_groups"] = read_layer(villager_groups, name="villager groups", input_crs=input_crs)
        if previous:
            layers["previous_grids"] = read_layer(previous, name="previous plan", layer="grids")
            layers["previous_assignments"] = read_table(previous, name="previous plan", layer="assignments")
        communities_read, buildings_read = layers["communities"], layers["buildings"]
        street_names = read_table(streets, name="streets") if streets else None
        with executor(workers, dask_scheduler, len(layers["buildings"])) as pool, progress(err) as tick:
            result = partition(layers.pop("communities"), layers.pop("buildings"), rules=rules,
                               road_class_column=road_class_column, executor=pool, progress=tick,
                               resolve_overlaps=resolve_overlaps, **layers)
        write_gpkg({"grids": grids_layer(result.grids, _areas(communities_read, street_names)),
                    "assignments": assignments_layer(result.assignments, _footprints(buildings_read))}, out)
        if report:
            _write_text(report, json.dumps(result.report, ensure_ascii=False, indent=2))
    print_report(result.report, report_console())
    typer.echo(f"wrote {out}" + (f" and {report}" if report else ""))


@app.command("locate")
def locate_command(
    points: Path = typer.Option(..., dir_okay=False, help="Points: CSV with lon/lat, GeoJSON, GeoPackage, Shapefile."),
    out: Path = typer.Option(..., dir_okay=False, help="Output: .csv, .geojson or .gpkg (WGS-84)."),
    grids: Optional[Path] = typer.Option(None, dir_okay=False, help="Grid polygons with grid_code (e.g. a plan's grids)."),
    db: bool = typer.Option(False, "--db", help="Use the published grids of the store (GEOGRID_DATABASE_URL)."),
    input_crs: Optional[str] = typer.Option(None, help="CRS of the points file, e.g. gcj02, bd09, EPSG:4490."),
    within: float = typer.Option(100.0, help="Suggest grids within this many metres of unplaced points."),
) -> None:
    """Place points into second-level grids; suggest the nearest grids for points outside them all."""
    from cli.locate import locate_files
    from geogrid.geo.locate import summary_line

    with user_errors():
        placed = locate_files(points, grids=grids, use_db=db, input_crs=input_crs, within_m=within, out=out)
    typer.echo(summary_line(placed, within) + f"; wrote {out}")


def _areas(communities: gpd.GeoDataFrame, streets: pd.DataFrame | None) -> pd.DataFrame:
    """The communities' codes, names (Chinese), streets (with their names, when given) and kinds, as the plan
    file's grids carry them."""
    from geogrid.geo.validate import require_columns, validate_communities

    table = pd.DataFrame(validate_communities(communities)).rename(columns={"name": "community_name"})
    table["community_name"] = table["community_name"].replace("", None)
    if streets is not None and "street_code" in table:
        require_columns(streets, ["street_code", "name"], name="streets")
        names = dict(zip(streets["street_code"].astype(str), streets["name"].astype(str), strict=True))
        table["street_name"] = table["street_code"].astype(str).map(names)
    return table.reindex(columns=["community_code", "community_name", "street_code", "street_name", "kind"])


def _footprints(buildings: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Each building's footprint (or point) as given, by its id as the engine reads it, for the assignments."""
    from geogrid.geo.validate import building_ids

    return buildings.geometry.set_axis(building_ids(buildings).to_numpy())


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main() -> None:  # pragma: no cover - console entry point
    app()


def _mount_store_commands() -> None:
    """`geogrid db upgrade`, `geogrid import`, `geogrid user add` and `geogrid serve` live with the store."""
    from cli.store import (db_app, import_command, user_add_command, user_disable_command, user_enable_command,
                           user_password_command)
    from cli.serve import serve

    app.add_typer(db_app, name="db")
    app.command("import")(import_command)
    user_app = typer.Typer(no_args_is_help=True, add_completion=False, help="Manage user accounts.")
    user_app.command("add")(user_add_command)
    user_app.command("password")(user_password_command)
    user_app.command("disable")(user_disable_command)
    user_app.command("enable")(user_enable_command)
    app.add_typer(user_app, name="user")
    app.command("serve")(serve)
    from cli.plans import plans_app

    app.add_typer(plans_app, name="plans")
    from cli.maps import map_command  # the map builders live in maps/, imported only by this command

    app.command("map")(map_command)


_mount_store_commands()


if __name__ == "__main__":  # pragma: no cover - python -m cli.main
    main()

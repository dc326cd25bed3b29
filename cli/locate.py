"""`geogrid locate`: place a file of points into the grids of a plan file or of the store."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

from geogrid.errors import InputError
from geogrid.geo.io import read_layer
from geogrid.geo.locate import check_within, locate_frame, write_located
from geogrid.store.plans import published_grids_at


def locate_files(points: Path, *, grids: Path | None, use_db: bool, input_crs: str | None,
                 within_m: float, out: Path) -> gpd.GeoDataFrame:
    """Read points (and grids from a file or the store), place them, write out; answers the placed frame."""
    if (grids is None) == (not use_db):
        raise InputError("give exactly one source of grids: --grids FILE or --db")
    check_within(within_m, 1)
    table = read_layer(points, name="points", input_crs=input_crs)
    grid_table = read_layer(grids, name="grids", layer=_grid_layer(grids)) if grids else published_grids_at()
    placed = locate_frame(table, grid_table, within_m=within_m)
    write_located(placed, out)
    return placed


def _grid_layer(path: Path) -> str | None:
    """The 'grids' layer of a GeoPackage written by `geogrid partition`, else None (the file's only layer)."""
    if path.suffix.lower() != ".gpkg" or not path.is_file():
        return None
    try:
        names = {str(row[0]) for row in pyogrio.list_layers(path)}
    except Exception:  # noqa: BLE001 - read_layer reports unreadable files
        return None
    return "grids" if "grids" in names and len(names) > 1 else None

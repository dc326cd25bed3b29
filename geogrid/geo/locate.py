"""Placing points into second-level grids: an exact raster-accelerated point-in-grid index and nearest grids.

How `GridIndex` answers, exactly and fast:

1. A uniform lon/lat raster covers the grids' extent (two empty cells of padding on every side).
   Every polygon ring is sampled at a quarter of a cell and each sample marks the cells within
   0.1251 cell of it, so every cell whose closed box (grown by 1e-4 cell, far above rounding)
   meets some grid boundary is marked "mixed" — conservatively: a few extra cells may be marked.
2. Unmarked cells meet no boundary, so each 4-connected region of them lies wholly inside the
   same grids (or outside all). One representative point per region is placed by the exact test
   below, and the whole region takes its answer.
3. `locate` looks points up in the raster with whole-array numpy indexing; only points in mixed
   cells go through the exact test: GEOS `intersects` (the closed polygon covers the point) on
   STRtree candidates, with the boundary rule.

Boundary rule: a point belongs to the grids whose closed polygon covers it (interior or boundary,
holes excluded); when several do — a point on an edge shared by neighbours, on a common vertex, or
in an overlap — it goes to the one that comes first in grid_code order (then in row order). So a
point on a grid's outer boundary belongs to that grid, and every point gets at most one grid.

Memory: the raster keeps at most 64 MB (2**25 int16 cells, or 2**24 int32 cells past 32,766 grids);
building it peaks at about 4 times that (the region labels are int32). `max_cells=0` builds no raster:
every point takes the exact test, and the index costs little more than its STRtree (for a service that
places one point at a time).

This module is the one home of two rules: which grid holds a point (`GridIndex.locate`, by GEOS alone
`first_covering`) and which grids are near a point that no grid holds (`GridIndex.nearest_grids`, as
JSON-ready lists `GridIndex.suggestions`). The store and the camera code place points through them.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod, Transformer
from scipy import ndimage

from geogrid.geo import crs as crs_mod
from geogrid.errors import InputError
from geogrid.geo.io import make_parent, write_csv

Floats = NDArray[np.float64]
Rows = NDArray[np.intp]

CODE_COLUMNS = ("grid_code", "community_code", "street_code")
MAX_RASTER_BYTES = 64 << 20  # the kept raster: 2**25 int16 cells, or 2**24 int32 ones past 32,766 grids
TARGET_MIXED_SHARE = 0.02  # wanted share of the extent in mixed cells, before the cell cap
SAMPLE_STEP = 0.25  # ring samples per cell side: at most this many cells apart
MARGIN = 1e-4  # cells by which every cell box is grown, far above floating-point rounding
MIN_CELL_DEG = 1e-7  # about 1 cm: keeps rounding negligible against the cell size
PAD_CELLS = 2
MIXED = -2
SUGGESTION_DECIMALS = 1  # suggested grids give their distance in metres to a tenth (projection error is ~0.04%)
_NO_GRID = np.iinfo(np.int64).max
_MAX_LISTED = 10


class GridIndex:
    """Exact point-in-grid lookup over grid polygons (WGS-84 lon/lat), built once, used for many points."""

    def __init__(self, grids: gpd.GeoDataFrame, *, max_cells: int | None = None) -> None:
        """Index grids (a GeoDataFrame with a grid_code column and Polygon/MultiPolygon geometries).

        max_cells caps the raster (default: what fits in 64 MB); smaller rasters send more points to the exact
        test, and 0 builds none (every point takes the exact test).
        """
        self.grids = _checked_grids(grids)
        self.geoms = np.asarray(self.grids.geometry.values, dtype=object)
        self.order = _code_order(self.grids["grid_code"])
        self.rank = _ranks(self.order)
        self.tree = shapely.STRtree(self.geoms)
        self._metric: tuple[Transformer, shapely.STRtree, NDArray[np.object_]] | None = None
        self._code_columns: dict[str, NDArray[np.object_]] = {}
        present = self.geoms[~shapely.is_empty(self.geoms)]
        self.empty = present.size == 0
        dtype = np.int16 if len(self.geoms) < np.iinfo(np.int16).max else np.int32
        cells = MAX_RASTER_BYTES // np.dtype(dtype).itemsize if max_cells is None else max_cells
        self.raster = _Raster.build(self, present, cells, dtype) if present.size and cells > 0 else None

    def locate(self, lon: ArrayLike, lat: ArrayLike) -> Rows:
        """Row position of each point's grid (by the boundary rule), or -1 for points in no grid."""
        x, y = np.asarray(lon, dtype=float).ravel(), np.asarray(lat, dtype=float).ravel()
        if x.shape != y.shape:
            raise InputError(f"lon and lat must have the same length, not {x.size} and {y.size}")
        if self.empty:
            return np.full(x.size, -1, dtype=np.intp)
        if self.raster is None:
            return self.exact(x, y)
        rows = self.raster.lookup(x, y).astype(np.intp)
        mixed = np.flatnonzero(rows == MIXED)
        rows[mixed] = self.exact(x[mixed], y[mixed])
        return rows

    def exact(self, lon: Floats, lat: Floats) -> Rows:
        """The boundary rule by GEOS alone: the first grid in code order whose closed polygon covers each point."""
        return _first_covering(self.tree, self.geoms, self.order, self.rank, lon, lat)

    def suggestions(
        self, lon: ArrayLike, lat: ArrayLike, within_m: float = 100.0, limit: int = 3,
        columns: tuple[str, ...] = ("grid_code",),
    ) -> list[list[dict[str, Any]]]:
        """Per point, the nearest_grids as JSON-ready dicts: the grids' code columns (text), then distance_m (to a tenth)."""
        x = np.asarray(lon, dtype=float).ravel()
        point, row, distance = self._near(x, np.asarray(lat, dtype=float).ravel(), within_m, limit)
        values = [self._codes(c)[row].tolist() for c in columns]
        metres = np.round(distance, SUGGESTION_DECIMALS).tolist()
        lists: list[list[dict[str, Any]]] = [[] for _ in range(x.size)]
        for k, p in enumerate(point.tolist()):
            lists[p].append({c: v[k] for c, v in zip(columns, values, strict=True)} | {"distance_m": metres[k]})
        return lists

    def nearest_grids(self, lon: ArrayLike, lat: ArrayLike, within_m: float = 100.0, limit: int = 3) -> pd.DataFrame:
        """The grids within within_m metres of each point, nearest first (ties in grid_code order), at most limit.

        Meant for points `locate` left at -1 (a point inside a grid gets it at 0 m). Distances are
        measured in the metric CRS of geogrid.geo.crs.metric_crs. Returns one row per (point, grid):
        point (position in the input), row (the grid's row position), grid_code, distance_m.
        """
        x, y = np.asarray(lon, dtype=float).ravel(), np.asarray(lat, dtype=float).ravel()
        point, row, distance = self._near(x, y, within_m, limit)
        grid_code = self.grids["grid_code"].to_numpy(dtype=object)[row]
        return pd.DataFrame({"point": point, "row": row, "grid_code": grid_code, "distance_m": distance})

    def _near(self, x: Floats, y: Floats, within_m: float, limit: int) -> tuple[Rows, Rows, Floats]:
        """nearest_grids as arrays: point positions, grid rows, distances in metres."""
        check_within(within_m, limit)
        finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        if self.empty or finite.size == 0:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp), np.empty(0)
        transformer, tree, metric_geoms = self._metric_index()
        mx, my = transformer.transform(x[finite], y[finite])
        points = shapely.points(np.column_stack((mx, my)))
        which, grid = tree.query(points, predicate="dwithin", distance=within_m)
        distance = shapely.distance(points[which], metric_geoms[grid])
        keep = distance <= within_m
        which, grid, distance = which[keep], grid[keep], distance[keep]
        order = np.lexsort((self.rank[grid], distance, which))
        which, grid, distance = which[order], grid[order], distance[order]
        first = np.searchsorted(which, which, side="left")
        top = np.arange(which.size) - first < limit
        return finite[which[top]].astype(np.intp), grid[top].astype(np.intp), distance[top]

    def _codes(self, column: str) -> NDArray[np.object_]:
        """A code column of the grids as text (None when missing), kept after first use."""
        if column not in self._code_columns:
            self._code_columns[column] = np.array([_code_text(v) for v in self.grids[column]], dtype=object)
        return self._code_columns[column]

    def _metric_index(self) -> tuple[Transformer, shapely.STRtree, NDArray[np.object_]]:
        """The grids in their metric CRS and an STRtree over them (made on first use)."""
        if self._metric is None:
            metric = crs_mod.metric_crs(self.grids)
            transformer = Transformer.from_crs(crs_mod.WGS84, metric, always_xy=True)
            geoms = shapely.transform(self.geoms, lambda x, y: transformer.transform(x, y), interleaved=False)
            self._metric = (transformer, shapely.STRtree(geoms), geoms)
        return self._metric


class _Raster:
    """The lookup raster: per cell a grid row, -1 (no grid) or MIXED (needs the exact test)."""

    def __init__(self, origin: tuple[float, float], cell: tuple[float, float], values: NDArray[np.integer]) -> None:
        """A raster of values (rows y, columns x) whose cell (0, 0) starts at origin (lon, lat)."""
        self.x0, self.y0 = origin
        self.inv_dx, self.inv_dy = 1.0 / cell[0], 1.0 / cell[1]
        self.ny, self.nx = values.shape
        self.values = values.ravel()

    @classmethod
    def build(cls, index: GridIndex, geoms: NDArray[np.object_], max_cells: int, dtype: type) -> _Raster:
        """Mark the cells near ring samples, label the unmarked regions, place one point of each exactly."""
        bounds = shapely.total_bounds(geoms)
        dx, dy = _cell_size(geoms, bounds, max_cells)
        nx = int(math.ceil((bounds[2] - bounds[0]) / dx)) + 2 * PAD_CELLS + 1
        ny = int(math.ceil((bounds[3] - bounds[1]) / dy)) + 2 * PAD_CELLS + 1
        origin = (bounds[0] - PAD_CELLS * dx, bounds[1] - PAD_CELLS * dy)
        fx, fy = _ring_samples(geoms, origin, (dx, dy))
        mixed = _mark_near(fx, fy, (ny, nx))
        regions, count = ndimage.label(~mixed)
        centres = _region_points(regions, count)
        answers = index.exact(origin[0] + (centres[:, 1] + 0.5) * dx, origin[1] + (centres[:, 0] + 0.5) * dy)
        per_region = np.concatenate([[MIXED], answers]).astype(dtype)
        return cls(origin, (dx, dy), per_region[regions])

    def lookup(self, x: Floats, y: Floats) -> NDArray[np.integer]:
        """Raster values at the points; points off the raster (or NaN) read a padding cell: -1."""
        col = np.fmin(np.fmax((x - self.x0) * self.inv_dx, 0.0), self.nx - 1).astype(np.intp)
        row = np.fmin(np.fmax((y - self.y0) * self.inv_dy, 0.0), self.ny - 1).astype(np.intp)
        row *= self.nx
        row += col
        return self.values[row]

    @property
    def mixed_share(self) -> float:
        """The share of cells that need the exact test."""
        return float(np.count_nonzero(self.values == MIXED)) / self.values.size


def _cell_size(geoms: NDArray[np.object_], bounds: Floats, max_cells: int) -> tuple[float, float]:
    """Cell width and height in degrees: square on the ground, about TARGET_MIXED_SHARE of cells
    crossed by boundaries, at most max_cells cells."""
    shrink = max(math.cos(math.radians((bounds[1] + bounds[3]) / 2.0)), 0.01)
    width, height = max((bounds[2] - bounds[0]) * shrink, MIN_CELL_DEG), max(bounds[3] - bounds[1], MIN_CELL_DEG)
    local = shapely.transform(geoms, lambda coords: coords * np.array([shrink, 1.0]))
    boundary = float(shapely.length(shapely.boundary(local)).sum()) / 2.0  # shared edges counted once
    side = TARGET_MIXED_SHARE * width * height / max(boundary, MIN_CELL_DEG)
    side = max(side, math.sqrt(width * height / max(max_cells, 1)) * 1.0001, MIN_CELL_DEG)
    side = max(side, max(width, height) / max_cells)  # one long thin extent
    return side / shrink, side


def _ring_samples(
    geoms: NDArray[np.object_], origin: tuple[float, float], cell: tuple[float, float]
) -> tuple[Floats, Floats]:
    """Points along every ring (exteriors and holes) at most SAMPLE_STEP cells apart, in cell units."""
    coords, ring = shapely.get_coordinates(shapely.get_rings(shapely.get_parts(geoms)), return_index=True)
    fx, fy = (coords[:, 0] - origin[0]) / cell[0], (coords[:, 1] - origin[1]) / cell[1]
    same = ring[:-1] == ring[1:]
    ax, ay, bx, by = fx[:-1][same], fy[:-1][same], fx[1:][same], fy[1:][same]
    steps = np.ceil(np.maximum(np.abs(bx - ax), np.abs(by - ay)) / SAMPLE_STEP).astype(np.intp) + 1
    segment = np.repeat(np.arange(steps.size), steps)
    k = np.arange(segment.size) - np.repeat(np.cumsum(steps) - steps, steps)
    t = k / (steps - 1)[segment]
    return ax[segment] + t * (bx - ax)[segment], ay[segment] + t * (by - ay)[segment]


def _mark_near(fx: Floats, fy: Floats, shape: tuple[int, int]) -> NDArray[np.bool_]:
    """True for every cell whose box is within half a sample step (plus MARGIN) of a sample."""
    reach = SAMPLE_STEP / 2.0 + MARGIN
    mixed = np.zeros(shape, dtype=bool)
    cols = (np.floor(fx - reach).astype(np.intp), np.floor(fx + reach).astype(np.intp))
    rows = (np.floor(fy - reach).astype(np.intp), np.floor(fy + reach).astype(np.intp))
    for row in rows:
        for col in cols:
            mixed[row, col] = True
    return mixed


def _region_points(regions: NDArray[np.int32], count: int) -> NDArray[np.intp]:
    """One cell (row, column) inside each labelled region 1..count, in label order."""
    cells = np.empty((count, 2), dtype=np.intp)
    for label, (rows, cols) in enumerate(ndimage.find_objects(regions), start=1):
        cells[label - 1] = rows.start, cols.start + int(np.argmax(regions[rows.start, cols] == label))
    return cells


# --- the boundary rule ---------------------------------------------------------------------


def first_covering(polygons: ArrayLike, codes: ArrayLike, lon: ArrayLike, lat: ArrayLike) -> Rows:
    """The boundary rule for a few polygons at hand (no index kept): per point the position of the first
    polygon in code order (then position) whose closed polygon covers it, -1 when none does."""
    geoms = np.asarray(polygons, dtype=object)
    x, y = np.asarray(lon, dtype=float).ravel(), np.asarray(lat, dtype=float).ravel()
    order = _code_order(pd.Series(np.asarray(codes, dtype=object)))
    return _first_covering(shapely.STRtree(geoms), geoms, order, _ranks(order), x, y)


def _first_covering(
    tree: shapely.STRtree, geoms: NDArray[np.object_], order: Rows, rank: NDArray[np.int64], lon: Floats, lat: Floats
) -> Rows:
    """Per point the first of geoms in order (row positions by code; rank its inverse) whose closed polygon
    covers it, else -1."""
    point, grid = tree.query(shapely.points(np.column_stack((lon, lat))))  # envelopes, then GEOS intersects
    covers = shapely.intersects_xy(geoms[grid], lon[point], lat[point])
    point, grid = point[covers], grid[covers]
    best = np.full(len(lon), _NO_GRID, dtype=np.int64)
    np.minimum.at(best, point, rank[grid])
    found = best != _NO_GRID
    rows = np.full(len(lon), -1, dtype=np.intp)
    rows[found] = order[best[found]]
    return rows


def _ranks(order: Rows) -> NDArray[np.int64]:
    """Each row's place in order."""
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


def _code_text(value: Any) -> str | None:
    """A code as text (None when missing)."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


# --- checking grids and points ------------------------------------------------------------


def _checked_grids(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The grids in WGS-84 with a fresh index; InputError for a missing grid_code, non-polygons or invalid polygons."""
    if "grid_code" not in grids.columns:
        raise InputError(f"grids: no grid_code column; the grids have: {', '.join(map(str, grids.columns))}")
    if grids.crs is not None and not grids.crs.equals(crs_mod.WGS84):
        grids = grids.to_crs(crs_mod.WGS84)
    grids = grids.reset_index(drop=True)
    geoms = np.asarray(grids.geometry.values, dtype=object)
    geoms = np.where(shapely.is_missing(geoms), shapely.Polygon(), geoms)
    kinds = shapely.get_type_id(geoms)
    _reject(grids, ~np.isin(kinds, (3, 6)), "are not polygons or multipolygons")
    _reject(grids, ~shapely.is_valid(geoms), "are invalid polygons (self-intersecting or with bad rings)")
    shapely.prepare(geoms)
    return grids.set_geometry(gpd.GeoSeries(geoms, crs=crs_mod.WGS84))


def _reject(grids: gpd.GeoDataFrame, bad: NDArray[np.bool_], what: str) -> None:
    """InputError naming the grid codes of the bad rows, if any."""
    if bad.any():
        codes = grids["grid_code"].astype(str).to_numpy()[bad]
        more = f" and {codes.size - _MAX_LISTED} more" if codes.size > _MAX_LISTED else ""
        raise InputError(f"grids {', '.join(codes[:_MAX_LISTED])}{more} {what}")


def _code_order(codes: pd.Series) -> Rows:
    """Row positions sorted by grid_code as text, then by row."""
    text = codes.astype(str).to_numpy()
    return np.lexsort((np.arange(text.size), text)).astype(np.intp)


def check_within(within_m: float, limit: int) -> None:
    """InputError unless the search distance is finite and >= 0 and the limit at least 1."""
    if not (math.isfinite(within_m) and within_m >= 0):
        raise InputError(f"the search distance must be a number of metres >= 0, not {within_m}")
    if limit < 1:
        raise InputError(f"the number of nearest grids must be at least 1, not {limit}")


def _point_coordinates(points: gpd.GeoDataFrame) -> tuple[Floats, Floats]:
    """Lon/lat of point geometries (NaN for missing or empty ones); InputError naming rows of other types."""
    geoms = np.asarray(points.geometry.values, dtype=object)
    kinds = shapely.get_type_id(geoms)
    bad = np.flatnonzero((kinds != 0) & (kinds != -1) & ~shapely.is_empty(geoms))
    if bad.size:
        shown = ", ".join(f"{i + 1} ({geoms[i].geom_type})" for i in bad[:_MAX_LISTED])
        raise InputError(f"points: features {shown} are not points (features numbered from 1)")
    solid = (kinds == 0) & ~shapely.is_empty(geoms)
    x, y = np.full(geoms.size, np.nan), np.full(geoms.size, np.nan)
    x[solid], y[solid] = shapely.get_x(geoms[solid]), shapely.get_y(geoms[solid])
    return x, y


# --- frames, files and the store ---------------------------------------------------------


def locate_frame(
    points: gpd.GeoDataFrame, grids: gpd.GeoDataFrame | GridIndex, within_m: float = 100.0
) -> gpd.GeoDataFrame:
    """The points (in WGS-84) with grid_code, community_code, street_code (when the grids have them), located,
    and suggestions: for unlocated points the grids within within_m metres, nearest first, as
    [{"grid_code", "distance_m"}] (empty for located points). Existing columns of these names are replaced."""
    index = grids if isinstance(grids, GridIndex) else GridIndex(grids)
    if points.crs is not None and not points.crs.equals(crs_mod.WGS84):
        points = points.to_crs(crs_mod.WGS84)
    out = points.reset_index(drop=True).copy()
    lon, lat = _point_coordinates(out)
    rows = index.locate(lon, lat)
    located = rows >= 0
    for column in CODE_COLUMNS:
        if column in index.grids.columns:
            codes = index.grids[column].to_numpy(dtype=object)[np.where(located, rows, 0)]
            out[column] = pd.Series(np.where(located, codes, None), index=out.index, dtype=object)
    out["located"] = located
    lost = np.flatnonzero(~located)
    suggestions: list[list[dict[str, Any]]] = [[] for _ in range(lon.size)]
    for point, near in zip(lost, index.suggestions(lon[lost], lat[lost], within_m=within_m), strict=True):
        suggestions[point] = near
    out["suggestions"] = suggestions
    return out


def write_located(points: gpd.GeoDataFrame, out: Path) -> None:
    """Write located points by out's suffix (.csv with lon/lat, .geojson, .gpkg) atomically; suggestions as JSON."""
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".geojson", ".gpkg"):
        raise InputError(f"--out must end in .csv, .geojson or .gpkg, not {out.name}")
    make_parent(out)
    frame = points.copy()
    frame["suggestions"] = [json.dumps(s, ensure_ascii=False) for s in frame["suggestions"]]
    tmp = out.with_name(f".{out.name}.tmp{suffix}")
    if suffix == ".csv":
        lon, lat = _point_coordinates(frame)
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        table.insert(0, "lat", lat)
        table.insert(0, "lon", lon)
        write_csv(table, tmp)
    else:
        frame.to_file(tmp, driver="GPKG" if suffix == ".gpkg" else "GeoJSON", engine="pyogrio",
                      layer="points" if suffix == ".gpkg" else out.stem)  # GeoJSON keeps suggestions as arrays
    os.replace(tmp, out)


def summary_line(placed: pd.DataFrame, within_m: float) -> str:
    """'placed N of M points in grids; K unplaced (J with a grid within W m)'."""
    located = int(placed["located"].sum())
    lost = len(placed) - located
    near = int(((placed["suggestions"].str.len() > 0) & ~placed["located"]).sum())
    return (f"placed {located} of {len(placed)} points in grids; "
            f"{lost} unplaced ({near} with a grid within {within_m:g} m)")


GEOD = Geod(ellps="WGS84")
METRES_PER_DEGREE_LAT = 110_574.0  # the fewest metres in a degree of latitude (at the equator)


def distances_m(lon: float, lat: float, lons: ArrayLike, lats: ArrayLike) -> np.ndarray:
    """Geodesic distances in metres (WGS-84 ellipsoid) from one WGS-84 point to each of many, as one array."""
    x, y = np.asarray(lons, dtype=float).ravel(), np.asarray(lats, dtype=float).ravel()
    _, _, distance = GEOD.inv(np.full_like(x, lon), np.full_like(y, lat), x, y)
    return np.asarray(distance, dtype=float)


def box_around(lon: float, lat: float, metres: float) -> tuple[float, float, float, float]:
    """A lon/lat box (minlon, minlat, maxlon, maxlat) holding every point within metres of (lon, lat): a cheap
    first filter before distances_m."""
    dlat = metres / METRES_PER_DEGREE_LAT * 1.01
    dlon = dlat / max(math.cos(math.radians(min(abs(lat) + dlat, 89.0))), 1e-6)
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat

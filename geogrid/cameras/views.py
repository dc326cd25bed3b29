"""What cameras see and where they stand: view sectors, placement in grids, coverage per grid, nearest cameras."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer

from geogrid.cameras.layer import in_wgs84
from geogrid.errors import InputError
from geogrid.geo import crs as crs_mod
from geogrid.geo import validate
from geogrid.geo.locate import GridIndex
from geogrid.geo.validate import _require_ids

Floats = NDArray[np.float64]

ARC_STEP_DEG = 5.0  # at most this many degrees between arc vertices of a sector
_NORTH_PROBE_DEG = 1e-4  # about 11 m of latitude: a step north to find grid north
_ANGLE_EPS_DEG = 1e-9


# --- view sectors -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Optics:
    """Camera positions in a metric CRS, headings relative to grid north, fields of view and reaches."""

    x: Floats
    y: Floats
    heading: Floats  # degrees clockwise from the metric CRS's grid north; NaN when unknown
    fov: Floats  # degrees; NaN when unknown
    reach: Floats  # metres: range_m, else the default radius

    @property
    def disc(self) -> NDArray[np.bool_]:
        """True where the camera sees all round (no heading, no fov, or fov >= 360)."""
        return ~np.isfinite(self.heading) | ~np.isfinite(self.fov) | (self.fov >= 360.0)


def _column(frame: pd.DataFrame, column: str) -> Floats:
    """A numeric column as floats, all NaN when the column is absent."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _lonlat_points(cameras: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoSeries:
    """The camera points in WGS-84 (a missing CRS is taken as WGS-84)."""
    points = cameras.geometry
    if points.crs is None:
        return points.set_crs(crs_mod.WGS84)
    return points if points.crs == crs_mod.WGS84 else points.to_crs(crs_mod.WGS84)


@lru_cache(maxsize=32)
def _to_metric(metric: CRS) -> Transformer:
    """The WGS-84 to metric transformer, cached: building one costs about 80 ms (pyproj 3.1+ is thread-safe)."""
    return Transformer.from_crs(crs_mod.WGS84, metric, always_xy=True)


def _grid_north(lon: Floats, lat: Floats, metric: CRS) -> tuple[Floats, Floats, Floats]:
    """Projected x, y and the grid bearing (degrees) of true north at each lon/lat."""
    to_metric = _to_metric(metric)
    x, y = (np.asarray(v, dtype=float) for v in to_metric.transform(lon, lat))
    nx, ny = (np.asarray(v, dtype=float) for v in to_metric.transform(lon, lat + _NORTH_PROBE_DEG))
    return x, y, np.degrees(np.arctan2(nx - x, ny - y))


def _optics(cameras: gpd.GeoDataFrame, metric: CRS, default_radius_m: float) -> _Optics:
    """Camera optics in the metric CRS; headings are turned from true north to grid north."""
    _check_positive(default_radius_m, "default_radius_m")
    points = np.asarray(_lonlat_points(cameras).values)
    x, y, north = _grid_north(shapely.get_x(points), shapely.get_y(points), metric)
    reach = _column(cameras, "range_m")
    reach = np.where(np.isfinite(reach) & (reach > 0), reach, float(default_radius_m))
    heading = _column(cameras, "heading") + north
    return _Optics(x, y, heading, _column(cameras, "fov"), reach)


def _check_positive(value: float, what: str) -> None:
    """Raise InputError unless value is a finite number > 0."""
    if not (np.isfinite(value) and value > 0):
        raise InputError(f"{what} must be a number of metres > 0, not {value!r}")


def view_sectors(
    cameras: gpd.GeoDataFrame, default_radius_m: float = 50.0, metric_crs: CRS | str | int | None = None
) -> gpd.GeoSeries:
    """Each camera's view as a polygon in a metric CRS: a wedge of range_m and fov centred on its heading.

    Cameras without heading or fov, or with fov >= 360, see a full disc; a missing range_m uses
    default_radius_m. Arcs have a vertex at least every ARC_STEP_DEG degrees (area within 0.2%).
    The CRS is metric_crs, else geogrid.geo.crs.metric_crs of the cameras; the index is the cameras'.
    """
    metric = CRS.from_user_input(metric_crs) if metric_crs is not None else _metric_for(cameras)
    optics = _optics(cameras, metric, default_radius_m)
    return gpd.GeoSeries(_sector_polygons(optics), index=cameras.index, crs=metric)


def _metric_for(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> CRS:
    """The metric CRS for a layer (geogrid.geo.crs.metric_crs), a missing CRS taken as WGS-84."""
    geo = frame.geometry
    return crs_mod.metric_crs(geo.set_crs(crs_mod.WGS84) if geo.crs is None else geo)


def _sector_polygons(optics: _Optics) -> NDArray[np.object_]:
    """Wedge or disc polygons built from one flat coordinate array (no loop per camera)."""
    count = len(optics.x)
    if count == 0:
        return np.empty(0, dtype=object)
    disc = optics.disc
    span = np.where(disc, 360.0, optics.fov)
    start = np.where(disc, 0.0, optics.heading - optics.fov / 2.0)
    segments = np.maximum(np.ceil(span / ARC_STEP_DEG).astype(np.int64), 2)
    # A wedge ring is centre, segments + 1 arc points, centre; a disc ring is its arc, closed.
    sizes = np.where(disc, segments + 1, segments + 3)
    ring = np.repeat(np.arange(count), sizes)
    position = np.arange(ring.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    step = np.where(disc[ring], position % segments[ring], position - 1)
    angle = np.radians(start[ring] + step * span[ring] / segments[ring])
    reach = optics.reach[ring]
    centre = ~disc[ring] & ((position == 0) | (position == sizes[ring] - 1))
    px = np.where(centre, optics.x[ring], optics.x[ring] + reach * np.sin(angle))
    py = np.where(centre, optics.y[ring], optics.y[ring] + reach * np.cos(angle))
    rings = shapely.linearrings(np.column_stack([px, py]), indices=ring)
    return shapely.polygons(rings)


# --- grids --------------------------------------------------------------------------------


def _validated_grids(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Grids as polygons in WGS-84 with unique text grid_code, or InputError naming the bad rows."""
    out, _ = validate.validate_polygons(grids, name="grids", id_column="grid_code")
    out = _require_ids(out, "grid_code", name="grids")
    return in_wgs84(out, name="grids")


def grid_rows(cameras: gpd.GeoDataFrame, grids: GridIndex) -> NDArray[np.intp]:
    """Row of the grid holding each camera by the boundary rule (geogrid.geo.locate), -1 for none."""
    points = np.asarray(_lonlat_points(cameras).values)
    return grids.locate(shapely.get_x(points), shapely.get_y(points))


def place_cameras(cameras: gpd.GeoDataFrame, grids: gpd.GeoDataFrame | GridIndex) -> gpd.GeoDataFrame:
    """A copy of cameras with grid_code: the grid holding the camera (smallest code on a shared edge), else None.

    grids is a layer (validated here) or a GridIndex already built over grids."""
    index = grids if isinstance(grids, GridIndex) else GridIndex(_validated_grids(grids), max_cells=0)
    rows = grid_rows(cameras, index)
    codes = index.grids["grid_code"].to_numpy(dtype=object)[np.where(rows >= 0, rows, 0)]
    out = cameras.copy()
    out["grid_code"] = pd.Series(np.where(rows >= 0, codes, None), index=out.index, dtype=object)  # keeps None
    return out



def coverage_by_grid(
    grids: gpd.GeoDataFrame, cameras: gpd.GeoDataFrame, default_radius_m: float = 50.0
) -> pd.DataFrame:
    """Per grid: grid_code, camera_count, covered_m2, area_m2, covered_share, in the grids' order.

    camera_count counts cameras whose point lies in the grid (a point on a shared edge counts
    once, for the smallest grid_code). covered_m2 is the area of the union of all view sectors,
    including those of cameras outside the grid, within the grid; areas are in a metric CRS.
    """
    grid_layer = _validated_grids(grids)
    codes = grid_layer["grid_code"].to_numpy()
    metric = _metric_for(grid_layer)
    grid_shapes = np.asarray(grid_layer.geometry.to_crs(metric).values)
    area = shapely.area(grid_shapes)
    covered = _covered_areas(grid_shapes, np.asarray(view_sectors(cameras, default_radius_m, metric).values))
    rows = grid_rows(cameras, GridIndex(grid_layer, max_cells=0))
    counts = np.bincount(rows[rows >= 0], minlength=len(codes)).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(area > 0, covered / area, np.nan)
    return pd.DataFrame(
        {"grid_code": codes, "camera_count": counts, "covered_m2": covered, "area_m2": area, "covered_share": share}
    )


def _covered_areas(grid_shapes: NDArray[np.object_], sectors: NDArray[np.object_]) -> Floats:
    """Area of each grid covered by the union of the sectors: clip sectors per grid, union per grid."""
    covered = np.zeros(len(grid_shapes))
    grid_index, sector_index = shapely.STRtree(sectors).query(grid_shapes, predicate="intersects")
    if grid_index.size == 0:
        return covered
    order = np.argsort(grid_index, kind="stable")
    grid_index, sector_index = grid_index[order], sector_index[order]
    pieces = shapely.intersection(sectors[sector_index], grid_shapes[grid_index])
    touched, group = np.unique(grid_index, return_inverse=True)
    per_grid = shapely.geometrycollections(pieces, indices=group)
    covered[touched] = shapely.area(shapely.union_all(per_grid[:, np.newaxis], axis=1))
    return covered


# --- nearest cameras ----------------------------------------------------------------------


def _query_points(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """Query lon/lat as 1-d float arrays, or InputError when not a place on Earth."""
    lon_arr = np.atleast_1d(np.asarray(lon, dtype=float))
    lat_arr = np.atleast_1d(np.asarray(lat, dtype=float))
    bad = ~np.isfinite(lon_arr) | ~np.isfinite(lat_arr) | (np.abs(lon_arr) > 180) | (np.abs(lat_arr) > 90)
    if lon_arr.shape != lat_arr.shape or bad.any():
        raise InputError("lon and lat must be finite WGS-84 degrees of equal length (lon -180..180, lat -90..90)")
    return lon_arr, lat_arr


def nearest_cameras_batch(
    cameras: gpd.GeoDataFrame,
    lon: ArrayLike,
    lat: ArrayLike,
    radius_m: float = 200.0,
    limit: int = 10,
    default_radius_m: float = 50.0,
) -> pd.DataFrame:
    """Cameras within radius_m of each query point, nearest first, at most limit per point.

    Columns: point (position in lon/lat), rank (0 = nearest), camera_id, name, distance_m,
    heading, fov, range_m and sees_point (the query point lies in the camera's exact view sector).
    Distances are metres in the metric CRS of the query points.
    """
    _check_positive(radius_m, "radius_m")
    if int(limit) < 1:
        raise InputError(f"limit must be a whole number >= 1, not {limit!r}")
    qlon, qlat = _query_points(lon, lat)
    metric = crs_mod.metric_crs((qlon.min(), qlat.min(), qlon.max(), qlat.max()))
    qx, qy = (np.asarray(v, dtype=float) for v in _to_metric(metric).transform(qlon, qlat))
    optics = _optics(cameras, metric, default_radius_m)
    tree = shapely.STRtree(shapely.points(optics.x, optics.y))
    point, camera = tree.query(shapely.points(qx, qy), predicate="dwithin", distance=radius_m)
    dx, dy = qx[point] - optics.x[camera], qy[point] - optics.y[camera]
    distance = np.hypot(dx, dy)
    ids = cameras["camera_id"].astype(str).to_numpy()
    order = np.lexsort((ids[camera], distance, point))
    point, camera, distance = point[order], camera[order], distance[order]
    sees = _sees(optics, camera, dx[order], dy[order], distance)
    rank = pd.Series(point).groupby(point).cumcount().to_numpy()
    keep = rank < int(limit)
    return _nearest_frame(cameras, point[keep], rank[keep], camera[keep], distance[keep], sees[keep])


def _sees(optics: _Optics, camera: NDArray[np.intp], dx: Floats, dy: Floats, distance: Floats) -> NDArray[np.bool_]:
    """True where the offset (dx, dy) from the camera lies in its exact view sector."""
    bearing = np.degrees(np.arctan2(dx, dy))
    off_axis = np.abs((bearing - optics.heading[camera] + 180.0) % 360.0 - 180.0)
    in_angle = optics.disc[camera] | (off_axis <= optics.fov[camera] / 2.0 + _ANGLE_EPS_DEG) | (distance == 0)
    return (distance <= optics.reach[camera]) & in_angle


def _nearest_frame(
    cameras: gpd.GeoDataFrame,
    point: NDArray[np.intp],
    rank: NDArray[np.int64],
    camera: NDArray[np.intp],
    distance: Floats,
    sees: NDArray[np.bool_],
) -> pd.DataFrame:
    """The nearest-camera rows with the cameras' attributes."""
    names = cameras["name"].to_numpy(dtype=object) if "name" in cameras.columns else np.full(len(cameras), None)
    return pd.DataFrame(
        {
            "point": point,
            "rank": rank,
            "camera_id": cameras["camera_id"].astype(str).to_numpy()[camera],
            "name": names[camera],
            "distance_m": distance,
            "heading": _column(cameras, "heading")[camera],
            "fov": _column(cameras, "fov")[camera],
            "range_m": _column(cameras, "range_m")[camera],
            "sees_point": sees,
        }
    )


def nearest_cameras(
    cameras: gpd.GeoDataFrame,
    lon: float,
    lat: float,
    radius_m: float = 200.0,
    limit: int = 10,
    default_radius_m: float = 50.0,
) -> list[dict[str, Any]]:
    """Cameras within radius_m of WGS-84 (lon, lat), nearest first, at most limit, as JSON-ready dicts.

    Keys: camera_id, name, distance_m (metres), heading, fov, range_m (None when missing) and
    sees_point (the point lies in the camera's view sector).
    """
    rows = nearest_cameras_batch(cameras, [lon], [lat], radius_m, limit, default_radius_m)
    rows = rows.drop(columns=["point", "rank"]).astype(object)
    rows = rows.where(rows.notna(), None)
    return [_plain(record) for record in rows.to_dict(orient="records")]


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    """Numpy scalars turned into Python numbers and booleans."""
    return {key: value.item() if isinstance(value, np.generic) else value for key, value in record.items()}

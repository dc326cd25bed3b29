"""Coordinate systems: Chinese GCJ-02/BD-09 offsets, CRS parsing, conversion to WGS 84, metric CRSs."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geogrid.errors import InputError

log = logging.getLogger(__name__)

GCJ02 = "gcj02"
BD09 = "bd09"
WGS84 = CRS.from_epsg(4326)

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 ("eviltransform") formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

# The usual rough box for "inside China": the offsets are applied only inside it.
CHINA_LON = (72.004, 137.8347)
CHINA_LAT = (0.8293, 55.8271)
# China's real extent, used to recognise swapped longitude/latitude.
_SWAP_X = (18.0, 54.0)
_SWAP_Y = (73.0, 136.0)

_TOLERANCE_DEG = 1e-10
_MAX_ITERATIONS = 30

# CGCS2000 / 3-degree Gauss-Kruger CM 75E .. CM 135E are EPSG:4534 .. EPSG:4554.
_GK_FIRST_CODE = 4534
_GK_FIRST_CM = 75
_GK_LAST_CM = 135

_ALIASES: dict[str, str | int] = {
    "gcj02": GCJ02,
    "gcj": GCJ02,
    "mars": GCJ02,
    "bd09": BD09,
    "bd09ll": BD09,
    "baidu": BD09,
    "wgs84": 4326,
    "cgcs2000": 4490,
}

Floats = NDArray[np.float64]
Pair = tuple[Any, Any]


# --- point offsets -----------------------------------------------------------------------


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where a point lies in the rough China box where GCJ-02/BD-09 offsets apply."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (
        (lon >= CHINA_LON[0]) & (lon <= CHINA_LON[1]) & (lat >= CHINA_LAT[0]) & (lat <= CHINA_LAT[1])
    )


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats, bool]:
    """Broadcast inputs to 1-d float arrays; remember whether both were scalars."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.array(x, ndmin=1), np.array(y, ndmin=1), scalar


def _as_output(x: Floats, y: Floats, scalar: bool) -> Pair:
    """Return numpy scalars for scalar input, arrays otherwise."""
    return (x[0], y[0]) if scalar else (x, y)


def _offset_lat(x: Floats, y: Floats) -> Floats:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _offset_lon(x: Floats, y: Floats) -> Floats:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_forward(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """The GCJ-02 formula applied everywhere (no China test)."""
    dlat = _offset_lat(lon - 105.0, lat - 35.0)
    dlon = _offset_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return lon + dlon, lat + dlat


def _bd_forward(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """The GCJ-02 to BD-09 formula applied everywhere (no China test)."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_inverse_guess(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """The usual closed-form BD-09 to GCJ-02 approximation, a start for iteration."""
    x, y = lon - 0.0065, lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


Forward = Callable[[Floats, Floats], tuple[Floats, Floats]]


def _invert(forward: Forward, lon: Floats, lat: Floats, x: Floats, y: Floats) -> tuple[Floats, Floats]:
    """Solve forward(x, y) == (lon, lat) by fixed-point iteration from (x, y), whole-array."""
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        dx, dy = lon - fx, lat - fy
        x, y = x + dx, y + dy
        if x.size == 0 or max(np.abs(dx).max(), np.abs(dy).max()) < _TOLERANCE_DEG:
            break
    return x, y


def _apply_in_china(
    lon: ArrayLike, lat: ArrayLike, convert: Callable[[Floats, Floats], tuple[Floats, Floats]]
) -> Pair:
    """Apply convert to the points inside the China box; leave the others untouched."""
    x, y, scalar = _as_arrays(lon, lat)
    inside = in_china(x, y)
    out_x, out_y = x.copy(), y.copy()
    out_x[inside], out_y[inside] = convert(x[inside], y[inside])
    return _as_output(out_x, out_y, scalar)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """WGS 84 to GCJ-02 (points outside China untouched)."""
    return _apply_in_china(lon, lat, _gcj_forward)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """GCJ-02 to WGS 84 by iterative inverse, error far below 0.1 m (outside China untouched)."""
    return _apply_in_china(lon, lat, lambda x, y: _invert(_gcj_forward, x, y, x, y))


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """GCJ-02 to BD-09 (points outside China untouched)."""
    return _apply_in_china(lon, lat, _bd_forward)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """BD-09 to GCJ-02, closed form refined by iteration (points outside China untouched)."""
    return _apply_in_china(lon, lat, lambda x, y: _invert(_bd_forward, x, y, *_bd_inverse_guess(x, y)))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """WGS 84 to BD-09 (points outside China untouched)."""
    return _apply_in_china(lon, lat, lambda x, y: _bd_forward(*_gcj_forward(x, y)))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """BD-09 to WGS 84 by iterative inverse (points outside China untouched)."""

    def convert(x: Floats, y: Floats) -> tuple[Floats, Floats]:
        gx, gy = _invert(_bd_forward, x, y, *_bd_inverse_guess(x, y))
        return _invert(_gcj_forward, gx, gy, gx, gy)

    return _apply_in_china(lon, lat, convert)


# --- CRS parsing ----------------------------------------------------------------------


def parse_crs(value: str | int | CRS | None) -> str | CRS | None:
    """A CRS from user input: "gcj02"/"bd09" markers, EPSG codes ("4326", "EPSG:4490"), or any PROJ string.

    None gives None. An unknown value raises InputError naming it.
    """
    if value is None or isinstance(value, CRS):
        return value
    return _parsed(value)


@lru_cache(maxsize=256)
def _parsed(value: str | int) -> str | CRS:
    """parse_crs of a text or code, kept: every report names its CRS, and parsing one costs 50-100 us (pyproj's CRS
    objects are safe to share between threads). A refused value raises each time (lru_cache keeps no error)."""
    if isinstance(value, str):
        text = value.strip()
        key = text.lower().replace("-", "").replace("_", "").replace(" ", "")
        if key in _ALIASES:
            alias = _ALIASES[key]
            return alias if isinstance(alias, str) else CRS.from_epsg(alias)
        value = int(text) if text.isdigit() else text
    try:
        return CRS.from_epsg(value) if isinstance(value, int) else CRS.from_user_input(value)
    except CRSError as err:
        raise InputError(
            f"unknown coordinate reference system {value!r}: use gcj02, bd09, wgs84, "
            f"an EPSG code such as EPSG:4490, or a PROJ/WKT definition ({err})"
        ) from None


# --- GeoDataFrame conversion ---------------------------------------------------------------


def _finite_bounds(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> tuple[float, float, float, float] | None:
    """Total bounds of the non-empty geometries, or None if there are none."""
    geoms = np.asarray(gdf.geometry.values)
    geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
    if geoms.size == 0:
        return None
    return tuple(float(v) for v in shapely.total_bounds(geoms))  # type: ignore[return-value]


def _looks_like_degrees(bounds: tuple[float, float, float, float] | None) -> bool:
    """Coordinates within +-180 on both axes: lon/lat, possibly swapped."""
    return bounds is None or all(np.isfinite(bounds)) and max(abs(v) for v in bounds) <= 180.0


def _declared_crs(gdf: gpd.GeoDataFrame, input_crs: str | CRS | None, name: str) -> str | CRS:
    """Pick the source CRS: a projected CRS in the file wins; --input-crs overrides a lon/lat one."""
    file_crs = gdf.crs
    if file_crs is not None and (input_crs is None or file_crs.is_projected):
        if input_crs is not None and not (isinstance(input_crs, CRS) and input_crs == file_crs):
            log.warning("%s: the file declares %s; ignoring the input CRS %s", name, file_crs.name, input_crs)
        return file_crs
    if input_crs is not None:
        return input_crs
    if not _looks_like_degrees(_finite_bounds(gdf)):
        raise InputError(
            f"{name}: the file has no coordinate reference system and its coordinates "
            f"(bounds {_fmt_bounds(_finite_bounds(gdf))}) are not longitude/latitude: "
            "give the CRS with --input-crs (for example EPSG:4547)"
        )
    return WGS84


def _shift_geometries(gdf: gpd.GeoDataFrame, convert: Callable[..., Pair]) -> gpd.GeoDataFrame:
    """Apply a point conversion to every coordinate of every geometry, keeping Z."""

    def func(x: Floats, y: Floats, *z: Floats) -> tuple[Floats, ...]:
        return (*convert(x, y), *z)

    out = gdf.copy()
    geoms = shapely.transform(np.asarray(gdf.geometry.values), func, include_z=None, interleaved=False)
    return out.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=WGS84), crs=WGS84)


def to_wgs84(
    gdf: gpd.GeoDataFrame, input_crs: str | int | CRS | None = None, *, name: str
) -> gpd.GeoDataFrame:
    """A copy of gdf in EPSG:4326, converted from its own CRS or input_crs, then location-checked.

    The source CRS is the file's CRS if it is projected; otherwise input_crs if given (GeoJSON
    and many tools label GCJ-02/BD-09 data as EPSG:4326, so --input-crs must override a lon/lat
    label); otherwise the file's CRS; otherwise EPSG:4326 if the coordinates look like degrees,
    else InputError.
    """
    source = _declared_crs(gdf, parse_crs(input_crs), name)
    if isinstance(source, str) and source == GCJ02:  # a CRS compared with a str would be parsed (slow)
        out = _shift_geometries(gdf, gcj02_to_wgs84)
    elif isinstance(source, str) and source == BD09:
        out = _shift_geometries(gdf, bd09_to_wgs84)
    elif gdf.crs is None:
        out = gdf.set_crs(source).to_crs(WGS84)
    elif gdf.crs != source:
        out = gdf.set_crs(source, allow_override=True).to_crs(WGS84)
    else:
        out = gdf.to_crs(WGS84)
    check_location(out, name=name, source=source)
    return out


def _fmt_bounds(bounds: tuple[float, float, float, float] | None) -> str:
    if bounds is None:
        return "none"
    return "x {:.6g}..{:.6g}, y {:.6g}..{:.6g}".format(bounds[0], bounds[2], bounds[1], bounds[3])


def _crs_label(source: str | CRS) -> str:
    return source if isinstance(source, str) else f"{source.name} (EPSG:{source.to_epsg()})"


def check_location(gdf: gpd.GeoDataFrame, *, name: str, source: str | CRS | None = None) -> None:
    """Raise InputError unless gdf's lon/lat bounds are plausible.

    Rules, checked on the total bounds of the non-empty geometries, in order:
    1. x within 18..54 and y within 73..136 (China with lon and lat exchanged): "swapped";
    2. non-finite bounds, or |lon| > 180, or |lat| > 90: "far from any plausible place";
    3. the whole extent within 1 degree of (0, 0), open ocean: a wrong CRS put the data there.
    Data wholly outside China is otherwise allowed (GCJ-02/BD-09 offsets do not apply there).
    """
    bounds = _finite_bounds(gdf)
    if bounds is None:
        return
    minx, miny, maxx, maxy = bounds
    where = f"{name}: coordinates {_fmt_bounds(bounds)}"
    if source is not None:
        where += f" (converted from {_crs_label(source)})"
    if _SWAP_X[0] <= minx and maxx <= _SWAP_X[1] and _SWAP_Y[0] <= miny and maxy <= _SWAP_Y[1]:
        raise InputError(
            f"{where}: this looks like longitude and latitude are swapped "
            "(longitude must be x, the first coordinate)"
        )
    if not all(np.isfinite(bounds)) or max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
        raise InputError(
            f"{where}: coordinates are far from any plausible place: check --input-crs "
            "(projected data such as EPSG:4547 needs its CRS declared)"
        )
    if max(abs(minx), abs(maxx)) < 1 and max(abs(miny), abs(maxy)) < 1:
        raise InputError(
            f"{where}: the data lies near (0, 0) in the open ocean, "
            "a CRS that puts the data far from where it can be: check --input-crs"
        )


# --- metric CRS ------------------------------------------------------------------------------


def gk_zone_crs(lon: float) -> CRS:
    """The CGCS2000 3-degree Gauss-Kruger CRS (EPSG:4534..4554) whose meridian is nearest lon."""
    cm = min(max(3 * math.floor(lon / 3.0 + 0.5), _GK_FIRST_CM), _GK_LAST_CM)
    return CRS.from_epsg(_GK_FIRST_CODE + (cm - _GK_FIRST_CM) // 3)


def metric_crs(
    gdf_or_bounds: gpd.GeoDataFrame | gpd.GeoSeries | tuple[float, float, float, float],
) -> CRS:
    """A metric CRS for the data: a CGCS2000 3-degree GK zone inside China, else the UTM zone.

    Bounds are (minx, miny, maxx, maxy) in lon/lat; a GeoDataFrame/GeoSeries in another CRS
    is measured in EPSG:4326.
    """
    if isinstance(gdf_or_bounds, (gpd.GeoDataFrame, gpd.GeoSeries)):
        geo = gdf_or_bounds if gdf_or_bounds.crs is None else gdf_or_bounds.to_crs(WGS84)
        bounds = _finite_bounds(geo)
        if bounds is None:
            raise InputError("cannot choose a metric CRS: the data has no geometries")
    else:
        bounds = tuple(float(v) for v in gdf_or_bounds)  # type: ignore[assignment]
    lon, lat = (bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0
    if bool(in_china(lon, lat)):
        return gk_zone_crs(lon)
    utm = gpd.GeoSeries([shapely.box(*bounds)], crs=WGS84).estimate_utm_crs()
    return CRS.from_user_input(utm)


# --- single points and point arrays ---------------------------------------------------------


ROUND_TRIP_METRES = 1.0  # a projected point must come back within this of where it was (else it is off the map)


def _projected_to_wgs84(source: Any, x: Floats, y: Floats) -> tuple[Floats, Floats]:
    """Projected x/y as WGS-84 lon/lat; a point the projection cannot hold (past its edge, where PROJ clamps or
    wraps it: 1e30 in EPSG:3857 came out as (-180, 90)) comes out as NaN, which the caller refuses."""
    forward = Transformer.from_crs(source, WGS84, always_xy=True)
    lon, lat = (np.asarray(v, dtype=float) for v in forward.transform(x, y))
    back_x, back_y = (np.asarray(v, dtype=float) for v in forward.transform(lon, lat, direction="INVERSE"))
    with np.errstate(invalid="ignore"):
        moved = np.hypot(back_x - x, back_y - y)
        lost = ~(moved <= ROUND_TRIP_METRES + 1e-9 * np.hypot(x, y))
    return np.where(lost, np.nan, lon), np.where(lost, np.nan, lat)


def points_to_wgs84(x: ArrayLike, y: ArrayLike, crs: str | int | CRS | None = None) -> tuple[Floats, Floats]:
    """Coordinates in crs (default WGS-84; gcj02, bd09, EPSG codes, PROJ strings) as WGS-84 lon/lat arrays.

    Raises InputError for coordinates that are not finite or not a place on Earth, naming a likely
    lon/lat swap.
    """
    source = parse_crs(crs) or WGS84
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InputError("coordinates must be finite numbers")
    if isinstance(source, str) and source == GCJ02:  # a CRS compared with a str would be parsed (slow)
        lon, lat = gcj02_to_wgs84(x, y)
    elif isinstance(source, str) and source == BD09:
        lon, lat = bd09_to_wgs84(x, y)
    elif CRS.from_user_input(source).is_geographic:  # WGS-84, CGCS2000 (EPSG:4490): equal within a metre
        lon, lat = x, y
    else:
        lon, lat = _projected_to_wgs84(source, x, y)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    bad = (np.abs(lat) > 90) | (np.abs(lon) > 180) | ~np.isfinite(lon) | ~np.isfinite(lat)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        swap = " (are longitude and latitude swapped?)" if abs(y[i]) <= 180 and abs(x[i]) <= 90 else ""
        raise InputError(f"coordinates ({x[i]}, {y[i]}) are not a place on Earth in {_crs_label(source)}{swap}")
    return lon, lat

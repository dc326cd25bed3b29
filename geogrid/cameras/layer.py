"""Camera layers: reading camera points from files and validating them (ids, locations, heading, fov, range)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS

from geogrid.errors import InputError
from geogrid.geo import crs as crs_mod
from geogrid.geo import io, validate
from geogrid.geo.validate import _as_text, _describe, _label, _numbering_note, _prepare, _require_ids

Floats = NDArray[np.float64]

CAMERA_COLUMNS = ("camera_id", "name", "heading", "fov", "range_m")
_POINT = 0  # shapely type id of Point

# Accepted column names (case-insensitive), canonical name first.
ALIASES: dict[str, tuple[str, ...]] = {
    "camera_id": ("camera_id", "id", "cameraid", "camera", "cam_id", "camera_code", "code", "编号", "设备编号"),
    "name": ("name", "camera_name", "label", "名称", "设备名称"),
    "heading": ("heading", "direction", "azimuth", "bearing", "方向", "朝向", "方位角"),
    "fov": ("fov", "field_of_view", "view_angle", "angle", "视角", "视场角"),
    "range_m": ("range_m", "range", "radius", "radius_m", "view_range", "distance", "可视距离", "半径"),
}


@dataclass(frozen=True)
class _Bounds:
    """An allowed interval for an optional numeric column and how to describe it."""

    low: float
    high: float
    low_open: bool
    high_open: bool
    text: str


_RANGES = {
    "heading": _Bounds(0.0, 360.0, False, False, "degrees clockwise from north, 0 <= heading < 360 (360 is read as 0)"),
    "fov": _Bounds(0.0, 360.0, True, False, "field of view in degrees, 0 < fov <= 360"),
    "range_m": _Bounds(0.0, np.inf, True, True, "viewing range in metres, > 0"),
}


def read_cameras(
    path: str | Path, input_crs: str | int | CRS | None = None, *, layer: str | None = None
) -> gpd.GeoDataFrame:
    """Read cameras from CSV (lon/lat columns), GeoJSON, GeoPackage or Shapefile and validate them."""
    return validate_cameras(io.read_layer(path, name="cameras", input_crs=input_crs, layer=layer))


def validate_cameras(gdf: gpd.GeoDataFrame, *, name: str = "cameras") -> gpd.GeoDataFrame:
    """Cameras in WGS-84: camera_id (unique text), name (text or None), heading, fov, range_m (floats, NaN if missing).

    Aliases such as id, direction/azimuth, angle and radius are renamed; other columns are kept.
    Raises InputError naming the rows with missing or duplicate ids, missing or non-point
    locations and out-of-range headings, fields of view or ranges.
    """
    out = _rename_aliases(_prepare(gdf))
    validate.require_columns(out, ["camera_id"], name=name)
    out = _require_ids(out, "camera_id", name=name)
    _check_points(out, name=name)
    out = _optional_numbers(out, name=name)
    out["heading"] = out["heading"] % 360.0
    out["name"] = _as_text(out["name"]) if "name" in out.columns else None
    out = in_wgs84(out, name=_label(out, name))
    return out[[*CAMERA_COLUMNS, *[c for c in out.columns if c not in CAMERA_COLUMNS]]]


def in_wgs84(gdf: gpd.GeoDataFrame, *, name: str) -> gpd.GeoDataFrame:
    """gdf in WGS-84 with plausible coordinates (geogrid.geo.crs.to_wgs84, skipped when already WGS-84)."""
    if gdf.crs is not None and gdf.crs.equals(crs_mod.WGS84):
        crs_mod.check_location(gdf, name=name)
        return gdf
    return crs_mod.to_wgs84(gdf, None, name=name)


def _rename_aliases(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rename the first alias column found (any case) to each canonical name that is absent."""
    by_lower: dict[str, str] = {}
    for column in gdf.columns:
        by_lower.setdefault(str(column).strip().lower(), column)
    renames: dict[str, str] = {}
    for canonical, names in ALIASES.items():
        if canonical in gdf.columns:
            continue
        found = [by_lower[n] for n in names if n in by_lower and by_lower[n] not in (*renames, *CAMERA_COLUMNS)]
        if found:
            renames[found[0]] = canonical
    return gdf.rename(columns=renames) if renames else gdf


def _check_points(gdf: gpd.GeoDataFrame, *, name: str) -> None:
    """Raise InputError naming cameras whose location is missing, empty or not a point."""
    geoms = np.asarray(gdf.geometry.values)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        raise InputError(
            f"{_label(gdf, name)}: no location (missing or empty geometry) at "
            f"{_describe(gdf, missing, 'camera_id')}{_numbering_note(gdf)}"
        )
    wrong = shapely.get_type_id(geoms) != _POINT
    if wrong.any():
        kinds = [g.geom_type for g in geoms[wrong]]
        raise InputError(
            f"{_label(gdf, name)}: camera locations must be points; found "
            f"{_describe(gdf, wrong, 'camera_id', kinds)}{_numbering_note(gdf)}"
        )


def _optional_numbers(gdf: gpd.GeoDataFrame, *, name: str) -> gpd.GeoDataFrame:
    """A copy with heading, fov and range_m as floats (NaN when missing), or InputError listing bad cells."""
    out = gdf.copy()
    problems = []
    for column, bounds in _RANGES.items():
        if column not in out.columns:
            out[column] = np.nan
            continue
        values, bad, reasons = _number_problems(out[column], bounds)
        if bad.any():
            raw = out[column].to_numpy()[bad]
            details = [f"{validate._value_text(v)} {r}" for v, r in zip(raw, reasons[bad])]
            problems.append(f"column {column!r} ({bounds.text}): {_describe(out, bad, 'camera_id', details)}")
        out[column] = values
    if problems:
        raise InputError(f"{_label(gdf, name)}: bad values{_numbering_note(gdf)} in " + "; ".join(problems))
    return out


def _number_problems(raw: pd.Series, bounds: _Bounds) -> tuple[Floats, NDArray[np.bool_], NDArray[np.str_]]:
    """Float values (NaN when blank), a mask of bad cells and the reason for each."""
    text = raw.astype("string").str.strip()
    missing = (raw.isna() | (text == "")).fillna(True).to_numpy(dtype=bool)
    values = pd.to_numeric(text.where(~pd.Series(missing, index=raw.index)), errors="coerce")
    values = values.to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        too_low = finite & ((values <= bounds.low) if bounds.low_open else (values < bounds.low))
        too_high = finite & ((values >= bounds.high) if bounds.high_open else (values > bounds.high))
    not_number = ~missing & ~finite
    bad = not_number | too_low | too_high
    reasons = np.select([not_number, too_low | too_high], ["not a finite number", "out of range"], default="")
    return np.where(missing, np.nan, values), bad, reasons

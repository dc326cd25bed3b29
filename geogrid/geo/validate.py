"""Validation of the domain layers (buildings, communities, villager groups, roads) with clear errors."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geogrid.errors import InputError

log = logging.getLogger(__name__)

ROW = "_row"
_MAX_LISTED = 20
_POLYGONAL = (3, 6)  # shapely type ids: Polygon, MultiPolygon
_LINEAR = (1, 5)  # LineString, MultiLineString
_KINDS = ("urban", "rural")
_DBF_WIDTH = 10  # Shapefile (dBASE) field names are cut to 10 characters


# --- messages -----------------------------------------------------------------------------


def _label(gdf: pd.DataFrame, name: str) -> str:
    """The layer's name, with its source file when known and not already named."""
    source = gdf.attrs.get("source")
    return f"{name} file {source}" if source and str(source) not in name else name


def _is_csv(gdf: pd.DataFrame) -> bool:
    return gdf.attrs.get("row_numbering") == "csv"


def _place(gdf: pd.DataFrame, feature: int) -> str:
    """'feature 3', or 'row 4' for CSV input (spreadsheet numbering: the header is row 1)."""
    return f"row {feature + 1}" if _is_csv(gdf) else f"feature {feature}"


def _numbering_note(gdf: pd.DataFrame) -> str:
    return " (rows as in a spreadsheet: the header is row 1)" if _is_csv(gdf) else ""


def _listing(items: Sequence[str]) -> str:
    """Up to 20 items, then 'and N more'."""
    more = len(items) - _MAX_LISTED
    return ", ".join(items[:_MAX_LISTED]) + (f" and {more} more" if more > 0 else "")


def _feature_numbers(gdf: pd.DataFrame) -> np.ndarray:
    """The original 1-based feature numbers (column _row, else the current order)."""
    if ROW in gdf.columns:
        return gdf[ROW].to_numpy()
    return np.arange(1, len(gdf) + 1)


def _describe(gdf: pd.DataFrame, mask: np.ndarray, id_column: str | None, details: Iterable[str] = ()) -> str:
    """'feature 3 (building_id 'B3'): detail, ...' for the masked rows, capped at 20."""
    rows = _feature_numbers(gdf)[mask][:_MAX_LISTED]
    has_ids = id_column is not None and id_column in gdf.columns
    ids = gdf[id_column].to_numpy()[mask][:_MAX_LISTED] if has_ids else [None] * len(rows)
    details = list(details)[:_MAX_LISTED] or [""] * len(rows)
    items = [
        _place(gdf, int(row))
        + (f" ({id_column} {ident!r})" if ident is not None else "")
        + (f": {detail}" if detail else "")
        for row, ident, detail in zip(rows, ids, details)
    ]
    more = int(np.count_nonzero(mask)) - len(items)
    return ", ".join(items) + (f" and {more} more" if more > 0 else "")


# --- generic checks -----------------------------------------------------------------------


def _prepare(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy with a fresh index and the 1-based feature numbers in column _row."""
    out = gdf.reset_index(drop=True)
    if ROW not in out.columns:
        out[ROW] = np.arange(1, len(out) + 1)
    return out


def require_columns(gdf: pd.DataFrame, columns: Iterable[str], *, name: str) -> None:
    """Raise InputError listing the missing columns and the columns present."""
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        present = [str(c) for c in gdf.columns if c not in (ROW, getattr(gdf, "_geometry_column_name", None))]
        raise InputError(
            f"{_label(gdf, name)}: missing column(s) {', '.join(missing)}; "
            f"the file has: {', '.join(present) or 'no attribute columns'}"
        )


def _count_problems(raw: pd.Series, allow_null: bool) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Numeric values, a mask of bad cells and the reason for each bad cell."""
    nums = pd.to_numeric(raw, errors="coerce").astype(float)
    missing = raw.isna().to_numpy() | (raw.astype("string").str.strip() == "").fillna(True).to_numpy()
    values = nums.to_numpy()
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        negative = finite & (values < 0)
        fractional = finite & (values != np.floor(values))
    not_number = ~missing & ~finite
    bad = not_number | negative | fractional | (missing & (not allow_null))
    reasons = np.select(
        [missing, not_number, negative, fractional],
        ["missing", "not a number", "negative", "not a whole number"],
        default="",
    )
    return nums.where(~missing), bad, reasons


def require_counts(
    gdf: gpd.GeoDataFrame,
    columns: Iterable[str],
    *,
    name: str,
    allow_null: bool = False,
    id_column: str | None = None,
) -> gpd.GeoDataFrame:
    """A copy with the columns as int64 (nullable Int64 if allow_null), or InputError listing bad cells.

    Counts are whole numbers >= 0; text such as "12" is accepted. Missing cells are bad unless
    allow_null. Messages name each bad cell's feature (and id_column value, if given).
    """
    out = gdf.copy()
    problems = []
    for column in columns:
        raw = out[column]
        nums, bad, reasons = _count_problems(raw, allow_null)
        if bad.any():
            pairs = zip(raw.to_numpy()[bad][:_MAX_LISTED], reasons[bad][:_MAX_LISTED])
            details = [f"{_value_text(v)} {r}" for v, r in pairs]
            problems.append(f"column {column!r}: {_describe(out, bad, id_column, details)}")
        elif allow_null:
            out[column] = pd.array(nums.to_numpy(), dtype="Int64")
        else:
            out[column] = nums.to_numpy().astype(np.int64)
    if problems:
        raise InputError(
            f"{_label(gdf, name)}: counts must be whole numbers >= 0"
            + ("" if allow_null else " and may not be missing")
            + _numbering_note(gdf)
            + "; bad values in "
            + "; ".join(problems)
        )
    return out


def _value_text(value: object) -> str:
    if pd.isna(value):
        return "(empty)"
    return repr(value.item() if isinstance(value, np.generic) else value)  # -3, not np.int64(-3)


def require_unique(gdf: pd.DataFrame, column: str, *, name: str) -> None:
    """Raise InputError naming each duplicated value of column and its features."""
    values = gdf[column]
    duplicated = (values.duplicated(keep=False) & values.notna()).to_numpy()
    if not duplicated.any():
        return
    rows = pd.Series(_feature_numbers(gdf)[duplicated], index=values[duplicated].to_numpy())
    groups = rows.groupby(level=0, sort=False).agg(list)
    word = "rows" if _is_csv(gdf) else "features"
    shift = 1 if _is_csv(gdf) else 0
    items = [
        f"{value!r} at {word} {', '.join(str(int(r) + shift) for r in feature_rows)}"
        for value, feature_rows in groups.items()
    ]
    raise InputError(
        f"{_label(gdf, name)}: {column} must be unique, but {len(items)} value(s) repeat: "
        f"{_listing(items)}{_numbering_note(gdf)}"
    )


def _as_text(values: pd.Series) -> pd.Series:
    """Values as stripped text (whole floats such as 12.0 as '12'); missing or blank become None."""
    if pd.api.types.is_float_dtype(values):
        nums = values.to_numpy(dtype=float)
        if np.all(np.isnan(nums) | (nums == np.round(nums))):
            values = pd.Series(pd.array(values.to_numpy(), dtype="Int64"), index=values.index)
    text = values.astype("string").str.strip()
    return text.astype(object).where(text.notna() & (text != ""), None)


def _require_ids(gdf: gpd.GeoDataFrame, column: str, *, name: str) -> gpd.GeoDataFrame:
    """A copy with column as non-missing, unique text ids, or InputError."""
    out = gdf.copy()
    ids = _as_text(out[column])
    missing = ids.isna().to_numpy()
    if missing.any():
        where = _describe(out, missing, None)
        raise InputError(f"{_label(gdf, name)}: {column} is missing at {where}{_numbering_note(gdf)}")
    out[column] = ids.astype(str)
    require_unique(out, column, name=name)
    return out


def _optional_text(gdf: gpd.GeoDataFrame, columns: Iterable[str]) -> gpd.GeoDataFrame:
    """A copy with each column as text, missing cells (or a missing column) as ''."""
    out = gdf.copy()
    for column in columns:
        if column in out.columns:
            out[column] = _as_text(out[column]).fillna("").astype(str)
        else:
            out[column] = ""
    return out


def _optional_counts(
    gdf: gpd.GeoDataFrame, columns: Iterable[str], *, name: str, id_column: str
) -> gpd.GeoDataFrame:
    """Nullable Int64 counts; an absent column becomes all-missing."""
    present = [c for c in columns if c in gdf.columns]
    out = require_counts(gdf, present, name=name, allow_null=True, id_column=id_column)
    for column in columns:
        if column not in out.columns:
            out[column] = pd.array([pd.NA] * len(out), dtype="Int64")
    return out


def _canonical_columns(gdf: gpd.GeoDataFrame, columns: Iterable[str]) -> gpd.GeoDataFrame:
    """Rename columns differing only in case or cut to 10 characters (Shapefile) to their names."""
    renames = {}
    lower = {str(c).lower(): c for c in gdf.columns}
    for column in columns:
        if column in gdf.columns:
            continue
        match = lower.get(column) or lower.get(column[:_DBF_WIDTH])
        if match is not None and match not in renames and match not in columns:
            renames[match] = column
    return gdf.rename(columns=renames) if renames else gdf


# --- geometry -----------------------------------------------------------------------------


def _geometry_types(geoms: np.ndarray) -> list[str]:
    """Geometry type names, e.g. 'LineString', for at most the first 20 geometries."""
    return [g.geom_type for g in geoms[:_MAX_LISTED]]


def validate_polygons(
    gdf: gpd.GeoDataFrame, *, name: str, id_column: str, keep_collapsed: bool = False
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Polygons only, none null or empty; invalid ones repaired (polygonal part kept).

    Returns the cleaned layer and the ids of the repaired features. Raises InputError naming
    the features that are null/empty, not polygons, or have nothing polygonal left after repair,
    except with ``keep_collapsed``: those (too few points, no area) become the point at the centre
    of their bounds, and their ids are kept in attrs['collapsed_ids'].
    """
    out = _prepare(gdf)
    require_columns(out, [id_column], name=name)
    label = _label(out, name)
    geoms = np.asarray(out.geometry.values)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        raise InputError(f"{label}: no geometry (null or empty) at {_describe(out, empty, id_column)}")
    wrong = ~np.isin(shapely.get_type_id(geoms), _POLYGONAL)
    if wrong.any():
        raise InputError(
            f"{label}: geometries must be Polygon or MultiPolygon; found "
            f"{_describe(out, wrong, id_column, _geometry_types(geoms[wrong]))}"
        )
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return out, []
    fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    broken = shapely.is_empty(fixed) | ~np.isin(shapely.get_type_id(fixed), _POLYGONAL)
    collapsed: list[str] = []
    if broken.any() and keep_collapsed:
        fixed[broken] = collapsed_places(geoms[invalid][broken])
        collapsed = [str(v) for v in out[id_column].to_numpy()[np.flatnonzero(invalid)[broken]]]
        broken[:] = False
    if broken.any():
        reasons = shapely.is_valid_reason(geoms[invalid][broken])
        where = np.flatnonzero(invalid)[broken]
        mask = np.zeros(len(out), dtype=bool)
        mask[where] = True
        raise InputError(
            f"{label}: invalid polygons that cannot be repaired (no area is left): "
            f"{_describe(out, mask, id_column, list(reasons))}"
        )
    geoms = geoms.copy()
    geoms[invalid] = fixed
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
    out.attrs["collapsed_ids"] = collapsed
    repaired = [str(v) for v in out[id_column].to_numpy()[invalid]]
    return out, [r for r in repaired if r not in set(collapsed)]


def collapsed_places(geoms: np.ndarray) -> np.ndarray:
    """The point at the centre of each geometry's bounds (a collapsed ring's place; a mean of its
    coordinates would count a closed ring's first point twice)."""
    bounds = shapely.bounds(geoms)
    return shapely.points((bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2)


def _record_repairs(gdf: gpd.GeoDataFrame, repaired: list[str], *, name: str) -> gpd.GeoDataFrame:
    """Log the repaired ids and keep them in attrs['repaired_ids']."""
    if repaired:
        label = _label(gdf, name)
        log.warning("%s: repaired %d invalid polygon(s): %s", label, len(repaired), _listing(repaired))
    gdf.attrs["repaired_ids"] = repaired
    return gdf


# --- domain layers ------------------------------------------------------------------------


def validate_buildings(
    gdf: gpd.GeoDataFrame, *, name: str = "buildings", keep_collapsed: bool = False
) -> gpd.GeoDataFrame:
    """Buildings: building_id (text, unique), households and population (counts), polygons.

    Optional: units (nullable count), compound and address (text, missing as '').
    ``keep_collapsed``: a footprint with no area left (too few points) becomes a point, its id in
    attrs['collapsed_ids'], instead of stopping the run.
    """
    columns = ["building_id", "households", "population", "units", "compound", "address"]
    out = _canonical_columns(_prepare(gdf), columns)
    require_columns(out, ["building_id", "households", "population"], name=name)
    out = _require_ids(out, "building_id", name=name)
    out = require_counts(out, ["households", "population"], name=name, id_column="building_id")
    out = _optional_counts(out, ["units"], name=name, id_column="building_id")
    out = _optional_text(out, ["compound", "address"])
    out, repaired = validate_polygons(out, name=name, id_column="building_id", keep_collapsed=keep_collapsed)
    return _record_repairs(out, repaired, name=name)


def building_ids(gdf: gpd.GeoDataFrame) -> pd.Series:
    """The buildings' ids as text, as validate_buildings reads them (e.g. 12.0 as '12'), without checking them."""
    return _as_text(_canonical_columns(gdf, ["building_id"])["building_id"]).astype(str)


def validate_communities(gdf: gpd.GeoDataFrame, *, name: str = "communities") -> gpd.GeoDataFrame:
    """Communities: community_code (text, unique), polygons; optional name, kind ('urban' default or 'rural')."""
    out = _canonical_columns(_prepare(gdf), ["community_code", "name", "kind"])
    require_columns(out, ["community_code"], name=name)
    out = _require_ids(out, "community_code", name=name)
    out = _optional_text(out, ["name"])
    out["kind"] = _community_kinds(out, name=name)
    out, repaired = validate_polygons(out, name=name, id_column="community_code")
    return _record_repairs(out, repaired, name=name)


def _community_kinds(gdf: gpd.GeoDataFrame, *, name: str) -> pd.Series:
    """The kind column in lower case, blank as 'urban'; other values raise InputError."""
    if "kind" not in gdf.columns:
        return pd.Series("urban", index=gdf.index, dtype=str)
    kinds = _as_text(gdf["kind"]).str.lower().fillna("urban")
    bad = ~kinds.isin(_KINDS).to_numpy()
    if bad.any():
        details = [repr(v) for v in gdf["kind"].to_numpy()[bad]]
        raise InputError(
            f"{_label(gdf, name)}: kind must be 'urban' or 'rural' (blank means 'urban'); found "
            f"{_describe(gdf, bad, 'community_code', details)}"
        )
    return kinds.astype(str)


def validate_villager_groups(gdf: gpd.GeoDataFrame, *, name: str = "villager groups") -> gpd.GeoDataFrame:
    """Villager groups (村民小组): group_id (text, unique), population (count), polygons.

    Optional: households (nullable count), community_code (text, missing as '').
    """
    out = _canonical_columns(_prepare(gdf), ["group_id", "population", "households", "community_code"])
    require_columns(out, ["group_id", "population"], name=name)
    out = _require_ids(out, "group_id", name=name)
    out = require_counts(out, ["population"], name=name, id_column="group_id")
    out = _optional_counts(out, ["households"], name=name, id_column="group_id")
    out = _optional_text(out, ["community_code"])
    out, repaired = validate_polygons(out, name=name, id_column="group_id")
    return _record_repairs(out, repaired, name=name)


def validate_roads(gdf: gpd.GeoDataFrame, *, name: str = "roads") -> gpd.GeoDataFrame:
    """Roads: LineString/MultiLineString only; null or empty geometries are dropped silently."""
    out = _prepare(gdf)
    geoms = np.asarray(out.geometry.values)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out = out[keep].reset_index(drop=True)
    geoms = geoms[keep]
    wrong = ~np.isin(shapely.get_type_id(geoms), _LINEAR)
    if wrong.any():
        raise InputError(
            f"{_label(out, name)}: roads must be LineString or MultiLineString (centre lines); found "
            f"{_describe(out, wrong, None, _geometry_types(geoms[wrong]))}"
        )
    return out


def validate_previous_plan(
    grids: gpd.GeoDataFrame | None, assignments: pd.DataFrame | None, *, name: str = "previous plan"
) -> tuple[gpd.GeoDataFrame | None, pd.DataFrame | None]:
    """A previous plan: grids with grid_code (unique) and community_code, polygons; assignments with
    building_id and grid_code. Either may be absent. Optional: households and population of the
    grids, villager_groups of village grids, units and households of the assignments."""
    if grids is not None:
        label = f"the grids layer of the {name}"
        grids = _canonical_columns(_prepare(grids), ["grid_code", "community_code", "households", "population",
                                                     "villager_groups"])
        require_columns(grids, ["grid_code", "community_code"], name=label)
        grids = _require_ids(grids, "grid_code", name=label)
        grids["community_code"] = _as_text(grids["community_code"]).fillna("").astype(str)
        grids, _ = validate_polygons(grids, name=label, id_column="grid_code")
    if assignments is not None:
        assignments = _canonical_columns(assignments, ["building_id", "grid_code", "units", "households"])
        require_columns(assignments, ["building_id", "grid_code"], name=f"the assignments layer of the {name}")
        assignments = assignments.assign(building_id=_as_text(assignments["building_id"]).astype(str))
    return grids, assignments

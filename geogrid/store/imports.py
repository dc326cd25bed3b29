"""Import source layers (districts … villager groups) into the store, all or nothing."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiLineString, MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from geogrid.geo import io
from geogrid.geo import validate
from geogrid.db.models import (
    SRID,
    Base,
    Building,
    Community,
    District,
    Road,
    Street,
    VillagerGroup,
)
from geogrid.db.session import session_scope
from geogrid.errors import InputError
from geogrid.store import audit

MAX_LISTED = 20
CHUNK = 500
ANALYZE_ROWS = 1000  # after writing this many rows, refresh PostgreSQL's statistics


@dataclass(frozen=True)
class LayerSpec:
    """How one kind of input layer maps onto its table."""

    model: type[Base]
    id_column: str
    fields: dict[str, str]  # input column -> model attribute
    required: tuple[str, ...]
    defaults: tuple[tuple[str, str], ...] = ()  # (model attribute, value when missing)
    counts: tuple[str, ...] = ()
    optional_ints: tuple[str, ...] = ()
    parent: tuple[str, str] | None = None  # (input column, parent kind)
    lines: bool = False


LAYERS: dict[str, LayerSpec] = {  # parents before children
    "districts": LayerSpec(District, "district_code", {"district_code": "code", "name": "name"}, ("name",)),
    "streets": LayerSpec(
        Street,
        "street_code",
        {"street_code": "code", "name": "name", "kind": "kind", "district_code": "district_code"},
        ("name", "district_code"),
        defaults=(("kind", "street"),),
        parent=("district_code", "districts"),
    ),
    "communities": LayerSpec(
        Community,
        "community_code",
        {"community_code": "code", "name": "name", "kind": "kind", "street_code": "street_code"},
        ("street_code",),
        defaults=(("name", ""), ("kind", "urban")),
        parent=("street_code", "streets"),
    ),
    "buildings": LayerSpec(
        Building,
        "building_id",
        {
            "building_id": "id",
            "community_code": "community_code",
            "households": "households",
            "population": "population",
            "compound": "compound",
            "address": "address",
            "units": "units",
            "floors": "floors",
        },
        ("households", "population"),
        counts=("households", "population"),
        optional_ints=("units", "floors"),
        parent=("community_code", "communities"),
    ),
    "roads": LayerSpec(
        Road,
        "road_id",
        {"road_id": "id", "name": "name", "road_class": "road_class"},
        (),
        lines=True,
    ),
    "villager_groups": LayerSpec(
        VillagerGroup,
        "group_id",
        {
            "group_id": "id",
            "community_code": "community_code",
            "name": "name",
            "population": "population",
            "households": "households",
        },
        ("community_code", "population"),
        counts=("population",),
        optional_ints=("households",),
        parent=("community_code", "communities"),
    ),
}
KINDS = tuple(LAYERS)
SINGULAR = {"districts": "district", "streets": "street", "communities": "community"}


def import_layer(session: Session, kind: str, gdf: gpd.GeoDataFrame, *, username: str = "cli") -> int:
    """Check and upsert one layer in session's transaction; InputError lists every bad row."""
    clean, problems = prepare(kind, gdf)
    if clean is not None:
        problems += orphans(session, kind, clean, {})
    if problems or clean is None:
        raise InputError(report(problems))
    return write_layer(session, kind, clean, username=username)


def import_files(
    target: Session | str | None,
    paths: Mapping[str, str | Path],
    input_crs: str | int | None = None,
    *,
    username: str = "cli",
) -> dict[str, int]:
    """Read, check and import several layer files in one transaction; rows written per kind.

    target is an open session (the caller commits), a database URL, or None for the
    settings' database. Any bad file or row anywhere rejects the whole import.
    """
    unknown = sorted(set(paths) - set(LAYERS))
    if unknown:
        raise InputError(f"unknown layer kind(s) {', '.join(unknown)}; use {', '.join(KINDS)}")
    layers, problems = _read_all(paths, input_crs)
    scope = nullcontext(target) if isinstance(target, Session) else session_scope(target)
    with scope as session:
        pending = {kind: set(gdf[LAYERS[kind].id_column]) for kind, gdf in layers.items()}
        for kind, gdf in layers.items():
            parent = LAYERS[kind].parent
            if parent is None or parent[1] in layers or parent[1] not in paths:
                problems += orphans(session, kind, gdf, pending)
        if problems:
            raise InputError(report(problems))
        return {kind: write_layer(session, kind, gdf, username=username) for kind, gdf in layers.items()}


def _read_all(
    paths: Mapping[str, str | Path], input_crs: str | int | None
) -> tuple[dict[str, gpd.GeoDataFrame], list[str]]:
    """Every layer read and checked, in parent-first order, with all problems found."""
    layers: dict[str, gpd.GeoDataFrame] = {}
    problems: list[str] = []
    for kind in (k for k in KINDS if k in paths):
        try:
            gdf = io.read_layer(paths[kind], name=kind.replace("_", " "), input_crs=input_crs)
        except InputError as err:
            problems.append(str(err))
            continue
        clean, found = prepare(kind, gdf)
        if clean is not None:
            layers[kind] = clean
        problems += found
    return layers, problems


def area_codes(paths: Mapping[str, str | Path], input_crs: str | int | None) -> dict[str, list[str]]:
    """Per layer kind, the area codes its rows lie in, sorted: its own code for a district, street or
    community, its community's for a building or villager group (roads name none). A layer that cannot
    be read, or has no such column, is left to the import to report."""
    found: dict[str, list[str]] = {}
    for kind in (k for k in KINDS if k in paths and area_column(k) is not None):
        try:
            layer = io.read_layer(paths[kind], name=kind, input_crs=input_crs)
        except InputError:
            continue
        column = _column(layer.columns, str(area_column(kind)))
        if column is not None:
            found[kind] = sorted({code for code in map(_code, layer[column]) if code is not None})
    return found


def area_column(kind: str) -> str | None:
    """The column naming the area a row of this kind lies in (see area_codes)."""
    spec = LAYERS[kind]
    if kind in SINGULAR:
        return spec.id_column
    return spec.parent[0] if spec.parent is not None else None


def _column(columns: Iterable[Any], name: str) -> str | None:
    """The column named name, ignoring case and Shapefile's 10-character cut."""
    return next((c for c in columns if str(c).lower() in (name, name[:DBF_WIDTH])), None)


def report(problems: Iterable[str]) -> str:
    """One message for every problem found; nothing was imported."""
    lines = "\n".join(f"- {p}" for p in problems)
    return f"import rejected, the store was not changed:\n{lines}"


# --- checking ----------------------------------------------------------------------------


VALIDATORS: dict[str, Callable[..., gpd.GeoDataFrame]] = {
    "buildings": validate.validate_buildings,
    "communities": validate.validate_communities,
    "villager_groups": validate.validate_villager_groups,
    "roads": validate.validate_roads,
}
DBF_WIDTH = 10  # Shapefile field names are cut to 10 characters


def prepare(kind: str, gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame | None, list[str]]:
    """The layer validated and cleaned (None if unusable), and every problem found in it."""
    if kind not in LAYERS:
        raise InputError(f"unknown layer kind {kind!r}; use {', '.join(KINDS)}")
    spec = LAYERS[kind]
    label = kind.replace("_", " ")
    try:
        gdf = _validated(kind, _canonical(gdf, spec.fields), label)
        validate.require_columns(gdf, [spec.id_column, *spec.required], name=label)
        gdf = gdf.copy()
        gdf[spec.id_column] = _codes(gdf[spec.id_column])
        _require_ids(gdf, spec.id_column, _label(kind, gdf))
        validate.require_unique(gdf, spec.id_column, name=label)
    except InputError as err:
        return None, [str(err)]
    return gdf, _bad_geometries(kind, gdf) + _bad_values(kind, gdf)


def _canonical(gdf: gpd.GeoDataFrame, columns: Iterable[str]) -> gpd.GeoDataFrame:
    """Columns that differ from ours only in case or by Shapefile truncation, renamed to ours."""
    lower = {str(c).lower(): c for c in gdf.columns if c != gdf.geometry.name}
    renames: dict[Any, str] = {}
    for column in columns:
        match = lower.get(column) or lower.get(column[:DBF_WIDTH])
        if column not in gdf.columns and match is not None and match not in columns:
            renames[match] = column
    return gdf.rename(columns=renames) if renames else gdf


def _validated(kind: str, gdf: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
    if kind in VALIDATORS:
        return VALIDATORS[kind](gdf, name=label)
    cleaned, _repaired = validate.validate_polygons(gdf, name=label, id_column=LAYERS[kind].id_column)
    return cleaned


def _require_ids(gdf: gpd.GeoDataFrame, id_column: str, label: str) -> None:
    missing = [f"feature {n}" for n, code, _ in _rows(gdf, id_column, gdf[id_column]) if code is None]
    if missing:
        more = f" and {len(missing) - MAX_LISTED} more" if len(missing) > MAX_LISTED else ""
        raise InputError(f"{label}: {id_column} is missing at {', '.join(missing[:MAX_LISTED])}{more}")


def _bad_geometries(kind: str, gdf: gpd.GeoDataFrame) -> list[str]:
    spec = LAYERS[kind]
    wanted = ("LineString", "MultiLineString") if spec.lines else ("Polygon", "MultiPolygon")
    bad = [
        f"feature {n} ({spec.id_column} {code!r}): geometry is {_geom_type(geom)}, not {' or '.join(wanted)}"
        for n, code, geom in _rows(gdf, spec.id_column, gdf.geometry)
        if _geom_type(geom) not in wanted
    ]
    return _listed(_label(kind, gdf), bad)


def _bad_values(kind: str, gdf: gpd.GeoDataFrame) -> list[str]:
    spec = LAYERS[kind]
    bad: list[str] = []
    if spec.parent and spec.parent[0] in spec.required:
        bad += [
            f"feature {n} ({spec.id_column} {code!r}): {spec.parent[0]} is missing"
            for n, code, value in _rows(gdf, spec.id_column, _codes(gdf[spec.parent[0]]))
            if value is None
        ]
    for column in spec.optional_ints:
        if column in gdf:
            bad += [
                f"feature {n} ({spec.id_column} {code!r}): {column} {value!r} is not a whole number >= 0"
                for n, code, value in _rows(gdf, spec.id_column, gdf[column])
                if not _is_count_or_null(value)
            ]
    return _listed(_label(kind, gdf), bad)


def orphans(session: Session, kind: str, gdf: gpd.GeoDataFrame, pending: Mapping[str, set[str]]) -> list[str]:
    """Rows whose parent code is neither in the store nor among the pending imports."""
    spec = LAYERS[kind]
    if spec.parent is None or spec.parent[0] not in gdf:
        return []
    column, parent_kind = spec.parent
    wanted = {c for c in _codes(gdf[column]) if c is not None}
    known = pending.get(parent_kind, set()) | _existing(session, LAYERS[parent_kind].model, wanted)
    bad = [
        f"feature {n} ({spec.id_column} {code!r}): {column} {parent!r} is not a known {SINGULAR[parent_kind]}"
        for n, code, parent in _rows(gdf, spec.id_column, _codes(gdf[column]))
        if parent is not None and parent not in known
    ]
    return _listed(_label(kind, gdf), bad)


def _existing(session: Session, model: type[Base], codes: Iterable[str]) -> set[str]:
    """Which of codes are primary keys already in model's table."""
    key = model.__mapper__.primary_key[0]
    codes = list(codes)
    found: set[str] = set()
    for start in range(0, len(codes), CHUNK):
        found |= set(session.scalars(select(key).where(key.in_(codes[start : start + CHUNK]))))
    return found


def _label(kind: str, gdf: gpd.GeoDataFrame) -> str:
    """'buildings file <path>' when the layer came from a file, else 'buildings'."""
    label = kind.replace("_", " ")
    source = gdf.attrs.get(io.SOURCE_ATTR)
    return f"{label} file {source}" if source else label


def _listed(label: str, bad: list[str]) -> list[str]:
    """At most MAX_LISTED rows spelled out, then a count of the rest."""
    if not bad:
        return []
    more = f"; and {len(bad) - MAX_LISTED} more" if len(bad) > MAX_LISTED else ""
    return [f"{label}: {len(bad)} bad row(s): " + "; ".join(bad[:MAX_LISTED]) + more]


def _rows(gdf: gpd.GeoDataFrame, id_column: str, values: Iterable[Any]) -> Iterable[tuple[int, Any, Any]]:
    """(feature number in the file, id, value) for every row."""
    numbers = gdf[validate.ROW] if validate.ROW in gdf else range(1, len(gdf) + 1)
    yield from zip((int(n) for n in numbers), gdf[id_column], values, strict=True)


# --- writing -----------------------------------------------------------------------------


def write_layer(session: Session, kind: str, gdf: gpd.GeoDataFrame, *, username: str = "cli") -> int:
    """Upsert a checked layer by id and audit it; returns the number of rows written."""
    spec = LAYERS[kind]
    rows = [_row(spec, record, geom) for record, geom in zip(_records(gdf), gdf.geometry, strict=True)]
    before = _count(session, spec.model)
    statement = _upsert(session, spec.model)
    for start in range(0, len(rows), CHUNK):
        session.execute(statement, rows[start : start + CHUNK])
    inserted = _count(session, spec.model) - before
    if len(rows) >= ANALYZE_ROWS and session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {spec.model.__tablename__}"))  # fresh planner statistics
    source = gdf.attrs.get(io.SOURCE_ATTR)
    counts = {"inserted": inserted, "updated": len(rows) - inserted, "source": source}
    audit.record(session, username, "import", "layer", kind, after=counts)
    return len(rows)


def _count(session: Session, model: type[Base]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _upsert(session: Session, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """INSERT … ON CONFLICT (primary key) DO UPDATE, in the session's SQL dialect (both have it)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = postgresql.insert(model) if postgres else sqlite.insert(model)
    table = model.__table__
    changes = {c.name: statement.excluded[c.name] for c in table.columns if not c.primary_key}
    return statement.on_conflict_do_update(index_elements=list(table.primary_key), set_=changes)


def _records(gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    return gdf.drop(columns=gdf.geometry.name).to_dict("records")


def _row(spec: LayerSpec, record: dict[str, Any], geom: BaseGeometry) -> dict[str, Any]:
    """One table row from one input record."""
    row: dict[str, Any] = {}
    for column, attr in spec.fields.items():
        value: Any = record.get(column)
        if column in spec.counts or column in spec.optional_ints:
            row[attr] = None if _missing(value) else int(value)
        elif column == spec.id_column or (spec.parent and column == spec.parent[0]):
            row[attr] = _code(value)
        else:
            row[attr] = _text(value)
    for attr, value in spec.defaults:
        if row.get(attr) is None:
            row[attr] = value
    row["geom"] = from_shape(_multi(geom), srid=SRID)
    return row


def _multi(geom: BaseGeometry) -> BaseGeometry:
    """Polygons and lines promoted to their Multi- types."""
    if geom.geom_type == "Polygon":
        return MultiPolygon([geom])
    if geom.geom_type == "LineString":
        return MultiLineString([geom])
    return geom


# --- values ------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _code(value: Any) -> str | None:
    """A code as text: 360702 and 360702.0 both become '360702'."""
    if _missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _codes(values: Iterable[Any]) -> list[str | None]:
    return [_code(v) for v in values]


def _text(value: Any) -> str | None:
    return None if _missing(value) else (str(value).strip() or None)


def _is_count_or_null(value: Any) -> bool:
    if _missing(value):
        return True
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return number >= 0 and number.is_integer()


def _geom_type(geom: BaseGeometry | None) -> str:
    if geom is None or geom.is_empty:
        return "empty"
    return geom.geom_type

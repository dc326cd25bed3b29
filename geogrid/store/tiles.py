"""Mapbox vector tiles of grids and buildings: ST_AsMVT in PostGIS, mapbox-vector-tile over SpatiaLite, same attributes.

Grids carry their precomputed counts and flags, so a tile reads one table (joined to the small
plan-version table for the community code and status) and never sums assignments. On SpatiaLite,
which has no ST_AsMVT, rows are found through the R*Tree index, then projected, clipped to the tile
plus its buffer, simplified and snapped to the tile's integer grid and encoded in Python
(``geogrid.store.mvt``). Both simplify by the same tolerance, a fraction of a pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from sqlalchemy import ColumnElement, Select, func, literal_column, select
from sqlalchemy.orm import Session

from geogrid.db.models import PUBLISHED, Building, Grid, PlanVersion
from geogrid.store.features import flag_properties
from geogrid.store.mvt import encode_polygons
from geogrid.store.spatial import Bbox, Scope, near_bbox

EXTENT = 4096  # tile coordinates per side
BUFFER = 64  # tile coordinates drawn beyond each edge, so that strokes join across tiles
SIMPLIFY = 1.0  # tile coordinates: vertices closer than this to a straight line go (an eighth of a pixel)
MAX_ZOOM = 24
MIN_ZOOM = {"grids": 0, "buildings": 13}  # below, a buildings tile would hold a whole city: empty
WORLD = 20037508.342789244  # half the side of the Web Mercator square, metres
TO_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)
FLAG_RULES = "(SELECT coalesce(string_agg(f ->> 'rule', ','), '') FROM json_array_elements(grids.flags) AS f)"


@dataclass(frozen=True)
class Tile:
    """One tile address in the XYZ (Google/OSM) scheme."""

    z: int
    x: int
    y: int

    def valid(self) -> bool:
        """True when the tile exists at its zoom."""
        return 0 <= self.z <= MAX_ZOOM and 0 <= self.x < 2**self.z and 0 <= self.y < 2**self.z

    def mercator(self) -> Bbox:
        """The tile's bounds in EPSG:3857 metres."""
        size = 2 * WORLD / 2**self.z
        minx, maxy = -WORLD + self.x * size, WORLD - self.y * size
        return minx, maxy - size, minx + size, maxy

    def lonlat(self, margin: float = BUFFER / EXTENT) -> Bbox:
        """The tile's bounds, widened by margin (a share of its side), in longitude/latitude."""
        minx, miny, maxx, maxy = self.mercator()
        pad = (maxx - minx) * margin
        return (*_lonlat(minx - pad, miny - pad), *_lonlat(maxx + pad, maxy + pad))  # type: ignore[return-value]


def render(session: Session, layer: str, tile: Tile, scope: Scope, plan_id: int | None = None) -> bytes:
    """The layer's tile as MVT bytes (b"" when it has no feature).

    grids: the published plans' grids, or one plan version's (plan_id, e.g. a draft being edited).
    """
    if tile.z < MIN_ZOOM[layer]:
        return b""
    query = _grids(scope, plan_id) if layer == "grids" else _buildings(scope)
    query = query.where(near_bbox(session, _model(layer), tile.lonlat()))
    if session.get_bind().dialect.name == "postgresql":
        return _in_database(session, layer, tile, query)
    return _in_python(session, layer, tile, query)


# --- what a tile holds -------------------------------------------------------------------------


def _model(layer: str) -> type[Grid | Building]:
    return Grid if layer == "grids" else Building


def _grids(scope: Scope, plan_id: int | None) -> Select:
    which = PlanVersion.status == PUBLISHED if plan_id is None else Grid.plan_version_id == plan_id
    visible: ColumnElement[bool] = scope.grids()
    return (
        select(
            Grid.id.label("id"),
            Grid.code.label("code"),
            PlanVersion.community_code.label("community_code"),
            Grid.plan_version_id.label("plan_id"),
            Grid.households.label("households"),
            Grid.population.label("population"),
            Grid.building_count.label("building_count"),
            Grid.within_limits.label("within_limits"),
        )
        .join(PlanVersion, PlanVersion.id == Grid.plan_version_id)
        .where(which, visible)
        .order_by(Grid.id)
    )


def _buildings(scope: Scope) -> Select:
    return (
        select(
            Building.id.label("id"),
            Building.community_code.label("community_code"),
            Building.households.label("households"),
            Building.population.label("population"),
            Building.floors.label("floors"),
        )
        .where(scope.buildings())
        .order_by(Building.id)
    )


# --- PostGIS -----------------------------------------------------------------------------------


def _in_database(session: Session, layer: str, tile: Tile, query: Select) -> bytes:
    model = _model(layer)
    envelope = func.ST_TileEnvelope(tile.z, tile.x, tile.y)
    unit = (tile.mercator()[2] - tile.mercator()[0]) / EXTENT
    simple = func.ST_Simplify(func.ST_Transform(model.geom, 3857), SIMPLIFY * unit, True)
    shape = func.ST_AsMVTGeom(simple, envelope, EXTENT, BUFFER, True)
    extra = [shape.label("geom")]
    if layer == "grids":
        extra += [func.json_array_length(Grid.flags).label("flag_count"), literal_column(FLAG_RULES).label("flags")]
    rows = query.add_columns(*extra).subquery("t")
    id_column = "id" if layer == "grids" else None  # grid ids are integers; building ids stay a property
    args = [literal_column("t"), layer, EXTENT, "geom"] + ([id_column] if id_column else [])
    mvt = select(func.ST_AsMVT(*args)).select_from(rows).where(rows.c.geom.is_not(None))
    data = session.scalar(mvt)
    return bytes(data or b"")


# --- SpatiaLite --------------------------------------------------------------------------------


def _in_python(session: Session, layer: str, tile: Tile, query: Select) -> bytes:
    model = _model(layer)
    columns = [func.ST_AsBinary(model.geom).label("wkb")] + ([Grid.flags.label("flags")] if layer == "grids" else [])
    rows = session.execute(query.add_columns(*columns)).all()
    if not rows:
        return b""
    shapes = _to_tile(shapely.from_wkb([bytes(r.wkb) for r in rows]), tile)
    found = [(row._mapping, shape) for row, shape in zip(rows, shapes, strict=True) if not shape.is_empty]
    if not found:
        return b""
    if layer == "grids":
        properties = [_grid_properties(row) for row, _ in found]
        ids = [row["id"] for row, _ in found]
    else:
        properties, ids = [_properties(row, ("wkb",)) for row, _ in found], None
    return encode_polygons(layer, np.array([shape for _, shape in found], dtype=object), properties, ids, EXTENT)


def _to_tile(geoms: np.ndarray, tile: Tile) -> np.ndarray:
    """Geometries in tile coordinates (y down), clipped to the buffer, snapped to whole units, exteriors positive."""
    minx, _, maxx, maxy = tile.mercator()
    scale = EXTENT / (maxx - minx)

    def to_tile(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mx, my = TO_MERCATOR.transform(x, y)
        return (np.asarray(mx) - minx) * scale, (maxy - np.asarray(my)) * scale

    local = shapely.transform(geoms, to_tile, interleaved=False)
    clipped = shapely.clip_by_rect(local, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    snapped = shapely.set_precision(shapely.simplify(clipped, SIMPLIFY), 1.0)
    # MVT exterior rings have a positive surveyor's area in tile coordinates: counter-clockwise in
    # these numbers (which a map, y pointing down, shows clockwise).
    return shapely.orient_polygons(snapped, exterior_cw=False)


def _grid_properties(row: Any) -> dict[str, Any]:
    found = _properties(row, ("wkb", "flags", "id"))
    return {**found, "within_limits": bool(found["within_limits"]), **flag_properties(row["flags"])}


def _properties(row: Any, leave_out: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in leave_out and v is not None}


def _lonlat(x: float, y: float) -> tuple[float, float]:
    """Web Mercator metres to longitude/latitude (clamped to the Mercator square)."""
    x, y = max(-WORLD, min(WORLD, x)), max(-WORLD, min(WORLD, y))
    lon = x / WORLD * 180.0
    lat = math.degrees(2 * math.atan(math.exp(y / WORLD * math.pi)) - math.pi / 2)
    return lon, lat

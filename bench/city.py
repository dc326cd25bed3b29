"""A synthetic city for the API benchmark: a district of streets, communities, published grids and buildings.

Grids are Voronoi cells of a jittered lattice inside each community, densified to about one vertex
per 8 m like the engine's street-block boundaries, with counts inside the default limits; each grid
holds a few building footprints (assigned to it in the published plan). Rows are bulk-inserted.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg
import shapely
from geoalchemy2 import WKBElement
from sqlalchemy import Engine, insert, text

from geogrid.db.models import (
    PUBLISHED,
    SRID,
    Assignment,
    Building,
    Community,
    District,
    Grid,
    PlanVersion,
    Street,
)
from geogrid.db.session import session_scope

PG_ADMIN = os.environ.get("GEOGRID_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")

METRIC = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
ORIGIN = (580_000.0, 2_850_000.0)  # near Ganzhou, Jiangxi
CHUNK = 5_000


@dataclass(frozen=True)
class CityShape:
    """How big the city is."""

    streets: int = 10
    communities_per_street: int = 20
    grids_per_community: int = 40
    buildings_per_grid: int = 10
    community_side_m: float = 900.0

    @property
    def grids(self) -> int:
        return self.streets * self.communities_per_street * self.grids_per_community


def community_code(street: int, community: int) -> str:
    return f"360702{street + 1:03d}{community + 1:03d}"


def build(engine: Engine, shape: CityShape, seed: int = 0) -> dict[str, int]:
    """Fill an empty, migrated store with the city; returns row counts."""
    rng = np.random.default_rng(seed)
    side = shape.community_side_m
    columns = shape.communities_per_street
    counts = {"communities": 0, "grids": 0, "buildings": 0}
    with session_scope(engine) as session:
        width, height = columns * side, shape.streets * side
        session.execute(insert(District), [{"code": "360702", "name": "章贡区", "geom": _wkb([_box(0, 0, width, height)])[0]}])
        streets = [_box(0, s * side, width, (s + 1) * side) for s in range(shape.streets)]
        session.execute(insert(Street), [
            {"code": f"360702{s + 1:03d}", "name": f"街道{s + 1}", "kind": "street", "district_code": "360702", "geom": g}
            for s, g in enumerate(_wkb(streets))
        ])
        plan_id = 0
        for s in range(shape.streets):
            for c in range(columns):
                plan_id += 1
                code = community_code(s, c)
                outline = _box(c * side, s * side, (c + 1) * side, (s + 1) * side)
                _community(session, code, s, outline, plan_id, shape, rng, counts)
        if engine.dialect.name == "postgresql":  # plan ids were given: move the sequence past them
            session.execute(text("SELECT setval(pg_get_serial_sequence('plan_versions', 'id'), :n)"), {"n": plan_id})
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return counts


def _community(session, code, street, outline, plan_id, shape: CityShape, rng, counts) -> None:
    session.execute(insert(Community), [{"code": code, "name": f"社区{code[-3:]}", "kind": "urban",
                                         "street_code": f"360702{street + 1:03d}", "geom": _wkb([outline])[0]}])
    session.execute(insert(PlanVersion), [{"id": plan_id, "community_code": code, "number": 1, "status": PUBLISHED,
                                           "rules": {}, "created_by": "bench", "published_by": "bench", "revision": 1}])
    cells = _cells(outline, shape.grids_per_community, rng)
    households = rng.integers(300, 501, len(cells))
    population = np.minimum(np.round(households * rng.normal(2.6, 0.1, len(cells))).astype(int), 1000)
    codes = [f"{code}-{g + 1:02d}" for g in range(len(cells))]
    session.execute(insert(Grid), [
        {"plan_version_id": plan_id, "code": codes[g], "households": int(households[g]), "population": int(population[g]),
         "building_count": shape.buildings_per_grid, "compactness": 0.7, "within_limits": True, "flags": [],
         "geom": geom}
        for g, geom in enumerate(_wkb(cells))
    ])
    footprints, owner = _footprints(cells, shape.buildings_per_grid, rng)
    share_h = _shares(households, shape.buildings_per_grid)
    share_p = _shares(population, shape.buildings_per_grid)
    ids = [f"{code}-B{b:04d}" for b in range(len(footprints))]
    buildings = [
        {"id": ids[b], "community_code": code, "households": int(share_h[b]), "population": int(share_p[b]),
         "compound": None, "address": None, "units": None, "floors": int(rng.integers(3, 19)), "geom": geom}
        for b, geom in enumerate(_wkb(footprints))
    ]
    for start in range(0, len(buildings), CHUNK):
        session.execute(insert(Building), buildings[start:start + CHUNK])
    session.execute(insert(Assignment), [
        {"plan_version_id": plan_id, "building_id": ids[b], "grid_code": codes[owner[b]], "units": "",
         "households": int(share_h[b]), "population": int(share_p[b])}
        for b in range(len(ids))
    ])
    counts["communities"] += 1
    counts["grids"] += len(cells)
    counts["buildings"] += len(ids)


def _cells(outline: shapely.Polygon, n: int, rng: np.random.Generator) -> list[shapely.Geometry]:
    """n Voronoi cells of a jittered lattice that tile outline, densified to one vertex per 15 m."""
    minx, miny, maxx, maxy = outline.bounds
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    k = np.arange(n)
    x = minx + (k % cols + 0.5 + rng.uniform(-0.3, 0.3, n)) * (maxx - minx) / cols
    y = miny + (k // cols + 0.5 + rng.uniform(-0.3, 0.3, n)) * (maxy - miny) / rows
    points = shapely.points(x, y)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points), extend_to=outline))
    cells = shapely.intersection(cells, outline)
    order = shapely.STRtree(cells).query(points, predicate="within")[1]  # cell holding each seed, in seed order
    return list(shapely.segmentize(cells[order], 15.0))


def _footprints(cells, per_grid: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """per_grid small footprints inside each cell (around points well inside it), and their cell."""
    shrunk = shapely.buffer(np.array(cells, dtype=object), -12.0)
    footprints, owner = [], []
    for g, area in enumerate(shrunk):
        minx, miny, maxx, maxy = area.bounds
        placed = 0
        while placed < per_grid:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if area.contains(shapely.Point(x, y)):
                footprints.append(_box(x - 8, y - 5, x + 8, y + 5))
                owner.append(g)
                placed += 1
    return np.array(footprints, dtype=object), np.array(owner)


def _shares(totals: np.ndarray, parts: int) -> np.ndarray:
    base, extra = np.divmod(totals, parts)
    return (base[:, None] + (np.arange(parts)[None, :] < extra[:, None])).ravel()


def _box(minx: float, miny: float, maxx: float, maxy: float) -> shapely.Polygon:
    x0, y0 = ORIGIN
    return shapely.box(x0 + minx, y0 + miny, x0 + maxx, y0 + maxy)


def _wkb(metric_geoms) -> list[WKBElement]:
    """Metric polygons as lon/lat MULTIPOLYGON WKB elements for bulk inserts."""
    lonlat = gpd.GeoSeries(list(metric_geoms), crs=METRIC).to_crs(SRID).to_numpy()
    multi = [g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in lonlat]
    return [WKBElement(w, srid=SRID, extended=False) for w in shapely.to_wkb(multi)]


@contextlib.contextmanager
def store(kind: str, folder: Path) -> Iterator[str]:
    """A fresh store for a benchmark: a SpatiaLite file in folder, or a PostGIS database dropped afterwards."""
    if kind == "spatialite":
        yield f"sqlite:///{folder / 'bench.sqlite'}"
        return
    name = f"geogrid_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

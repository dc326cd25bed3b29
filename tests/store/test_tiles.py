"""Vector tiles and feature pages from the store: PostGIS (ST_AsMVT) and SpatiaLite (Python) give the same features."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import mapbox_vector_tile
import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import Engine

from geogrid.db.engine import make_engine
from geogrid.db.session import session_scope
from geogrid.partition.rules import Rules
from geogrid.store import features, tiles
from geogrid.store.imports import import_layer
from geogrid.store.plans import publish, save_partition
from geogrid.store.spatial import Scope
from tests import edit_data

from .conftest import _empty_tables


def load(engine: Engine) -> int:
    """The synthetic community with its published plan; returns the plan id."""
    with session_scope(engine) as session:
        for kind, gdf in edit_data.layers().items():
            import_layer(session, kind, gdf)
        _, _, result = edit_data.partitioned()
        plan = save_partition(session, edit_data.COMMUNITY, result, Rules(), "planner")
        publish(session, plan.id, "leader")
        return plan.id


def tile_of(lon: float, lat: float, z: int) -> tiles.Tile:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return tiles.Tile(z, int((lon + 180) / 360 * n), int(y))


def decoded(engine: Engine, layer: str, tile: tiles.Tile, scope: Scope | None = None) -> list[dict]:
    with session_scope(engine) as session:
        data = tiles.render(session, layer, tile, scope or Scope())
    if not data:
        return []
    found = mapbox_vector_tile.decode(data)
    assert list(found) == [layer] and found[layer]["extent"] == tiles.EXTENT
    return found[layer]["features"]


@pytest.fixture
def both(spatialite_template: Path, postgis_url: str, tmp_path: Path):
    """A loaded SpatiaLite store and a loaded PostGIS store."""
    path = tmp_path / "store.sqlite"
    shutil.copy(spatialite_template, path)
    engines = {"spatialite": make_engine(f"sqlite:///{path}"), "postgis": make_engine(postgis_url)}
    _empty_tables(engines["postgis"])
    for engine in engines.values():
        load(engine)
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.mark.parametrize(("layer", "z"), [("grids", 12), ("grids", 14), ("grids", 16), ("buildings", 14), ("buildings", 16)])
def test_both_stores_make_the_same_tile(both: dict[str, Engine], layer: str, z: int) -> None:
    lon, lat = edit_data.plan().community.centroid.coords[0]
    tile = tile_of(lon, lat, z)
    lite, pg = (decoded(both[name], layer, tile) for name in ("spatialite", "postgis"))
    assert lite and len(lite) == len(pg)
    assert [f["properties"] for f in lite] == [f["properties"] for f in pg]
    assert [f["id"] for f in lite] == [f["id"] for f in pg]
    for a, b in zip(lite, pg, strict=True):
        ga, gb = shape(a["geometry"]), shape(b["geometry"])
        assert ga.geom_type == gb.geom_type and ga.is_valid
        assert ga.area > 0 and abs(ga.area - gb.area) <= 0.02 * gb.area + 4  # a few tile units of rounding


def test_a_grid_tile_holds_every_grid_with_its_counts(both: dict[str, Engine]) -> None:
    p = edit_data.plan()
    lon, lat = p.community.centroid.coords[0]
    for engine in both.values():
        found = decoded(engine, "grids", tile_of(lon, lat, 12))
        expected = {c: (int(h), int(n)) for c, h, n in zip(p.grids["grid_code"], p.grids["households"], p.grids["population"])}
        assert {f["properties"]["code"]: (f["properties"]["households"], f["properties"]["population"])
                for f in found} == expected
        props = found[0]["properties"]
        assert set(props) == {"code", "community_code", "plan_id", "households", "population", "building_count",
                              "within_limits", "flag_count", "flags"}
        assert props["within_limits"] is True and props["flags"] == "" and props["flag_count"] == 0


def test_empty_tiles_out_of_scope_and_zoom(both: dict[str, Engine]) -> None:
    lon, lat = edit_data.plan().community.centroid.coords[0]
    for engine in both.values():
        assert decoded(engine, "grids", tile_of(lon + 1, lat, 14)) == []  # nothing there
        assert decoded(engine, "grids", tile_of(lon, lat, 14), Scope(area="999")) == []  # out of scope
        assert decoded(engine, "buildings", tile_of(lon, lat, 12)) == []  # below the buildings' zoom
        one = decoded(engine, "grids", tile_of(lon, lat, 14), Scope(grid=f"{edit_data.COMMUNITY}-01"))
        assert [f["properties"]["code"] for f in one] == [f"{edit_data.COMMUNITY}-01"]


def test_tile_polygons_decode_in_place(both: dict[str, Engine]) -> None:
    """A decoded grid covers, in tile units, where its polygon lies (y pointing up after decoding)."""
    p = edit_data.plan()
    lon, lat = p.community.centroid.coords[0]
    tile = tile_of(lon, lat, 16)
    minx, miny, maxx, maxy = tile.mercator()
    code = None
    for engine in both.values():
        found = {f["properties"]["code"]: shape(f["geometry"]) for f in decoded(engine, "grids", tile)}
        code = code or min(found)
        x, y = tiles.TO_MERCATOR.transform(*shapely.point_on_surface(shapely.intersection(
            p.geometry_of(code), shapely.box(*tile.lonlat(0)))).coords[0])
        local = shapely.Point((x - minx) / (maxx - minx) * tiles.EXTENT, (y - miny) / (maxy - miny) * tiles.EXTENT)
        assert found[code].buffer(2).contains(local)


def test_feature_pages_are_the_same_on_both(both: dict[str, Engine]) -> None:
    lon, lat = edit_data.plan().community.centroid.coords[0]
    bbox = (lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001)
    pages = {}
    for name, engine in both.items():
        with session_scope(engine) as session:
            collection = features.COLLECTIONS["buildings"]
            pages[name] = features.page(session, collection, Scope(), bbox=bbox, limit=5, offset=2)
            assert features.extent(session, collection, Scope()) is not None
    (n_lite, lite), (n_pg, pg) = pages["spatialite"], pages["postgis"]
    assert n_lite == n_pg > 7 and [f.id for f in lite] == [f.id for f in pg]
    assert [f.properties for f in lite] == [f.properties for f in pg]
    assert [json.loads(f.geometry) for f in lite] == [json.loads(f.geometry) for f in pg]

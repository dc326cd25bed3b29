"""Store fixtures: every test runs on SpatiaLite and on PostGIS, with a tiny synthetic district."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import psycopg
import pytest
from shapely.geometry import LineString, box
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from geogrid.db.engine import make_engine
from geogrid.db.migrate import upgrade
from geogrid.db.models import Base
from geogrid.db.session import session_scope

# Where to create (and drop) the PostGIS test databases; override to use another server.
PG_ADMIN_URL = os.environ.get("GEOGRID_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("spatialite", "postgis")


def _admin_conninfo() -> str:
    url = make_url(PG_ADMIN_URL)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_postgis_database() -> Iterator[str]:
    """A new, empty database on the test server (dropped afterwards); fails loudly if unreachable."""
    name = f"geogrid_test_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(_admin_conninfo(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        pytest.fail(f"PostGIS tests need PostgreSQL at {PG_ADMIN_URL} (set GEOGRID_TEST_POSTGRES): {exc}")
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate_or_fail(url: str) -> None:
    """Run the migrations; a missing PostGIS extension fails the test with the reason."""
    try:
        upgrade(url)
    except Exception as exc:  # noqa: BLE001 - any failure here means the backend is unusable
        pytest.fail(f"could not create the store schema at {make_url(url)!r} (is PostGIS installed?): {exc}")


@pytest.fixture(scope="session")
def spatialite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SpatiaLite file, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "store.sqlite"
    migrate_or_fail(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgis_url() -> Iterator[str]:
    """A migrated PostGIS database for the whole session."""
    with fresh_postgis_database() as url:
        migrate_or_fail(url)
        yield url


def _empty_tables(engine: Engine) -> None:
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated store on the test's backend."""
    if backend == "spatialite":
        path = tmp_path / "store.sqlite"
        shutil.copy(request.getfixturevalue("spatialite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgis_url")
    engine = make_engine(url)
    _empty_tables(engine)
    engine.dispose()
    yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


# --- a tiny synthetic district --------------------------------------------------------------

X0, Y0 = 115.90, 28.60  # somewhere in Jiangxi
STEP = 0.01


def _cell(i: float, j: float, w: float = 1, h: float = 1) -> object:
    return box(X0 + i * STEP, Y0 + j * STEP, X0 + (i + w) * STEP, Y0 + (j + h) * STEP)


def tiny_district() -> dict[str, gpd.GeoDataFrame]:
    """One district, two streets, an urban and a rural community, buildings, roads, villager groups."""
    crs = "EPSG:4326"
    district = gpd.GeoDataFrame(
        {"district_code": ["360702"], "name": ["章贡区"]}, geometry=[_cell(0, 0, 4, 2)], crs=crs
    )
    streets = gpd.GeoDataFrame(
        {
            "street_code": ["360702001", "360702002"],
            "name": ["解放街道", "水南镇"],
            "kind": ["street", "town"],
            "district_code": ["360702", "360702"],
        },
        geometry=[_cell(0, 0, 2, 2), _cell(2, 0, 2, 2)],
        crs=crs,
    )
    communities = gpd.GeoDataFrame(
        {
            "community_code": ["360702001001", "360702002001"],
            "name": ["和平社区", "腊长村"],
            "street_code": ["360702001", "360702002"],
            "kind": ["urban", "rural"],
        },
        geometry=[_cell(0, 0, 2, 2), _cell(2, 0, 2, 2)],
        crs=crs,
    )
    urban = [_cell(0.1 + 0.4 * (k % 4), 0.1 + 0.9 * (k // 4), 0.2, 0.2) for k in range(6)]
    rural = [_cell(2.2 + 0.5 * k, 0.3, 0.1, 0.1) for k in range(3)]
    buildings = gpd.GeoDataFrame(
        {
            "building_id": [f"U{k}" for k in range(6)] + [f"R{k}" for k in range(3)],
            "community_code": ["360702001001"] * 6 + ["360702002001"] * 3,
            "households": [120, 80, 60, 150, 40, 90, 12, 8, 10],
            "population": [300, 200, 150, 380, 100, 220, 40, 25, 30],
            "compound": ["和平小区"] * 6 + [""] * 3,
            "address": [f"和平路{k}号" for k in range(6)] + [f"腊长村{k}组" for k in range(3)],
            "units": [6, 4, 2, 6, 1, 3, None, None, None],
            "floors": [18, 11, 6, 18, 3, 9, 2, 2, 3],
        },
        geometry=urban + rural,
        crs=crs,
    )
    roads = gpd.GeoDataFrame(
        {"road_id": ["r1", "r2"], "name": ["和平路", "水南路"], "road_class": ["primary", "residential"]},
        geometry=[
            LineString([(X0, Y0 + STEP), (X0 + 4 * STEP, Y0 + STEP)]),
            LineString([(X0 + 2 * STEP, Y0), (X0 + 2 * STEP, Y0 + 2 * STEP)]),
        ],
        crs=crs,
    )
    villager_groups = gpd.GeoDataFrame(
        {
            "group_id": ["G1", "G2"],
            "community_code": ["360702002001", "360702002001"],
            "name": ["一组", "二组"],
            "population": [70, 25],
            "households": [20, 10],
        },
        geometry=[_cell(2, 0, 1, 2), _cell(3, 0, 1, 2)],
        crs=crs,
    )
    return {
        "districts": district,
        "streets": streets,
        "communities": communities,
        "buildings": buildings,
        "roads": roads,
        "villager_groups": villager_groups,
    }


def write_layers(layers: dict[str, gpd.GeoDataFrame], folder: Path) -> dict[str, Path]:
    """Each layer as <folder>/<kind>.geojson."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for kind, gdf in layers.items():
        paths[kind] = folder / f"{kind}.geojson"
        gdf.to_file(paths[kind], driver="GeoJSON", engine="pyogrio")
    return paths


@pytest.fixture
def layers() -> dict[str, gpd.GeoDataFrame]:
    return tiny_district()


@pytest.fixture
def layer_files(layers: dict[str, gpd.GeoDataFrame], tmp_path: Path) -> dict[str, Path]:
    return write_layers(layers, tmp_path / "layers")


@pytest.fixture
def loaded(engine: Engine, layers: dict[str, gpd.GeoDataFrame]) -> Engine:
    """The store with the tiny district imported (from GeoDataFrames: file reading is tested apart)."""
    from geogrid.store.imports import KINDS, import_layer

    with session_scope(engine) as session:
        for kind in KINDS:
            import_layer(session, kind, layers[kind])
    return engine

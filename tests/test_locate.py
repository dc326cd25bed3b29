"""Placing points into grids: GridIndex against a brute-force exact reference, nearest grids, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import Polygon, box
from typer.testing import CliRunner

from cli.main import app
from geogrid.geo.crs import WGS84, metric_crs, wgs84_to_gcj02
from geogrid.errors import InputError
from geogrid.geo.locate import GridIndex, first_covering, locate_frame

X0, Y0 = 115.90, 28.60  # somewhere in Jiangxi
SIDE = 0.02  # about 2 km
runner = CliRunner()


# --- coverages and the reference -----------------------------------------------------------


def voronoi_coverage(seed: int, count: int) -> gpd.GeoDataFrame:
    """Voronoi cells clipped to a box; one grid has a hole left empty, one is a MultiPolygon of two cells."""
    rng = np.random.default_rng(seed)
    frame = box(X0, Y0, X0 + SIDE, Y0 + SIDE)
    seeds = shapely.points(rng.uniform(X0, X0 + SIDE, count), rng.uniform(Y0, Y0 + SIDE, count))
    cells = list(shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds),
                                                                                  extend_to=frame)), frame))
    cells.sort(key=lambda g: -g.area)
    big = cells[0]
    cx, cy = big.centroid.x, big.centroid.y
    hole = box(cx - 1e-4, cy - 1e-4, cx + 1e-4, cy + 1e-4)
    if big.contains_properly(hole):
        cells[0] = big.difference(hole)
    far = max(range(1, len(cells)), key=lambda i: cells[i].distance(cells[1]))
    cells[1] = shapely.MultiPolygon([cells[1], cells[far]])
    del cells[far]
    codes = [f"G{k:03d}" for k in rng.permutation(len(cells))]  # code order differs from row order
    return gpd.GeoDataFrame({"grid_code": codes}, geometry=cells, crs=WGS84)


def reference(grids: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Brute force: for every point, the first grid in grid_code order whose closed polygon covers it."""
    points = shapely.points(lon, lat)
    answer = np.full(len(points), -1)
    for row in np.argsort(grids["grid_code"].to_numpy(), kind="stable")[::-1]:
        answer[shapely.covers(grids.geometry.iloc[row], points)] = row
    return answer


def boundary_points(grids: gpd.GeoDataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Every vertex, and points part-way along every edge (on the edge as far as doubles allow)."""
    coords = shapely.get_coordinates(shapely.boundary(grids.geometry.to_numpy()))
    t = rng.uniform(0, 1, len(coords) - 1)[:, None]
    along = coords[:-1] + t * (coords[1:] - coords[:-1])
    both = np.vstack([coords, along])
    return both[:, 0], both[:, 1]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), count=st.integers(5, 60), max_cells=st.sampled_from([64, 900, 20_000, None]))
def test_locate_equals_brute_force(seed: int, count: int, max_cells: int | None) -> None:
    grids = voronoi_coverage(seed, count)
    rng = np.random.default_rng(seed + 1)
    vx, vy = boundary_points(grids, rng)
    rx, ry = rng.uniform(X0 - 0.002, X0 + SIDE + 0.002, 3000), rng.uniform(Y0 - 0.002, Y0 + SIDE + 0.002, 3000)
    lon, lat = np.concatenate([vx, rx]), np.concatenate([vy, ry])
    index = GridIndex(grids, max_cells=max_cells)
    assert np.array_equal(index.locate(lon, lat), reference(grids, lon, lat))


def squares() -> gpd.GeoDataFrame:
    """Four 0.01-degree squares meeting at one vertex; codes run against row order; D has an empty hole."""
    s = 0.01
    d = Polygon([(X0 + s, Y0 + s), (X0 + 2 * s, Y0 + s), (X0 + 2 * s, Y0 + 2 * s), (X0 + s, Y0 + 2 * s)],
                [[(X0 + 1.4 * s, Y0 + 1.4 * s), (X0 + 1.6 * s, Y0 + 1.4 * s), (X0 + 1.6 * s, Y0 + 1.6 * s),
                  (X0 + 1.4 * s, Y0 + 1.6 * s)]])
    geoms = [box(X0, Y0, X0 + s, Y0 + s), box(X0 + s, Y0, X0 + 2 * s, Y0 + s), box(X0, Y0 + s, X0 + s, Y0 + 2 * s), d]
    return gpd.GeoDataFrame({"grid_code": ["C", "B", "D", "A"], "community_code": ["c1", "c1", "c2", "c2"]},
                            geometry=geoms, crs=WGS84)


def test_boundary_rule_on_edges_vertices_holes_and_outer_boundary() -> None:
    grids, s = squares(), 0.01
    index = GridIndex(grids)
    cases = {  # (lon, lat) -> expected row
        (X0 + s, Y0 + 0.5 * s): 1,        # edge C|B -> B (code B < C)
        (X0 + s, Y0 + s): 3,              # the vertex of all four -> A
        (X0 + 0.5 * s, Y0 + s): 0,        # edge C|D -> C
        (X0 + 1.5 * s, Y0 + s): 3,        # edge B|A -> A
        (X0, Y0 + 0.5 * s): 0,            # outer boundary of C
        (X0 + 2 * s, Y0 + 2 * s): 3,      # outer corner of A
        (X0 + 1.5 * s, Y0 + 1.5 * s): -1,  # inside A's hole
        (X0 + 1.4 * s, Y0 + 1.5 * s): 3,  # on the hole's boundary: closed polygon
        (X0 - 1e-12, Y0): -1,             # just outside
        (X0 + 0.3 * s, Y0 + 0.3 * s): 0,
    }
    lon, lat = np.array(list(cases)).T
    assert index.locate(lon, lat).tolist() == list(cases.values())
    assert np.array_equal(index.locate(lon, lat), reference(grids, lon, lat))


def overlapping_squares() -> gpd.GeoDataFrame:
    """squares() and a grid E overlapping C and B (its code sorts last): where it overlaps, C or B wins."""
    s = 0.01
    grids = squares()
    extra = gpd.GeoDataFrame({"grid_code": ["E"], "community_code": ["c3"]},
                             geometry=[box(X0 + 0.5 * s, Y0 - 0.5 * s, X0 + 1.5 * s, Y0 + 0.5 * s)], crs=WGS84)
    return gpd.GeoDataFrame(pd.concat([grids, extra], ignore_index=True), crs=WGS84)


TRICKY = {  # (lon, lat) in units of 0.01 degree from (X0, Y0) -> expected row of overlapping_squares()
    "interior": ((0.3, 0.7), 0),
    "shared edge C|B -> B": ((1.0, 0.7), 1),
    "shared vertex of four -> A": ((1.0, 1.0), 3),
    "hole of A": ((1.5, 1.5), -1),
    "hole boundary -> A": ((1.4, 1.5), 3),
    "overlap of C and E -> C": ((0.7, 0.2), 0),
    "overlap of B and E -> B": ((1.3, 0.2), 1),
    "E alone": ((1.0, -0.3), 4),
    "edge of E inside C -> C": ((0.5, 0.3), 0),
    "outside": ((2.5, 0.5), -1),
}


@pytest.mark.parametrize("form", ["raster", "small raster", "no raster", "exact", "first_covering"])
def test_every_form_of_the_boundary_rule_agrees_on_the_tricky_cases(form: str) -> None:
    grids, s = overlapping_squares(), 0.01
    lon, lat = (np.array([X0 + p[0] * s for p, _ in TRICKY.values()]),
                np.array([Y0 + p[1] * s for p, _ in TRICKY.values()]))
    expected = [row for _, row in TRICKY.values()]
    if form == "first_covering":
        found = first_covering(grids.geometry.to_numpy(), grids["grid_code"].to_numpy(), lon, lat)
    else:
        index = GridIndex(grids, max_cells={"raster": None, "small raster": 64, "no raster": 0, "exact": None}[form])
        found = index.exact(lon, lat) if form == "exact" else index.locate(lon, lat)
    assert dict(zip(TRICKY, found.tolist(), strict=True)) == dict(zip(TRICKY, expected, strict=True))
    assert np.array_equal(found, reference(grids, lon, lat))


def test_no_raster_places_as_the_raster() -> None:
    grids = voronoi_coverage(3, 40)
    rng = np.random.default_rng(4)
    vx, vy = boundary_points(grids, rng)
    lon = np.concatenate([vx, rng.uniform(X0 - 0.002, X0 + SIDE + 0.002, 2000)])
    lat = np.concatenate([vy, rng.uniform(Y0 - 0.002, Y0 + SIDE + 0.002, 2000)])
    bare = GridIndex(grids, max_cells=0)
    assert bare.raster is None
    assert np.array_equal(bare.locate(lon, lat), GridIndex(grids).locate(lon, lat))
    assert np.array_equal(bare.locate(lon, lat), reference(grids, lon, lat))


def test_points_outside_everything_and_not_finite() -> None:
    index = GridIndex(squares())
    lon = np.array([0.0, 179.0, -50.0, np.nan, np.inf, X0 + 0.005, -np.inf])
    lat = np.array([0.0, 89.0, Y0, Y0, Y0, np.nan, Y0])
    assert index.locate(lon, lat).tolist() == [-1] * 7
    assert index.locate(np.array([]), np.array([])).tolist() == []


def test_bad_grids_are_named() -> None:
    bowtie = Polygon([(X0, Y0), (X0 + 0.01, Y0 + 0.01), (X0 + 0.01, Y0), (X0, Y0 + 0.01)])
    with pytest.raises(InputError, match="grids X1 are invalid"):
        GridIndex(gpd.GeoDataFrame({"grid_code": ["X1"]}, geometry=[bowtie], crs=WGS84))
    with pytest.raises(InputError, match="not polygons"):
        GridIndex(gpd.GeoDataFrame({"grid_code": ["L1"]}, geometry=[shapely.LineString([(X0, Y0), (X0 + 1, Y0)])],
                                   crs=WGS84))
    with pytest.raises(InputError, match="no grid_code column"):
        GridIndex(gpd.GeoDataFrame({"code": ["A"]}, geometry=[box(X0, Y0, X0 + 1, Y0 + 1)], crs=WGS84))


# --- nearest grids ---------------------------------------------------------------------------


def _metres_east(lon: float, lat: float, metres: float) -> float:
    """The longitude metres east of (lon, lat), measured in the grids' metric CRS."""
    crs = metric_crs((X0, Y0, X0 + 0.02, Y0 + 0.02))
    forward = Transformer.from_crs(WGS84, crs, always_xy=True)
    x, y = forward.transform(lon, lat)
    return Transformer.from_crs(crs, WGS84, always_xy=True).transform(x + metres, y)[0]


def test_nearest_grids_within_100_m_not_beyond() -> None:
    index = GridIndex(squares())
    edge_lat = Y0 + 0.005
    lon = np.array([_metres_east(X0 + 0.02, edge_lat, 40.0), _metres_east(X0 + 0.02, edge_lat, 150.0),
                    _metres_east(X0 + 0.02, Y0 + 0.01, 30.0)])
    lat = np.array([edge_lat, edge_lat, Y0 + 0.01])
    near = index.nearest_grids(lon, lat, within_m=100.0)
    first = near[near["point"] == 0]
    assert first["grid_code"].tolist() == ["B"] and first["distance_m"].iloc[0] == pytest.approx(40.0, abs=0.01)
    assert (near["point"] != 1).all()  # 150 m away: nothing within 100 m
    third = near[near["point"] == 2]  # beside the corner shared by B and A: both at 30 m, code order
    assert third["grid_code"].tolist() == ["A", "B"]
    assert third["distance_m"].to_numpy() == pytest.approx([30.0, 30.0], abs=0.01)
    assert len(index.nearest_grids(lon, lat, within_m=1000.0, limit=1).query("point == 2")) == 1


def test_suggestions_are_the_nearest_grids_as_json() -> None:
    index = GridIndex(squares())
    lon = np.array([_metres_east(X0 + 0.02, Y0 + 0.01, 30.0), X0 + 1.0, X0 + 0.005])
    lat = np.array([Y0 + 0.01, Y0, Y0 + 0.005])
    near = index.nearest_grids(lon, lat, within_m=100.0)
    lists = index.suggestions(lon, lat, within_m=100.0, columns=("grid_code", "community_code"))
    assert [[s["grid_code"] for s in one] for one in lists] == [["A", "B"], [], ["C"]]
    assert [s["community_code"] for s in lists[0]] == ["c2", "c1"]
    assert [list(s) for s in lists[0]] == [["grid_code", "community_code", "distance_m"]] * 2
    assert [s["distance_m"] for s in lists[0]] == near.query("point == 0")["distance_m"].round(1).tolist()
    assert lists[2] == [{"grid_code": "C", "community_code": "c1", "distance_m": 0.0}]  # inside: 0 m
    assert json.loads(json.dumps(lists)) == lists
    assert index.suggestions(lon, lat, within_m=1000.0, limit=1)[0] == [{"grid_code": "A", "distance_m": 30.0}]


def test_locate_frame_columns() -> None:
    grids = squares()
    outside = _metres_east(X0 + 0.02, Y0 + 0.005, 20.0)
    points = gpd.GeoDataFrame({"name": ["in", "near", "far"]},
                              geometry=shapely.points([X0 + 0.003, outside, X0 + 1], [Y0 + 0.003, Y0 + 0.005, Y0]),
                              crs=WGS84)
    out = locate_frame(points, grids)
    assert out["grid_code"].tolist() == ["C", None, None]
    assert out["community_code"].tolist() == ["c1", None, None]
    assert out["located"].tolist() == [True, False, False]
    assert out["suggestions"][0] == [] and out["suggestions"][2] == []
    assert [s["grid_code"] for s in out["suggestions"][1]] == ["B"]
    assert out["name"].tolist() == ["in", "near", "far"]


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def grid_file(tmp_path: Path) -> Path:
    path = tmp_path / "grids.geojson"
    squares().to_file(path, driver="GeoJSON", engine="pyogrio")
    return path


def _points() -> tuple[np.ndarray, np.ndarray]:
    return np.array([X0 + 0.003, X0 + 0.015, _metres_east(X0 + 0.02, Y0 + 0.005, 20.0)]), \
        np.array([Y0 + 0.003, Y0 + 0.012, Y0 + 0.005])


def _run(*args: object):
    return runner.invoke(app, ["locate", *map(str, args)])


def test_cli_csv_in_csv_out(grid_file: Path, tmp_path: Path) -> None:
    lon, lat = _points()
    pd.DataFrame({"id": ["p1", "p2", "p3"], "lng": lon, "lat": lat}).to_csv(tmp_path / "pts.csv", index=False)
    out = tmp_path / "placed.csv"
    result = _run("--points", tmp_path / "pts.csv", "--grids", grid_file, "--out", out)
    assert result.exit_code == 0, result.output
    assert "placed 2 of 3 points" in result.output and "1 unplaced" in result.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert table["id"].tolist() == ["p1", "p2", "p3"]
    assert table["grid_code"].tolist() == ["C", "A", ""]
    assert table["community_code"].tolist() == ["c1", "c2", ""]
    assert table["located"].tolist() == ["True", "True", "False"]
    assert [s["grid_code"] for s in json.loads(table["suggestions"][2])] == ["B"]
    assert float(table["lon"][0]) == pytest.approx(lon[0])


def test_cli_geojson_in_geojson_and_gpkg_out(grid_file: Path, tmp_path: Path) -> None:
    lon, lat = _points()
    points = gpd.GeoDataFrame({"id": ["p1", "p2", "p3"]}, geometry=shapely.points(lon, lat), crs=WGS84)
    points.to_file(tmp_path / "pts.geojson", driver="GeoJSON", engine="pyogrio")
    for out in (tmp_path / "placed.geojson", tmp_path / "placed.gpkg"):
        result = _run("--points", tmp_path / "pts.geojson", "--grids", grid_file, "--within", 10, "--out", out)
        assert result.exit_code == 0, result.output
        placed = pyogrio.read_dataframe(out)
        assert placed.crs.to_epsg() == 4326
        assert placed["grid_code"].tolist()[:2] == ["C", "A"] and placed["located"].tolist() == [True, True, False]
        last = placed["suggestions"].tolist()[2]  # JSON text in GeoPackage, an array in GeoJSON
        assert (json.loads(last) if isinstance(last, str) else list(last)) == []  # 20 m away, beyond --within 10


def test_cli_gcj02_points(grid_file: Path, tmp_path: Path) -> None:
    """Points given in GCJ-02 (offset by hundreds of metres) land in the grids of their WGS-84 position."""
    lon, lat = np.array([X0 + 0.0002, X0 + 0.0198]), np.array([Y0 + 0.0002, Y0 + 0.0198])
    glon, glat = wgs84_to_gcj02(lon, lat)
    pd.DataFrame({"lon": glon, "lat": glat}).to_csv(tmp_path / "gcj.csv", index=False)
    out = tmp_path / "placed.csv"
    assert _run("--points", tmp_path / "gcj.csv", "--grids", grid_file, "--out", out).exit_code == 0
    assert pd.read_csv(out)["located"].tolist() == [False, False]  # read as WGS-84 they miss the grids
    result = _run("--points", tmp_path / "gcj.csv", "--grids", grid_file, "--input-crs", "gcj02", "--out", out)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert table["grid_code"].tolist() == ["C", "A"]
    assert table["lon"].to_numpy() == pytest.approx(lon, abs=1e-8)


def test_cli_needs_exactly_one_grid_source(grid_file: Path, tmp_path: Path) -> None:
    pd.DataFrame({"lon": [X0], "lat": [Y0]}).to_csv(tmp_path / "pts.csv", index=False)
    for extra in ([], ["--grids", grid_file, "--db"]):
        result = _run("--points", tmp_path / "pts.csv", *extra, "--out", tmp_path / "o.csv")
        assert result.exit_code == 2
        assert "exactly one source of grids" in result.output
    result = _run("--points", tmp_path / "pts.csv", "--grids", grid_file, "--out", tmp_path / "o.txt")
    assert result.exit_code == 2 and ".csv, .geojson or .gpkg" in result.output


def test_cli_db_reads_published_grids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from geogrid.db.engine import make_engine
    from geogrid.db.session import session_scope
    from geogrid.partition.rules import Rules
    from geogrid.store.settings import get_store_settings as get_settings
    from geogrid.store.imports import KINDS, import_layer
    from geogrid.store.plans import publish, save_partition
    from tests.store.conftest import migrate_or_fail, tiny_district
    from tests.store.test_plans import URBAN, hand_made_result

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    migrate_or_fail(url)
    engine = make_engine(url)
    layers = tiny_district()
    with session_scope(engine) as session:
        for kind in KINDS:
            import_layer(session, kind, layers[kind])
        publish(session, save_partition(session, URBAN, hand_made_result(), Rules(), "tester").id, "tester")
    engine.dispose()
    pd.DataFrame({"lon": [X0 + 0.005, X0 + 0.005, X0 + 0.03], "lat": [Y0 + 0.005, Y0 + 0.015, Y0 + 0.005]}
                 ).to_csv(tmp_path / "pts.csv", index=False)
    monkeypatch.setenv("GEOGRID_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = _run("--points", tmp_path / "pts.csv", "--db", "--out", tmp_path / "o.csv")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "o.csv", dtype=str, keep_default_na=False)
    assert table["grid_code"].tolist() == ["360702-001-001-01", "360702-001-001-02", ""]
    assert table["community_code"].tolist() == [URBAN, URBAN, ""]
    assert table["street_code"].tolist() == ["360702001", "360702001", ""]


def test_cli_db_missing_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from geogrid.store.settings import get_store_settings as get_settings

    pd.DataFrame({"lon": [X0], "lat": [Y0]}).to_csv(tmp_path / "pts.csv", index=False)
    monkeypatch.setenv("GEOGRID_DATABASE_URL", f"sqlite:///{tmp_path / 'none.sqlite'}")
    get_settings.cache_clear()
    try:
        result = _run("--points", tmp_path / "pts.csv", "--db", "--out", tmp_path / "o.csv")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2 and "does not exist" in result.output
    assert not (tmp_path / "none.sqlite").exists()


def test_cli_reads_the_grids_layer_of_a_plan(tmp_path: Path) -> None:
    """A `geogrid partition` GeoPackage has grids and assignments layers: --grids takes its grids."""
    from geogrid.geo.io import write_gpkg

    plan = tmp_path / "plan.gpkg"
    write_gpkg({"grids": squares(), "assignments": pd.DataFrame({"building_id": ["b1"], "grid_code": ["A"]})}, plan)
    pd.DataFrame({"lon": [X0 + 0.003], "lat": [Y0 + 0.003]}).to_csv(tmp_path / "pts.csv", index=False)
    result = _run("--points", tmp_path / "pts.csv", "--grids", plan, "--out", tmp_path / "o.csv")
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "o.csv")["grid_code"].tolist() == ["C"]


def test_distances_are_geodesic_metres_and_the_box_holds_every_point_within_reach() -> None:
    from pyproj import Geod

    from geogrid.geo.locate import box_around, distances_m

    geod = Geod(ellps="WGS84")
    lon, lat = 114.93, 25.83
    azimuths = np.arange(0, 360, 15.0)
    x, y, _ = geod.fwd(np.full(azimuths.size, lon), np.full(azimuths.size, lat), azimuths, np.full(azimuths.size, 250.0))
    assert np.allclose(distances_m(lon, lat, x, y), 250.0, atol=1e-6)
    minlon, minlat, maxlon, maxlat = box_around(lon, lat, 250.0)
    assert ((x > minlon) & (x < maxlon) & (y > minlat) & (y < maxlat)).all()
    assert maxlat - minlat < 2 * 250.0 / 110_574 * 1.02  # and not much more

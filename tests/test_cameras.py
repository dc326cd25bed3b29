"""Tests for geogrid.cameras: reading and validation (layer), view sectors, grid coverage, placement, nearest cameras (views)."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

from geogrid.cameras import layer, views
from geogrid.errors import InputError
from geogrid.geo.locate import GridIndex

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
GK = 4547  # CGCS2000 / 3-degree Gauss-Kruger CM 114E: grid north is true north on lon 114
ORIGIN = (114.0, 25.8)
TO_GK = Transformer.from_crs(4326, GK, always_xy=True)
TO_LONLAT = Transformer.from_crs(GK, 4326, always_xy=True)
GEOD = Geod(ellps="WGS84")
X0, Y0 = TO_GK.transform(*ORIGIN)


def camera_layer(rows: list[dict], offsets: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    """Cameras at metre offsets (east, north) from ORIGIN, returned in WGS-84."""
    points = shapely.points([X0 + dx for dx, _ in offsets], [Y0 + dy for _, dy in offsets])
    return gpd.GeoDataFrame(rows, geometry=points, crs=GK).to_crs(4326)


def one_camera(heading: float | None, fov: float | None, range_m: float | None) -> gpd.GeoDataFrame:
    """A validated single camera at ORIGIN."""
    row = {"camera_id": "C1", "heading": heading, "fov": fov, "range_m": range_m}
    return layer.validate_cameras(camera_layer([row], [(0.0, 0.0)]))


def grid_layer(boxes: dict[str, tuple[float, float, float, float]]) -> gpd.GeoDataFrame:
    """Grids from metre boxes (minx, miny, maxx, maxy) relative to ORIGIN, returned in WGS-84."""
    geoms = [shapely.box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in boxes.values()]
    return gpd.GeoDataFrame({"grid_code": list(boxes)}, geometry=geoms, crs=GK).to_crs(4326)


def gk_point(dx: float, dy: float) -> shapely.Point:
    """A point at a metre offset from ORIGIN in the GK CRS."""
    return shapely.Point(X0 + dx, Y0 + dy)


def sector_of(cams: gpd.GeoDataFrame, **kwargs) -> shapely.Geometry:
    """The single view sector of cams in the GK CRS."""
    sectors = views.view_sectors(cams, metric_crs=GK, **kwargs)
    assert sectors.crs.to_epsg() == GK and len(sectors) == len(cams)
    return sectors.iloc[0]


# --- sector geometry ----------------------------------------------------------------------


def test_quarter_sector_area():
    sector = sector_of(one_camera(30.0, 90.0, 100.0))
    assert sector.is_valid
    assert sector.area == pytest.approx(math.pi * 100**2 / 4, rel=0.01)


@pytest.mark.parametrize(
    ("heading", "seen", "unseen"),
    [(0.0, (0, 50), (0, -50)), (90.0, (50, 0), (-50, 0)), (180.0, (0, -50), (0, 50)), (270.0, (-50, 0), (50, 0))],
)
def test_sector_points_along_heading(heading, seen, unseen):
    sector = sector_of(one_camera(heading, 60.0, 100.0))
    assert sector.contains(gk_point(*seen))
    assert not sector.contains(gk_point(*unseen))
    assert not sector.contains(gk_point(seen[1], seen[0]))  # 90 degrees off the heading


def test_sector_heading_is_true_north_off_the_central_meridian():
    lon, lat = 115.4, 25.8  # 1.4 degrees east of the zone's meridian: grid north is ~0.6 degrees off
    cams = layer.validate_cameras(
        gpd.GeoDataFrame({"camera_id": ["N"], "heading": [0.0], "fov": [0.8], "range_m": [200.0]},
                         geometry=[shapely.Point(lon, lat)], crs=4326)
    )
    sector = sector_of(cams)
    x, y = TO_GK.transform(lon, lat)
    true_north = shapely.Point(TO_GK.transform(*GEOD.fwd(lon, lat, 0.0, 150.0)[:2]))
    assert sector.contains(true_north)
    assert not sector.contains(shapely.Point(x, y + 150.0))  # grid north lies outside the 0.8 degree wedge


@pytest.mark.parametrize(("heading", "fov"), [(None, None), (45.0, None), (None, 90.0), (45.0, 360.0)])
def test_disc_when_heading_or_fov_missing(heading, fov):
    sector = sector_of(one_camera(heading, fov, 40.0))
    assert sector.area == pytest.approx(math.pi * 40**2, rel=0.01)
    for dx, dy in [(35, 0), (-35, 0), (0, 35), (0, -35), (-24, -24)]:
        assert sector.contains(gk_point(dx, dy))
    assert not sector.contains(gk_point(0, 45))


def test_default_radius_when_range_missing():
    cams = one_camera(None, None, None)
    assert sector_of(cams, default_radius_m=30.0).area == pytest.approx(math.pi * 30**2, rel=0.01)
    assert sector_of(cams).area == pytest.approx(math.pi * 50**2, rel=0.01)
    with pytest.raises(InputError, match="default_radius_m"):
        views.view_sectors(cams, default_radius_m=-1.0)


def test_sectors_are_valid_and_indexed_like_cameras():
    rows = [{"camera_id": f"C{i}", "heading": h, "fov": f, "range_m": 20.0 + i}
            for i, (h, f) in enumerate([(0.0, 45.0), (359.0, 110.0), (None, None), (180.0, 5.0), (10.0, 359.0)])]
    cams = layer.validate_cameras(camera_layer(rows, [(i * 100.0, 0.0) for i in range(5)]))
    cams.index = [10, 11, 12, 13, 14]
    sectors = views.view_sectors(cams)
    assert list(sectors.index) == [10, 11, 12, 13, 14]
    assert shapely.is_valid(sectors.values).all()
    wanted = [math.pi * (20 + i) ** 2 * f / 360 for i, f in enumerate([45, 110, 360, 5, 359])]
    np.testing.assert_allclose(sectors.area.to_numpy(), wanted, rtol=0.01)


# --- coverage -----------------------------------------------------------------------------


def test_disc_inside_grid_share():
    grids = grid_layer({"G1": (-100, -100, 100, 100)})
    cams = one_camera(None, None, 50.0)
    cover = views.coverage_by_grid(grids, cams)
    row = cover.iloc[0]
    assert list(cover.columns) == ["grid_code", "camera_count", "covered_m2", "area_m2", "covered_share"]
    assert row["grid_code"] == "G1" and row["camera_count"] == 1
    assert row["area_m2"] == pytest.approx(40_000, rel=1e-3)
    assert row["covered_m2"] == pytest.approx(sector_of(cams).area, rel=1e-3)
    assert row["covered_share"] == pytest.approx(math.pi * 50**2 / 40_000, rel=0.01)


def test_camera_outside_reaching_in_adds_coverage_not_count():
    grids = grid_layer({"A": (0, -100, 200, 100), "B": (-200, -100, 0, 100), "C": (400, -100, 600, 100)})
    rows = [{"camera_id": "W", "heading": 90.0, "fov": 90.0, "range_m": 100.0}]
    cams = layer.validate_cameras(camera_layer(rows, [(-20.0, 0.0)]))  # in B, looking east into A
    cover = views.coverage_by_grid(grids, cams).set_index("grid_code")
    assert cover.loc["A", "camera_count"] == 0 and cover.loc["B", "camera_count"] == 1
    sector = sector_of(cams)
    in_a = sector.intersection(shapely.box(X0, Y0 - 100, X0 + 200, Y0 + 100)).area
    assert in_a > 0.5 * sector.area
    assert cover.loc["A", "covered_m2"] == pytest.approx(in_a, rel=1e-3)
    assert cover.loc["A", "covered_m2"] + cover.loc["B", "covered_m2"] == pytest.approx(sector.area, rel=1e-3)
    assert cover.loc["C", "covered_m2"] == 0 and cover.loc["C", "covered_share"] == 0


def test_overlapping_sectors_are_not_double_counted():
    grids = grid_layer({"G": (-150, -150, 150, 150)})
    rows = [{"camera_id": c, "heading": None, "fov": None, "range_m": 50.0} for c in ("A", "B", "C")]
    cams = layer.validate_cameras(camera_layer(rows, [(0.0, 0.0), (0.0, 0.0), (50.0, 0.0)]))
    covered = views.coverage_by_grid(grids, cams)["covered_m2"].iloc[0]
    r, d = 50.0, 50.0
    lens = 2 * r**2 * math.acos(d / (2 * r)) - d / 2 * math.sqrt(4 * r**2 - d**2)
    assert covered == pytest.approx(2 * math.pi * r**2 - lens, rel=0.01)


def test_boundary_camera_counted_once_for_smallest_code():
    grids = gpd.GeoDataFrame(
        {"grid_code": ["G2", "G1"]},
        geometry=[shapely.box(114.001, 25.8, 114.002, 25.801), shapely.box(114.0, 25.8, 114.001, 25.801)],
        crs=4326,
    )
    cams = layer.validate_cameras(
        gpd.GeoDataFrame({"camera_id": ["edge", "far"]},
                         geometry=[shapely.Point(114.001, 25.8005), shapely.Point(114.1, 25.9)], crs=4326)
    )
    cover = views.coverage_by_grid(grids, cams)
    assert list(cover["grid_code"]) == ["G2", "G1"] and list(cover["camera_count"]) == [0, 1]
    placed = views.place_cameras(cams, grids)
    assert placed["grid_code"].tolist() == ["G1", None]
    assert placed["camera_id"].tolist() == ["edge", "far"]
    assert views.place_cameras(cams, GridIndex(grids))["grid_code"].tolist() == ["G1", None]  # an index at hand


def test_coverage_rejects_grids_without_codes():
    grids = grid_layer({"G": (0, 0, 10, 10)}).rename(columns={"grid_code": "code"})
    with pytest.raises(InputError, match="grid_code"):
        views.coverage_by_grid(grids, one_camera(None, None, 10.0))


# --- nearest ------------------------------------------------------------------------------


def test_nearest_ordering_radius_and_sight():
    rows = [
        {"camera_id": "far", "heading": None, "fov": None, "range_m": 300.0},  # 250 m: beyond the radius
        {"camera_id": "away", "heading": 90.0, "fov": 60.0, "range_m": 100.0},  # 50 m east, looking east
        {"camera_id": "toward", "heading": 270.0, "fov": 60.0, "range_m": 30.0},  # 10 m east, looking west
        {"camera_id": "dome", "heading": None, "fov": None, "range_m": 100.0},  # 150 m north, reach 100 m
    ]
    cams = layer.validate_cameras(camera_layer(rows, [(250.0, 0.0), (50.0, 0.0), (10.0, 0.0), (0.0, 150.0)]))
    found = views.nearest_cameras(cams, *ORIGIN, radius_m=200.0)
    assert [f["camera_id"] for f in found] == ["toward", "away", "dome"]
    np.testing.assert_allclose([f["distance_m"] for f in found], [10.0, 50.0, 150.0], atol=0.01)
    assert [f["sees_point"] for f in found] == [True, False, False]
    assert found[2]["heading"] is None and found[0]["heading"] == 270.0
    assert isinstance(found[0]["sees_point"], bool) and isinstance(found[0]["distance_m"], float)
    two = views.nearest_cameras(cams, *ORIGIN, radius_m=200.0, limit=2)
    assert [f["camera_id"] for f in two] == ["toward", "away"]
    assert [f["camera_id"] for f in views.nearest_cameras(cams, *ORIGIN, radius_m=300.0)][-1] == "far"
    assert views.nearest_cameras(cams, *ORIGIN, radius_m=5.0) == []


def test_nearest_sees_point_with_default_radius():
    rows = [{"camera_id": "d", "heading": None, "fov": None, "range_m": None}]
    cams = layer.validate_cameras(camera_layer(rows, [(0.0, 40.0)]))
    assert views.nearest_cameras(cams, *ORIGIN)[0]["sees_point"] is True
    assert views.nearest_cameras(cams, *ORIGIN, default_radius_m=30.0)[0]["sees_point"] is False


def test_nearest_batch():
    rows = [{"camera_id": c, "heading": None, "fov": None, "range_m": 50.0} for c in ("A", "B")]
    cams = layer.validate_cameras(camera_layer(rows, [(0.0, 0.0), (1000.0, 0.0)]))
    lon, lat = TO_LONLAT.transform([X0 + 20.0, X0 + 990.0, X0 + 500.0], [Y0, Y0, Y0])
    table = views.nearest_cameras_batch(cams, lon, lat, radius_m=100.0)
    assert table[["point", "rank", "camera_id"]].values.tolist() == [[0, 0, "A"], [1, 0, "B"]]
    np.testing.assert_allclose(table["distance_m"], [20.0, 10.0], atol=0.01)
    with pytest.raises(InputError, match="lon and lat"):
        views.nearest_cameras(cams, 200.0, 25.0)


# --- reading and validation ---------------------------------------------------------------


def raw_cameras(**columns) -> gpd.GeoDataFrame:
    """Three raw cameras in WGS-84 with the given column overrides."""
    data = {"camera_id": ["C1", "C2", "C3"], "heading": [10.0, 20.0, 30.0], "fov": [60.0, 60.0, 60.0],
            "range_m": [40.0, 40.0, 40.0], **columns}
    points = [shapely.Point(114.0 + i * 0.001, 25.8) for i in range(3)]
    return gpd.GeoDataFrame(data, geometry=columns.pop("geometry", points), crs=4326)


def test_heading_out_of_range_names_row():
    with pytest.raises(InputError) as err:
        layer.validate_cameras(raw_cameras(heading=[10.0, 400.0, None]))
    assert "'heading'" in str(err.value) and "feature 2 (camera_id 'C2'): 400.0 out of range" in str(err.value)


def test_negative_range_and_bad_fov_name_rows():
    with pytest.raises(InputError) as err:
        layer.validate_cameras(raw_cameras(range_m=[40.0, 40.0, -5.0], fov=[0.0, 60.0, "wide"]))
    text = str(err.value)
    assert "'range_m'" in text and "feature 3 (camera_id 'C3'): -5.0 out of range" in text
    assert "'fov'" in text and "feature 1 (camera_id 'C1'): 0.0 out of range" in text
    assert "feature 3 (camera_id 'C3'): 'wide' not a finite number" in text


def test_duplicate_ids_named():
    with pytest.raises(InputError, match=r"camera_id must be unique.*'C1' at features 1, 3"):
        layer.validate_cameras(raw_cameras(camera_id=["C1", "C2", "C1"]))


def test_missing_ids_and_locations_named():
    with pytest.raises(InputError, match=r"camera_id is missing at feature 2"):
        layer.validate_cameras(raw_cameras(camera_id=["C1", None, "C3"]))
    raw = raw_cameras()
    raw.loc[1, "geometry"] = None
    with pytest.raises(InputError, match=r"no location .* feature 2 \(camera_id 'C2'\)"):
        layer.validate_cameras(raw)
    raw = raw_cameras()
    raw.loc[2, "geometry"] = shapely.box(114, 25.8, 114.001, 25.801)
    with pytest.raises(InputError, match=r"must be points.*feature 3 \(camera_id 'C3'\): Polygon"):
        layer.validate_cameras(raw)
    with pytest.raises(InputError, match="missing column"):
        layer.validate_cameras(raw_cameras().drop(columns="camera_id"))


def test_csv_missing_coordinates_named(tmp_path):
    path = tmp_path / "cams.csv"
    path.write_text("camera_id,lon,lat\nA,114.0,25.8\nB,,25.8\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"'lon'.*rows 3"):
        layer.read_cameras(path)


def test_valid_cameras_are_normalised():
    out = layer.validate_cameras(raw_cameras(heading=["360", None, 359.5], range_m=[40, None, "12.5"]))
    assert list(out.columns[:5]) == list(layer.CAMERA_COLUMNS)
    assert out["heading"].tolist()[0] == 0.0 and math.isnan(out["heading"][1]) and out["heading"][2] == 359.5
    assert out["range_m"].dtype == float and out["range_m"][2] == 12.5
    assert out["name"].isna().all() and out.crs.to_epsg() == 4326


def test_csv_with_lon_lat_and_aliases(tmp_path):
    path = tmp_path / "cams.csv"
    path.write_text(
        "ID,Name,lon,lat,Direction,Angle,Radius\n"
        "007,东门,114.0,25.8,90,60,45\n"
        "008,,114.001,25.8,,,\n",
        encoding="utf-8",
    )
    out = layer.read_cameras(path)
    assert out["camera_id"].tolist() == ["007", "008"]
    assert out["name"].tolist() == ["东门", None]
    assert out["heading"][0] == 90.0 and out["fov"][0] == 60.0 and out["range_m"][0] == 45.0
    assert out[["heading", "fov", "range_m"]].iloc[1].isna().all()
    assert out.geometry.x.tolist() == pytest.approx([114.0, 114.001])


def test_csv_errors_use_spreadsheet_rows(tmp_path):
    path = tmp_path / "cams.csv"
    path.write_text("camera_id,lon,lat,heading\nA,114.0,25.8,10\nB,114.001,25.8,-1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3 \(camera_id 'B'\): '-1' out of range"):
        layer.read_cameras(path)


def test_sample_cameras_read_and_cover_communities():
    cams = layer.read_cameras(SAMPLE / "cameras.geojson")
    assert len(cams) == 300 and cams["camera_id"].is_unique
    assert cams["heading"].dropna().between(0, 360, inclusive="left").all()
    assert shapely.is_valid(views.view_sectors(cams).values).all()
    communities = gpd.read_file(SAMPLE / "communities.geojson")
    grids = communities.rename(columns={"community_code": "grid_code"})[["grid_code", "geometry"]]
    cover = views.coverage_by_grid(grids, cams)
    placed = views.place_cameras(cams, grids)
    assert cover["camera_count"].sum() == placed["grid_code"].notna().sum() > 0
    assert cover["covered_share"].between(0, 1).all() and (cover["covered_m2"] > 0).any()

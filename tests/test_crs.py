"""Tests for geogrid.geo.crs: GCJ-02/BD-09 offsets, CRS parsing, conversion to WGS 84, metric CRSs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod

from geogrid.geo import crs
from geogrid.errors import InputError

GEOD = Geod(ellps="WGS84")

# Inside the China box with a margin, so offsets never carry a point across its edge.
china_lon = st.floats(73.0, 136.5, allow_nan=False)
china_lat = st.floats(2.0, 54.5, allow_nan=False)
china_points = st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=50)
outside_points = st.lists(
    st.one_of(
        st.tuples(st.floats(-180, 71.9), st.floats(-90, 90)),
        st.tuples(st.floats(138, 180), st.floats(-90, 90)),
        st.tuples(st.floats(-180, 180), st.floats(56, 90)),
        st.tuples(st.floats(-180, 180), st.floats(-90, 0.8)),
    ),
    min_size=1,
    max_size=30,
)


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distances between point arrays, in metres."""
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def arrays(points: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    pts = np.array(points, dtype=float)
    return pts[:, 0], pts[:, 1]


# --- offsets ---------------------------------------------------------------------------------


def test_forward_matches_published_values():
    # Reference values of the widely used coordtransform library for (116.404, 39.915).
    assert np.allclose(crs.wgs84_to_gcj02(116.404, 39.915), (116.41024449916938, 39.91640428150164), atol=1e-12)
    assert np.allclose(crs.gcj02_to_bd09(116.404, 39.915), (116.41036949371029, 39.92133699351021), atol=1e-12)


def test_scalars_in_scalars_out_and_arrays_in_arrays_out():
    lon, lat = crs.wgs84_to_gcj02(116.4, 39.9)
    assert np.ndim(lon) == 0 and np.ndim(lat) == 0
    lons, lats = crs.gcj02_to_wgs84([116.4, 121.5], [39.9, 31.2])
    assert lons.shape == (2,) and lats.shape == (2,)


@settings(max_examples=60, deadline=None)
@given(china_points)
def test_gcj02_round_trip_below_10_cm(points):
    lon, lat = arrays(points)
    back = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, *back).max() < 0.1


@settings(max_examples=60, deadline=None)
@given(china_points)
def test_bd09_round_trip_below_10_cm(points):
    lon, lat = arrays(points)
    assert metres(lon, lat, *crs.bd09_to_wgs84(*crs.wgs84_to_bd09(lon, lat))).max() < 0.1
    assert metres(lon, lat, *crs.bd09_to_gcj02(*crs.gcj02_to_bd09(lon, lat))).max() < 0.1


@settings(max_examples=40, deadline=None)
@given(china_points)
def test_inverse_solves_the_forward_formula(points):
    gcj_lon, gcj_lat = arrays(points)
    again = crs.wgs84_to_gcj02(*crs.gcj02_to_wgs84(gcj_lon, gcj_lat))
    assert metres(gcj_lon, gcj_lat, *again).max() < 0.1


def test_one_step_inverse_is_not_good_enough_but_ours_is():
    lon, lat = np.meshgrid(np.linspace(75, 135, 25), np.linspace(18, 53, 15))
    lon, lat = lon.ravel(), lat.ravel()
    gcj_lon, gcj_lat = crs.wgs84_to_gcj02(lon, lat)
    shift_lon, shift_lat = crs.wgs84_to_gcj02(gcj_lon, gcj_lat)
    one_step = (2 * gcj_lon - shift_lon, 2 * gcj_lat - shift_lat)
    assert metres(lon, lat, *one_step).max() > 0.5
    assert metres(lon, lat, *crs.gcj02_to_wgs84(gcj_lon, gcj_lat)).max() < 0.1


@settings(max_examples=40, deadline=None)
@given(outside_points)
def test_points_outside_china_are_untouched(points):
    lon, lat = arrays(points)
    for convert in (
        crs.wgs84_to_gcj02,
        crs.gcj02_to_wgs84,
        crs.gcj02_to_bd09,
        crs.bd09_to_gcj02,
        crs.wgs84_to_bd09,
        crs.bd09_to_wgs84,
    ):
        out_lon, out_lat = convert(lon, lat)
        assert np.array_equal(out_lon, lon) and np.array_equal(out_lat, lat)


def test_offsets_are_hundreds_of_metres_in_china():
    lon, lat = np.array([116.4, 121.47, 113.26]), np.array([39.9, 31.23, 23.13])
    assert (metres(lon, lat, *crs.wgs84_to_gcj02(lon, lat)) > 100).all()


# --- parse_crs -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["gcj02", "GCJ-02", "gcj-02", " Gcj02 "])
def test_parse_gcj02_markers(value):
    assert crs.parse_crs(value) == "gcj02"


@pytest.mark.parametrize("value", ["bd09", "BD-09", "bd09ll"])
def test_parse_bd09_markers(value):
    assert crs.parse_crs(value) == "bd09"


@pytest.mark.parametrize(
    ("value", "epsg"),
    [("wgs84", 4326), ("WGS-84", 4326), ("EPSG:4490", 4490), ("4326", 4326), (4547, 4547), ("epsg:4547", 4547)],
)
def test_parse_epsg(value, epsg):
    parsed = crs.parse_crs(value)
    assert isinstance(parsed, CRS) and parsed.to_epsg() == epsg


def test_parse_proj_string_and_none():
    assert crs.parse_crs("+proj=utm +zone=50 +datum=WGS84").is_projected
    assert crs.parse_crs(None) is None


@pytest.mark.parametrize("value", ["gcj03", "EPSG:99999999", "not a crs"])
def test_parse_unknown_names_the_value(value):
    with pytest.raises(InputError, match="unknown coordinate reference system") as info:
        crs.parse_crs(value)
    assert value in str(info.value)


# --- to_wgs84 / check_location ---------------------------------------------------------------


def frame(geoms, crs_=None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": range(len(geoms))}, geometry=list(geoms), crs=crs_)


BEIJING = shapely.box(116.39, 39.90, 116.40, 39.91)


def test_gcj02_input_overrides_a_lon_lat_label():
    gcj = frame([BEIJING], 4326)
    out = crs.to_wgs84(gcj, "gcj02", name="buildings")
    expected = crs.gcj02_to_wgs84(*shapely.get_coordinates(BEIJING).T)
    assert np.allclose(shapely.get_coordinates(out.geometry.values).T, expected)
    assert out.crs.to_epsg() == 4326
    assert gcj.geometry.iloc[0].equals(BEIJING)  # the input is not modified


def test_bd09_input_without_crs_and_z_is_kept():
    line = shapely.LineString([(116.40, 39.90, 5.0), (116.41, 39.91, 7.0)])
    out = crs.to_wgs84(frame([line]), "BD-09", name="roads")
    coords = shapely.get_coordinates(out.geometry.values, include_z=True)
    expected = crs.bd09_to_wgs84(*shapely.get_coordinates(line).T)
    assert np.allclose(coords[:, :2].T, expected) and list(coords[:, 2]) == [5.0, 7.0]


def test_projected_file_crs_is_used():
    projected = frame([BEIJING], 4326).to_crs(4547)
    out = crs.to_wgs84(projected, name="buildings")
    assert np.allclose(out.total_bounds, BEIJING.bounds, atol=1e-7)


def test_projected_file_crs_wins_over_input_crs():
    projected = frame([BEIJING], 4326).to_crs(4547)
    out = crs.to_wgs84(projected, "gcj02", name="buildings")
    assert np.allclose(out.total_bounds, BEIJING.bounds, atol=1e-7)


def test_input_crs_applies_to_projected_data_labelled_lon_lat():
    # GeoJSON without a crs member is read as EPSG:4326 even when it holds metres.
    metres_ = frame([BEIJING], 4326).to_crs(4547).set_crs(4326, allow_override=True)
    out = crs.to_wgs84(metres_, "EPSG:4547", name="buildings")
    assert np.allclose(out.total_bounds, BEIJING.bounds, atol=1e-7)


def test_cgcs2000_is_converted():
    out = crs.to_wgs84(frame([BEIJING], 4490), name="buildings")
    assert out.crs.to_epsg() == 4326
    assert np.allclose(out.total_bounds, BEIJING.bounds, atol=1e-5)


def test_missing_crs_lon_lat_is_assumed_wgs84():
    out = crs.to_wgs84(frame([BEIJING]), name="buildings")
    assert out.crs.to_epsg() == 4326 and np.allclose(out.total_bounds, BEIJING.bounds)


def test_missing_crs_with_metres_asks_for_input_crs():
    with pytest.raises(InputError, match="--input-crs") as info:
        crs.to_wgs84(frame([shapely.box(500000, 4400000, 500100, 4400100)]), name="buildings file b.shp")
    assert "b.shp" in str(info.value) and "no coordinate reference system" in str(info.value)


def test_swapped_lon_lat_detected():
    swapped = frame([shapely.box(39.90, 116.39, 39.91, 116.40)], 4326)
    with pytest.raises(InputError, match="looks like longitude and latitude are swapped"):
        crs.to_wgs84(swapped, name="buildings")


def test_swapped_lon_lat_without_crs_detected():
    with pytest.raises(InputError, match="swapped"):
        crs.to_wgs84(frame([shapely.Point(31.2, 121.5)]), name="points")


def test_latitude_beyond_90_rejected():
    with pytest.raises(InputError, match="far from any plausible place: check --input-crs"):
        crs.check_location(frame([shapely.Point(10, 95)], 4326), name="points")


def test_wrong_declared_crs_landing_near_null_island_rejected():
    # Degrees declared as Web Mercator metres end up a few metres from (0, 0).
    wrong = frame([BEIJING], 3857)
    with pytest.raises(InputError, match="far from where it can be") as info:
        crs.to_wgs84(wrong, name="buildings")
    assert "Pseudo-Mercator" in str(info.value)


def test_data_outside_china_is_allowed():
    paris = frame([shapely.box(2.30, 48.85, 2.31, 48.86)], 4326)
    assert crs.to_wgs84(paris, "gcj02", name="buildings").geometry.iloc[0].equals(paris.geometry.iloc[0])


# --- metric_crs ----------------------------------------------------------------------------


@pytest.mark.parametrize(("lon", "cm"), [(114.9, 114), (115.6, 117), (73.5, 75), (87.6, 87), (134.8, 135)])
def test_metric_crs_picks_the_gk_zone(lon, cm):
    chosen = crs.metric_crs((lon - 0.01, 30.0, lon + 0.01, 30.01))
    assert chosen.name == f"CGCS2000 / 3-degree Gauss-Kruger CM {cm}E"


@settings(max_examples=60, deadline=None)
@given(st.floats(75.0, 135.0), st.floats(18.0, 53.0))
def test_metric_crs_zone_meridian_is_nearest(lon, lat):
    chosen = crs.metric_crs((lon, lat, lon, lat))
    cm = int(chosen.name.rsplit(" ", 1)[1].rstrip("E"))
    assert abs(cm - lon) <= 1.5 + 1e-9
    assert chosen.to_epsg() == 4534 + (cm - 75) // 3


def test_metric_crs_outside_china_is_utm_and_accepts_frames():
    paris = frame([shapely.box(2.30, 48.85, 2.31, 48.86)], 4326)
    assert crs.metric_crs(paris).to_epsg() == 32631
    # Beijing (116.4E) is nearest CM 117E, whatever CRS the frame is in.
    assert crs.metric_crs(frame([BEIJING], 4326).to_crs(4547)).to_epsg() == 4548

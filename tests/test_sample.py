"""Tests for geogrid.sample.district: a deterministic, internally consistent synthetic district."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geogrid.sample.district import CATEGORIES, CHANNELS, LAYERS, build, generate

METRIC = "EPSG:4547"
COLUMNS = {
    "district": ["district_code", "name"],
    "streets": ["street_code", "name", "kind", "district_code"],
    "communities": ["community_code", "name", "street_code", "kind"],
    "buildings": ["building_id", "community_code", "households", "population", "compound", "address", "units",
                  "floors"],
    "villager_groups": ["group_id", "community_code", "name", "population", "households"],
    "roads": ["road_id", "name", "road_class"],
    "cameras": ["camera_id", "name", "heading", "fov", "range_m"],
    "incidents": ["incident_id", "category", "reported_at", "channel", "description", "address"],
}


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    return build(households=15_000, seed=7, incidents=2_000, cameras=150)


@pytest.fixture(scope="module")
def metric(layers) -> dict[str, gpd.GeoDataFrame]:
    return {name: frame.to_crs(METRIC) for name, frame in layers.items()}


def _same(a: dict, b: dict) -> bool:
    return all(a[name].drop(columns="geometry").equals(b[name].drop(columns="geometry"))
               and (a[name].geometry.to_wkb() == b[name].geometry.to_wkb()).all() for name in LAYERS)


def test_same_seed_same_layers_other_seed_differs(layers):
    assert _same(layers, build(households=15_000, seed=7, incidents=2_000, cameras=150))
    assert not _same(layers, build(households=15_000, seed=8, incidents=2_000, cameras=150))


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_generate_writes_byte_identical_files(tmp_path, fmt):
    a = generate(tmp_path / "a", households=8_000, seed=1, incidents=300, cameras=30, fmt=fmt)
    b = generate(tmp_path / "b", households=8_000, seed=1, incidents=300, cameras=30, fmt=fmt)
    assert list(a) == list(LAYERS)
    for name in LAYERS:
        assert a[name].name == f"{name}.{fmt}"
        assert a[name].read_bytes() == b[name].read_bytes(), name


def test_layers_have_the_documented_columns_in_wgs84(layers):
    for name, frame in layers.items():
        assert list(frame.columns) == [*COLUMNS[name], "geometry"], name
        assert frame.crs.to_epsg() == 4326
        xy = shapely.get_coordinates(frame.geometry.to_numpy())
        assert np.allclose(xy, np.round(xy, 7), rtol=0, atol=1e-12)
        assert ((xy[:, 0] > 114) & (xy[:, 0] < 116) & (xy[:, 1] > 25) & (xy[:, 1] < 27)).all()


def test_streets_tile_the_district_and_communities_tile_their_street(metric):
    district = metric["district"].geometry.iloc[0]
    streets, communities = metric["streets"], metric["communities"]
    assert streets.area.sum() == pytest.approx(district.area, rel=1e-6)
    for street in streets.itertuples():
        own = communities[communities["street_code"] == street.street_code].geometry.to_numpy()
        assert len(own) >= 1
        assert shapely.area(own).sum() == pytest.approx(street.geometry.area, rel=1e-6)
        assert shapely.union_all(own).area == pytest.approx(street.geometry.area, rel=1e-6)
    assert communities.geometry.geom_type.eq("Polygon").all() and communities.is_valid.all()


def test_codes_names_and_kinds(layers):
    streets, communities = layers["streets"], layers["communities"]
    assert len(streets) >= 3 and set(streets["kind"]) == {"street", "town"}
    assert streets["street_code"].str.fullmatch(r"360702-\d{3}").all() and (streets["district_code"] == "360702").all()
    towns = streets["kind"] == "town"
    assert streets.loc[towns, "name"].str.endswith("镇").all()
    assert streets.loc[~towns, "name"].str.endswith("街道").all()
    assert communities["community_code"].str.fullmatch(r"360702-\d{3}-\d{3}").all()
    assert (communities["community_code"].str[:10] == communities["street_code"]).all()
    rural = communities["kind"] == "rural"
    assert communities.loc[rural, "name"].str.endswith("村").all()
    assert communities.loc[~rural, "name"].str.endswith("社区").all()
    town_codes = set(streets.loc[towns, "street_code"])
    assert communities.loc[rural, "street_code"].isin(town_codes).all()
    assert communities["name"].is_unique and streets["name"].is_unique


def test_buildings_lie_inside_one_community_off_roads_without_overlap(metric):
    buildings, communities = metric["buildings"], metric["communities"]
    joined = gpd.sjoin(buildings[["building_id", "community_code", "geometry"]],
                       communities[["community_code", "geometry"]], predicate="within")
    assert len(joined) == len(buildings) and joined["building_id"].is_unique
    assert (joined["community_code_left"] == joined["community_code_right"]).all()
    home = communities.set_index("community_code").geometry.reindex(buildings["community_code"]).to_numpy()
    assert shapely.distance(shapely.boundary(home), buildings.geometry.to_numpy()).min() > 2.9
    footprints = buildings.geometry.to_numpy()
    left, right = shapely.STRtree(footprints).query(footprints, predicate="intersects")
    assert (left == right).all()
    assert len(shapely.STRtree(footprints).query(metric["roads"].geometry.to_numpy(), predicate="intersects")[0]) == 0
    assert buildings["building_id"].is_unique and buildings["building_id"].str.fullmatch(r"B\d{6}").all()


def test_the_household_mix(layers):
    buildings, communities = layers["buildings"], layers["communities"]
    assert (communities["kind"] == "rural").sum() >= 3
    per_community = buildings.groupby("community_code")["households"].sum()
    assert (per_community < 300).sum() == 1
    assert per_community.sum() == pytest.approx(15_000, rel=0.15)
    towers = buildings[buildings["floors"] >= 18]
    assert towers["households"].between(100, 700).all() and (towers["households"] >= 200).sum() >= 3
    assert ((towers["households"] >= 500) & towers["units"].isna()).any()
    assert towers["units"].dropna().between(1, 6).all() and towers["units"].dropna().ge(2).any()
    assert buildings.loc[buildings["floors"] < 18, "units"].isna().all()
    walkups = buildings[buildings["floors"].between(5, 7)]
    assert len(walkups) and walkups["households"].between(12, 42).all()
    assert (buildings["population"] >= buildings["households"]).all()


def test_people_per_household_and_addresses(layers):
    buildings = layers["buildings"]
    rural_codes = layers["communities"].query("kind == 'rural'")["community_code"]
    rural = buildings["community_code"].isin(rural_codes)
    town, village = buildings[~rural], buildings[rural]
    assert town["population"].sum() / town["households"].sum() == pytest.approx(2.6, abs=0.15)
    assert village["population"].sum() / village["households"].sum() == pytest.approx(3.4, abs=0.25)
    assert village["households"].isin([1, 2]).all() and (village["compound"] == "").all()
    assert village["address"].str.fullmatch(r".+村\d+组\d+号").all()
    in_compound = town[town["compound"] != ""]
    assert in_compound["address"].str.fullmatch(r".+(路|大道|街|巷)\d+号.+\d+栋").all()
    assert (in_compound.apply(lambda b: b["compound"] in b["address"], axis=1)).all()
    assert in_compound.groupby("compound").size().between(3, 30).all()
    assert town.loc[town["compound"] == "", "address"].str.fullmatch(r".+(路|大道|街|巷)\d+(-\d+)?号").all()


def test_villager_groups_tile_villages_and_sum_their_houses(metric):
    groups, communities, buildings = metric["villager_groups"], metric["communities"], metric["buildings"]
    villages = communities[communities["kind"] == "rural"]
    assert set(groups["community_code"]) == set(villages["community_code"])
    assert groups["group_id"].str.fullmatch(r"360702-\d{3}-\d{3}-G\d{2}").all() and groups["group_id"].is_unique
    for village in villages.itertuples():
        own = groups[groups["community_code"] == village.community_code]
        assert 6 <= len(own) <= 15
        assert own.area.sum() == pytest.approx(village.geometry.area, rel=1e-6)
        assert shapely.union_all(own.geometry.to_numpy()).area == pytest.approx(village.geometry.area, rel=1e-6)
    points = gpd.GeoDataFrame(buildings[["population", "households"]], geometry=buildings.representative_point())
    inside = gpd.sjoin(points, groups[["group_id", "geometry"]], predicate="within")
    sums = inside.groupby("group_id")[["population", "households"]].sum().reindex(groups["group_id"]).fillna(0)
    assert (sums["population"].to_numpy() == groups["population"].to_numpy()).all()
    assert (sums["households"].to_numpy() == groups["households"].to_numpy()).all()
    assert groups["population"].between(150, 600).mean() > 0.7


def test_roads(layers):
    roads = layers["roads"]
    assert roads.geom_type.eq("LineString").all() and roads["road_id"].is_unique
    assert set(roads["road_class"]) == {"primary", "secondary", "residential"}
    assert roads["name"].str.fullmatch(r".+(路|大道|街|巷)").all()


def test_cameras(layers):
    cameras = layers["cameras"]
    assert len(cameras) == 150 and cameras["camera_id"].str.fullmatch(r"C\d{4}").all()
    dome = cameras["heading"].isna()
    assert dome.mean() == pytest.approx(0.3, abs=0.12)
    assert (cameras["fov"].isna() == dome).all()
    assert cameras["heading"].dropna().between(0, 360).all() and cameras["range_m"].between(30, 80).all()
    assert (cameras["name"].str.len() > 0).all() and cameras.geom_type.eq("Point").all()


def test_incidents(layers):
    incidents = layers["incidents"]
    assert len(incidents) == 2_000 and incidents["incident_id"].str.fullmatch(r"I\d{6}").all()
    assert set(incidents["category"]) == set(CATEGORIES) and set(incidents["channel"]) <= set(CHANNELS)
    assert incidents["reported_at"].str.fullmatch(r"2025-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00").all()
    stamps = pd.to_datetime(incidents["reported_at"])
    assert stamps.is_monotonic_increasing and stamps.dt.month.nunique() == 12
    assert stamps.dt.hour.between(8, 18).mean() > 0.6  # office hours are busiest
    assert incidents["address"].isin(set(layers["buildings"]["address"])).all()
    assert (incidents["description"].str.len() > 0).all()


def test_incident_hot_spots_stand_out(metric):
    xy = np.floor(shapely.get_coordinates(metric["incidents"].geometry.to_numpy()) / 100)
    counts = pd.Series(list(map(tuple, xy))).value_counts()
    assert counts.iloc[0] > 10 * counts.mean()
    assert counts.iloc[: max(1, len(counts) // 100)].sum() > 0.05 * counts.sum()


def test_default_size_and_smallest_size():
    default = build(incidents=0, cameras=0)
    assert 20 <= len(default["communities"]) <= 40 and len(default["streets"]) >= 3
    per_community = default["buildings"].groupby("community_code")["households"].sum()
    assert per_community.drop(per_community.idxmin()).between(500, 6_000).all()
    tiny = build(households=1_000, incidents=10, cameras=5)
    assert len(tiny["incidents"]) == 10 and len(tiny["cameras"]) == 5 and len(tiny["buildings"]) > 0

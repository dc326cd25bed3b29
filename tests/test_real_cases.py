"""The real-data corpus (OSM footprints and streets shipped in PyPI packages) and the engine on it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from geogrid.geo.crs import metric_crs
from geogrid.partition import partition
from geogrid.sample.osm import (
    MINOR_STREETS,
    PEOPLE_PER_HOUSEHOLD,
    SOURCES,
    estimate_households,
    real_case,
)


@pytest.fixture(scope="module", params=sorted(SOURCES))
def case(request):
    return real_case(request.param)


def metric(frame, like):
    return frame.to_crs(metric_crs(like.to_crs(4326)))


def test_households_come_from_floor_area():
    area = np.array([400.0, 400.0, 400.0, 100.0, 30.0, 900.0])
    levels = np.array([5, np.nan, np.nan, np.nan, np.nan, 3])
    height = np.array([np.nan, 12.0, np.nan, np.nan, np.nan, np.nan])
    kind = np.array(["apartments", "yes", "yes", "house", "yes", "church"])
    storeys, households = estimate_households(area, levels, height, kind)
    assert storeys.tolist() == [5, 4, 4, 1, 1, 3]  # levels; height / 3 m; by area (300-800 m²: 4); by area
    assert households.tolist() == [25, 20, 20, 1, 0, 0]  # 80 m² each; at least one for a home; shed; church


def test_each_case_keeps_its_real_buildings_and_counts(case):
    b = case.buildings
    assert b["building_id"].is_unique
    assert len(b) >= {"bubenec": 144, "helsinki": 480, "karhula": 2190}[case.name]
    assert (b["households"] >= 0).all() and b["households"].sum() > 1000
    assert (b["population"] == np.round(b["households"] * PEOPLE_PER_HOUSEHOLD)).all()
    assert (b.geom_type.isin(["Polygon", "MultiPolygon"])).all()


def test_communities_are_whole_blocks_that_tile_the_area(case):
    communities = metric(case.communities, case.communities)
    geoms = communities.geometry.to_numpy()
    assert (shapely.get_num_geometries(geoms) == 1).all()
    union = shapely.union_all(geoms)
    assert shapely.area(geoms).sum() == pytest.approx(union.area, rel=1e-6)  # no overlaps
    buildings = metric(case.buildings, case.communities).geometry.to_numpy()
    inside = shapely.STRtree(geoms).query(shapely.point_on_surface(buildings), predicate="within")
    assert np.bincount(inside[0], minlength=len(buildings)).tolist() == [1] * len(buildings)
    # no community boundary cuts a footprint
    edges = shapely.union_all(shapely.boundary(geoms))
    assert not shapely.intersects(shapely.buffer(buildings, -0.5), edges).any()
    # every block that the streets close lies in one community: no community boundary crosses a block
    streets = metric(case.roads, case.communities)
    bounding = streets.geometry.to_numpy()[~streets["highway"].isin(MINOR_STREETS).to_numpy()]
    closed = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(bounding))))
    closed = shapely.intersection(closed, union)
    closed = closed[shapely.area(closed) > 100]
    assert len(closed) > 0
    c, g = shapely.STRtree(geoms).query(closed, predicate="intersects")
    share = np.zeros(len(closed))
    np.maximum.at(share, c, shapely.area(shapely.intersection(closed[c], geoms[g])) / shapely.area(closed[c]))
    assert share.min() > 0.999


def test_community_sizes_follow_the_target(case):
    held = case.buildings.assign(geometry=case.buildings.representative_point()).sjoin(
        case.communities, predicate="within").groupby("community_code")["households"].sum()
    assert len(held) == len(case.communities)  # no community without households
    if len(held) > 1:
        assert held.min() >= 1500


def test_the_same_case_every_time():
    first, second = real_case("bubenec"), real_case("bubenec")
    assert first.buildings.drop(columns="geometry").equals(second.buildings.drop(columns="geometry"))
    assert first.communities.geometry.geom_equals_exact(second.communities.geometry, 1e-9).all()


@pytest.mark.parametrize("name", ["bubenec", "helsinki", "karhula"])
def test_engine_on_real_footprints_proves_every_grid_outside_a_limit(name):
    """No grid outside a limit without its own proof, every grid one polygon (Helsinki has buildings
    drawn in several parts), no footprint cut, every household in one grid."""
    case = real_case(name)
    result = partition(case.communities, case.buildings, roads=case.roads)
    total = result.report["total"]
    assert total["grids_outside_limits_unproven"] == 0
    assert total["grids_in_several_parts"] == 0
    assert (shapely.get_type_id(result.grids.geometry.to_numpy()) == 3).all()
    assert total["households"]["total"] == case.buildings["households"].sum()
    whole = result.assignments[result.assignments["units"] == ""]
    assert whole["building_id"].is_unique and whole["grid_code"].notna().all()
    assert not any(f["rule"] == "building_cut" for text in result.grids["flags"] for f in json.loads(text))
    outside = [json.loads(t) for t, ok in zip(result.grids["flags"], result.grids["within_limits"]) if not ok]
    proven = sum(total["grids_outside_limits_by_proof"].values())
    assert proven == total["grids_outside_limits"] <= len(outside)

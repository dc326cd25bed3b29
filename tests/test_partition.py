"""The partition engine's hard rules, on random and hand-made communities."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geogrid.partition import partition
from geogrid.partition.limits import Limits
from geogrid.partition.rules import Rules
from tests.synthetic import METRIC, ORIGIN, community


def _flags(grids: gpd.GeoDataFrame) -> list[set[str]]:
    return [{f["rule"] for f in json.loads(text)} for text in grids["flags"]]


def assert_hard_rules(communities, buildings, result) -> None:
    """Exact tiling, one polygon per grid, every building in exactly one grid, footprints uncut."""
    grids = result.grids.to_crs(METRIC)
    outline = communities.to_crs(METRIC).geometry.iloc[0]
    union = shapely.union_all(grids.geometry.to_numpy())
    assert shapely.area(shapely.symmetric_difference(union, outline)) < 1e-3 * outline.area ** 0.5
    assert grids.area.sum() == pytest.approx(outline.area, rel=1e-6)
    assert shapely.get_num_interior_rings(union) == shapely.get_num_interior_rings(outline)  # no slivers
    assert shapely.coverage_is_valid(result.grids.geometry.to_numpy())  # shared edges match exactly
    assert (shapely.get_num_geometries(grids.geometry.to_numpy()) == 1).all()
    assigned = result.assignments
    whole = assigned[assigned["units"] == ""]
    assert whole["building_id"].is_unique
    per_building = assigned.groupby("building_id")["households"].sum()
    expected = buildings.set_index("building_id")["households"]
    pd.testing.assert_series_equal(per_building.sort_index(), expected.sort_index(), check_names=False,
                                   check_dtype=False)
    footprints = buildings.to_crs(METRIC).set_index("building_id").geometry
    home = grids.set_index("grid_code").geometry
    for bid, code in zip(whole["building_id"], whole["grid_code"]):
        outside = footprints[bid].difference(home[code]).area
        assert outside < 0.05, f"{bid} is cut by the boundary of {code}"
    assert grids["households"].sum() == buildings["households"].sum()
    assert grids["population"].sum() == buildings["population"].sum()


@settings(max_examples=int(os.environ.get("GEOGRID_EXAMPLES", 12)), derandomize=not os.environ.get("GEOGRID_EXPLORE"), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    width=st.floats(250, 900),
    height=st.floats(250, 800),
    size=st.floats(2.3, 2.8),
    roads=st.booleans(),
)
def test_random_feasible_communities_meet_every_rule(seed, width, height, size, roads):
    rng = np.random.default_rng(seed)
    communities, buildings, road_lines = community(rng, width=width, height=height, people_per_household=size,
                                                   households=(8, 30), with_roads=roads)
    result = partition(communities, buildings, roads=road_lines if roads else None)
    assert_hard_rules(communities, buildings, result)
    households, population = buildings["households"].sum(), buildings["population"].sum()
    lo, hi = Limits.urban(Rules()).grid_range(households, population)
    if households < 300:
        assert len(result.grids) == 1 and "community_too_small" in _flags(result.grids)[0]
    elif lo > hi:  # no count of grids can meet both windows
        assert all("no_feasible_window" in f for f in _flags(result.grids))
    else:
        assert result.grids["within_limits"].all(), result.grids[["households", "population", "flags"]]


@settings(max_examples=6, derandomize=not os.environ.get("GEOGRID_EXPLORE"), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), tower=st.integers(520, 900))
def test_tower_without_units_is_its_own_flagged_grid(seed, tower):
    rng = np.random.default_rng(seed)
    communities, buildings, roads = community(rng, width=700, height=600, towers=[(tower, None)])
    result = partition(communities, buildings, roads=roads)
    assert_hard_rules(communities, buildings, result)
    flagged = result.grids[[("oversized_building" in f) for f in _flags(result.grids)]]
    assert len(flagged) == 1 and flagged["building_count"].iat[0] == 1
    assert flagged["households"].iat[0] == tower


def test_tower_with_units_is_split_by_units():
    rng = np.random.default_rng(4)
    communities, buildings, roads = community(rng, width=700, height=600, towers=[(640, 4)])
    result = partition(communities, buildings, roads=roads)
    assert_hard_rules(communities, buildings, result)
    tower = result.assignments[result.assignments["units"] != ""]
    assert tower["building_id"].nunique() == 1 and len(tower) >= 2
    assert tower["households"].sum() == 640
    assert result.grids["within_limits"].all()


def test_small_community_is_one_flagged_grid():
    rng = np.random.default_rng(1)
    communities, buildings, roads = community(rng, width=200, height=160, households=(8, 20))
    assert buildings["households"].sum() < 300
    result = partition(communities, buildings, roads=roads)
    assert_hard_rules(communities, buildings, result)
    assert len(result.grids) == 1
    assert {"community_too_small", "min_households"} <= _flags(result.grids)[0]


def test_household_size_without_feasible_window_is_flagged():
    rng = np.random.default_rng(2)
    communities, buildings, roads = community(rng, width=600, height=500, people_per_household=4.0)
    result = partition(communities, buildings, roads=roads)
    assert_hard_rules(communities, buildings, result)
    assert all("no_feasible_window" in f for f in _flags(result.grids))
    assert (result.grids["population"] <= 1000).all()


def test_building_outside_every_community_is_reported():
    rng = np.random.default_rng(3)
    communities, buildings, roads = community(rng, width=500, height=400)
    stray = gpd.GeoDataFrame({"building_id": ["STRAY"], "households": [20], "population": [50], "compound": [""],
                              "address": [""], "units": [None]},
                             geometry=[shapely.box(ORIGIN[0] - 500, ORIGIN[1], ORIGIN[0] - 480, ORIGIN[1] + 10)],
                             crs=METRIC).to_crs(4326)
    result = partition(communities, pd.concat([buildings, stray], ignore_index=True), roads=roads)
    row = result.assignments.set_index("building_id").loc["STRAY"]
    assert pd.isna(row["grid_code"])
    assert result.report["total"]["unassigned_buildings"] == ["STRAY"]


def test_grid_codes_follow_the_hierarchy_and_run_is_deterministic():
    rng = np.random.default_rng(5)
    communities, buildings, roads = community(rng, code="360702-002-004", width=600, height=500)
    first = partition(communities, buildings, roads=roads)
    shuffled = buildings.sample(frac=1, random_state=1)
    second = partition(communities, shuffled, roads=roads)
    assert first.grids["grid_code"].str.fullmatch(r"360702-002-004-\d{2}").all()
    assert first.grids["grid_code"].is_unique
    pd.testing.assert_frame_equal(first.assignments, second.assignments)
    assert first.grids.geometry.geom_equals_exact(second.grids.geometry, 1e-9).all()


def test_grid_boundaries_follow_streets():
    rng = np.random.default_rng(6)
    communities, buildings, roads = community(rng, width=800, height=700)
    with_streets = partition(communities, buildings, roads=roads)
    without = partition(communities, buildings)
    outline = communities.to_crs(METRIC).geometry.iloc[0]
    streets = shapely.intersection(shapely.union_all(roads.to_crs(METRIC).geometry.to_numpy()), outline)

    def street_used(result) -> float:
        lines = shapely.union_all(shapely.boundary(result.grids.to_crs(METRIC).geometry.to_numpy()))
        return shapely.intersection(lines, shapely.buffer(streets, 2.0)).length / streets.length

    assert street_used(with_streets) > 0.6
    assert street_used(with_streets) > 2 * street_used(without)
    assert with_streets.report["total"]["boundary_on_streets_share"] > 0


def test_previous_plan_keeps_valid_grids_and_reports_moves():
    rng = np.random.default_rng(7)
    communities, buildings, roads = community(rng, width=800, height=600, households=(10, 30))
    before = partition(communities, buildings, roads=roads)
    changed = buildings.copy()
    grown = before.assignments["grid_code"].iloc[0]
    in_grid = before.assignments.loc[before.assignments["grid_code"] == grown, "building_id"]
    changed.loc[changed["building_id"].isin(in_grid), ["households", "population"]] *= 2
    after = partition(communities, changed, roads=roads, previous_grids=before.grids,
                      previous_assignments=before.assignments)
    assert_hard_rules(communities, changed, after)
    assert after.grids["within_limits"].all()
    kept = set(before.grids["grid_code"]) & set(after.grids["grid_code"])
    assert len(kept) >= len(before.grids) - 4
    moved = after.report["total"]["households_moved_share"]
    assert 0 < moved < 0.25


def _village(rng: np.random.Generator, groups: int = 12):
    """A village tiled by villager groups, houses inside them."""
    x0, y0 = ORIGIN
    cols = 4
    rows = int(np.ceil(groups / cols))
    cells = [shapely.box(x0 + c * 300, y0 + r * 250, x0 + (c + 1) * 300, y0 + (r + 1) * 250)
             for r in range(rows) for c in range(cols)][:groups]
    outline = shapely.union_all(cells)
    population = rng.integers(120, 320, len(cells))
    houses, house_pop = [], []
    for cell, pop in zip(cells, population):
        n = int(pop // 4)
        bx, by, _, _ = cell.bounds
        xs = bx + 20 + (np.arange(n) % 10) * 25
        ys = by + 20 + (np.arange(n) // 10) * 25
        houses.extend(shapely.box(xs, ys, xs + 12, ys + 10))
        share = np.full(n, pop // n)
        share[: pop - share.sum()] += 1
        house_pop.extend(share)
    buildings = gpd.GeoDataFrame({"building_id": [f"H{i:04d}" for i in range(len(houses))], "households": 1,
                                  "population": house_pop, "compound": "", "address": "", "units": None},
                                 geometry=houses, crs=METRIC).to_crs(4326)
    village = gpd.GeoDataFrame({"community_code": ["360702-005-001"], "name": ["沙河村"], "kind": ["rural"]},
                               geometry=[outline], crs=METRIC).to_crs(4326)
    group_frame = gpd.GeoDataFrame({"group_id": [f"G{i:02d}" for i in range(len(cells))],
                                    "population": population, "households": population // 4},
                                   geometry=cells, crs=METRIC).to_crs(4326)
    return village, buildings, group_frame


def test_village_grids_are_unions_of_whole_villager_groups():
    rng = np.random.default_rng(8)
    village, houses, groups = _village(rng)
    result = partition(village, houses, villager_groups=groups)
    grids = result.grids
    members = [set(m.split(",")) for m in grids["villager_groups"]]
    assert sorted(g for m in members for g in m) == sorted(groups["group_id"])
    assert grids["population"].sum() == groups["population"].sum()
    rules = Rules()
    within = grids["population"].between(rules.rural_min_population, rules.rural_max_population)
    assert within.all(), grids[["population", "villager_groups"]]
    assert (shapely.get_num_geometries(grids.geometry.to_numpy()) == 1).all()
    assert result.assignments["grid_code"].notna().all()


def test_compounds_are_kept_together_where_the_limits_allow():
    rng = np.random.default_rng(9)
    communities, buildings, roads = community(rng, width=800, height=700, households=(8, 16))
    aware = partition(communities, buildings, roads=roads)
    blind = partition(communities, buildings.assign(compound=""), roads=roads)
    groups = buildings.set_index("building_id")["compound"]

    def whole_share(result) -> float:
        grid = result.assignments.set_index("building_id")["grid_code"]
        return float((grid.groupby(groups).nunique() == 1).mean())

    assert whole_share(aware) > whole_share(blind)
    assert aware.report["total"]["compounds_whole_share"] == pytest.approx(whole_share(aware), abs=1e-4)
    assert aware.grids["within_limits"].all()


def test_an_unchanged_plan_is_kept_whole_by_a_rerun():
    """Re-partitioning with the previous plan and nothing changed keeps every grid, tower unit and
    villager group where it was, with the same flags and proofs: a town community within every limit
    with towers split by units, one where no partition meets every limit, and a village."""
    sample = Path(__file__).resolve().parents[1] / "data" / "sample"
    codes = ["360702-001-007", "360702-002-001", "360702-003-001"]
    communities = gpd.read_file(sample / "communities.geojson")
    communities = communities[communities["community_code"].isin(codes)]
    buildings = gpd.read_file(sample / "buildings.geojson")
    buildings = buildings[buildings["community_code"].isin(codes)].drop(columns="community_code")
    layers = {"roads": gpd.read_file(sample / "roads.geojson"),
              "villager_groups": gpd.read_file(sample / "villager_groups.geojson")}
    before = partition(communities, buildings, **layers)
    assert (before.assignments["units"] != "").any()  # towers split by units
    verdicts = {c["community_code"]: c["feasible_partition"] for c in before.report["communities"]}
    assert verdicts == {"360702-001-007": "none", "360702-002-001": "met", "360702-003-001": "none"}
    after = partition(communities, buildings, previous_grids=before.grids,
                      previous_assignments=before.assignments, **layers)
    assert after.report["total"]["households_moved_share"] == 0.0
    pd.testing.assert_frame_equal(after.assignments, before.assignments)
    columns = ["grid_code", "households", "population", "flags", "villager_groups"]
    pd.testing.assert_frame_equal(after.grids[columns], before.grids[columns])
    assert [c["feasible_partition"] for c in after.report["communities"]] == list(verdicts.values())


def test_moved_households_are_counted_unit_by_unit_in_towers():
    """A unit that changed grid counts its share of the tower; a tower split in one plan and whole in
    the other is compared unit by unit with the whole building; new buildings do not count."""
    from geogrid.partition.report import _moved, _moved_share

    before = pd.DataFrame({"building_id": ["A", "T", "T", "S", "S", "B"],
                           "units": ["", "1-2", "3-4", "1", "2", ""],
                           "grid_code": ["G1", "G1", "G2", "G1", "G2", "G1"],
                           "households": [10, 20, 20, 5, 5, 10]})
    after = pd.DataFrame({"building_id": ["A", "T", "T", "S", "B", "N"], "community_code": "C",
                          "units": ["", "1-3", "4", "", "", ""],
                          "grid_code": ["G2", "G1", "G2", "G1", "G1", "G1"],
                          "households": [10, 30, 10, 10, 10, 99]})
    moved = _moved(before, after)
    assert moved.loc["C", "households"] == pytest.approx(70)
    assert moved.loc["C", "moved"] == pytest.approx(10 + 10 + 5)  # A, unit 3 of T, unit 2 of S
    assert _moved_share(moved) == pytest.approx(25 / 70, abs=1e-4)


def test_a_kept_plan_claims_no_impossibility_that_a_fresh_division_disproves():
    """After a year of changes (5% of buildings with counts changed by up to 20%, 1% demolished), the
    community keeping its previous plan is found within every limit, as it is when divided afresh.
    (Kept grids once left a piece with no feasible window, and that piece's flag was taken for a
    proof that the whole community could not meet every limit.)"""
    from geogrid.sample.district import build

    layers = build(households=30_000, seed=0, incidents=0, cameras=0)
    code = "360702-001-006"
    buildings = layers["buildings"]
    rng = np.random.default_rng(3)
    later = buildings[rng.random(len(buildings)) >= 0.01].copy()
    picked = rng.random(len(later)) < 0.05
    factor = rng.uniform(0.8, 1.2, int(picked.sum()))
    for column in ("households", "population"):
        values = later[column].to_numpy(float)
        values[picked] = np.maximum(1, np.round(values[picked] * factor))
        later[column] = values.astype(int)
    community = layers["communities"][layers["communities"]["community_code"] == code]
    before = partition(community, buildings[buildings["community_code"] == code], roads=layers["roads"])
    later = later[later["community_code"] == code]
    fresh = partition(community, later, roads=layers["roads"])
    kept = partition(community, later, roads=layers["roads"], previous_grids=before.grids,
                     previous_assignments=before.assignments)
    assert fresh.report["communities"][0]["feasible_partition"] == "met"
    assert kept.report["communities"][0]["feasible_partition"] == "met", kept.grids[["households", "flags"]]
    from geogrid.partition.report import _moved, _moved_share

    fresh_moved = _moved_share(_moved(before.assignments, fresh.assignments))
    assert kept.report["total"]["households_moved_share"] < fresh_moved


def test_features_outside_every_community_have_no_home():
    """A villager group (or building) in no community gets -1; it crashed with an IndexError when none fell inside."""
    from geogrid.partition.engine import _community_of

    square = shapely.box(0, 0, 10, 10)
    far = np.array([shapely.box(100, 100, 101, 101)])
    assert _community_of(far, np.array([square])).tolist() == [-1]
    both = np.array([shapely.box(100, 100, 101, 101), shapely.box(1, 1, 2, 2)])
    assert _community_of(both, np.array([square])).tolist() == [-1, 0]

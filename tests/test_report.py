"""The report's honest figures: each grid outside a limit proven on its own, or counted as a failure."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import shapely

from geogrid.partition import partition
from geogrid.partition.report import grid_proof, honest_counts, print_report, report_console
from tests.synthetic import community

WITHIN = []
UNDER = [{"rule": "min_households", "value": 254, "limit": 300, "reason": "254 households"}]
OVER = [{"rule": "max_households", "value": 700, "limit": 500, "reason": "700 households"}]
TOWER = OVER + [{"rule": "oversized_building", "building_id": "T1", "reason": "one tower"}]
PACKED = UNDER + [{"rule": "no_feasible_partition", "proof": "atom_packing", "atoms": 6, "cells": 6, "reason": "."}]


def grids_of(rows: list[tuple[list[dict], int, int]]) -> gpd.GeoDataFrame:
    """Grids side by side with these flags, building counts and numbers of parts."""
    geoms = [shapely.union_all([shapely.box(100 * g + 30 * p, 0, 100 * g + 30 * p + 20, 50) for p in range(parts)])
             for g, (_, _, parts) in enumerate(rows)]
    flags = [f for f, _, _ in rows]
    return gpd.GeoDataFrame({
        "grid_code": [f"G{g}" for g in range(len(rows))],
        "community_code": "C",
        "building_count": [n for _, n, _ in rows],
        "within_limits": [not f for f in flags],
        "flags": [json.dumps(f) for f in flags],
    }, geometry=geoms, crs="EPSG:4547")


def test_one_oversized_building_no_longer_hides_the_other_failures():
    """A tower over the cap is its own proof; a sliver of 254 households beside it is not."""
    counts = honest_counts(grids_of([(TOWER, 1, 1), (WITHIN, 9, 1), (UNDER, 1, 1), (WITHIN, 8, 1)]))
    assert counts["grids_outside_limits"] == 2
    assert counts["grids_outside_limits_unproven"] == 1
    assert counts["grids_outside_limits_by_proof"] == {"oversized_building": 1}
    assert counts["within_limits_share_where_feasible"] == round(2 / 3, 4)  # the tower is set aside, the sliver is not


def test_a_proof_flag_proves_only_the_grid_it_describes():
    assert grid_proof(TOWER, 1) == "oversized_building"
    assert grid_proof(TOWER, 3) is None  # an oversized building's flag on a grid of three buildings
    # ... unless the other two hold no households and no residents (sheds cut off by the tower)
    counted = OVER + [{"rule": "oversized_building", "building_id": "T1", "households": 700, "population": 1820,
                       "reason": "one tower"}]
    assert grid_proof(counted, 3, (700, 1820)) == "oversized_building"
    assert grid_proof(counted, 3, (760, 1820)) is None  # a building with households joined it
    assert grid_proof(counted, 3, (700, 1900)) is None
    assert grid_proof(counted, 3) is None and grid_proof(TOWER, 3, (700, 1820)) is None  # counts on both sides
    assert grid_proof(PACKED, 4) == "no_feasible_partition:atom_packing"
    assert grid_proof(UNDER, 4) is None


def test_grids_in_several_parts_are_counted_and_never_set_aside():
    proven_but_split = PACKED + [{"rule": "contiguity", "value": 2, "reason": "two parts"}]
    counts = honest_counts(grids_of([(proven_but_split, 4, 2), (WITHIN, 5, 1), (PACKED, 3, 1)]))
    assert counts["grids_in_several_parts"] == 1
    assert counts["grids_outside_limits_unproven"] == 0
    assert counts["within_limits_share_where_feasible"] == 0.5  # the split grid still counts as a failure


def test_engine_report_proves_a_tower_and_judges_the_rest():
    """A 700-household tower without units in a community of walk-ups: one proven grid, the rest within limits."""
    communities, buildings, roads = community(np.random.default_rng(0), width=700, height=600, towers=[(700, None)])
    report = partition(communities, buildings, roads=roads).report
    total, here = report["total"], report["communities"][0]
    assert here["feasible_partition"] == "none"  # the community as a whole cannot meet every limit
    for figures in (total, here):
        assert figures["grids_outside_limits"] == 1
        assert figures["grids_outside_limits_unproven"] == 0
        assert figures["grids_outside_limits_by_proof"] == {"oversized_building": 1}
        assert figures["grids_in_several_parts"] == 0
        # measured over the grids without a proof, not dropped because the community has one
        assert figures["within_limits_share_where_feasible"] == 1.0
    assert total["within_limits_share"] < 1.0


def test_table_keeps_every_number_when_the_output_is_not_a_terminal(capsys):
    """Piped or redirected, the table is not cut to 80 columns: each row is whole on one line."""
    communities, buildings, roads = community(np.random.default_rng(0), width=700, height=600, towers=[(700, None)])
    report = partition(communities, buildings, roads=roads).report
    report["communities"][0]["community_code"] = "360702-001-001-一个很长的社区名字用来撑宽表格"
    assert report_console().width > 200
    print_report(report)
    lines = capsys.readouterr().out.splitlines()
    total = next(line for line in lines if "total" in line)
    households = report["total"]["households"]
    for value in (f"{households['min']}/{households['median']:g}/{households['max']}",
                  str(report["total"]["population"]["max"]), "oversized_building:1", "max_households:1"):
        assert value in total, (value, total)
    assert not any("…" in line for line in lines)
    assert any("一个很长的社区名字用来撑宽表格" in line for line in lines)


def test_what_a_tower_leaves_too_small_for_a_grid_is_proven():
    """A 700-household tower set apart leaves 1-2 household houses, too few for a grid: proven, not a failure."""
    communities, buildings, roads = community(np.random.default_rng(1), width=300, height=250, households=(1, 2),
                                              towers=[(700, None)])
    assert buildings["households"].sum() - 700 < 300
    result = partition(communities, buildings, roads=roads)
    flags = [{f["rule"] for f in json.loads(t)} for t in result.grids["flags"]]
    rest = [f for f in flags if "oversized_building" not in f]
    assert rest and all("area_too_small" in f and "min_households" in f for f in rest)
    total = result.report["total"]
    assert total["grids_outside_limits_unproven"] == 0
    assert total["grids_outside_limits_by_proof"]["area_too_small"] == len(rest)


def test_a_tower_with_an_empty_shed_it_cuts_off_is_still_proven():
    """A 600-household ring building without units around a courtyard holding a shed with no households
    (Helsinki's 900002-001-004-02): the shed's cell can only join the tower's grid, which then holds two
    buildings and still nothing but the tower's households and residents: proven, not a failure."""
    from tests.test_partition_input import _frames, _square_community, X0, Y0

    outline, footprints = _square_community()
    courtyard = shapely.box(X0 + 70, Y0 + 70, X0 + 110, Y0 + 110)
    ring = shapely.box(X0 + 55, Y0 + 55, X0 + 125, Y0 + 125).difference(courtyard)
    shed = shapely.box(X0 + 85, Y0 + 85, X0 + 95, Y0 + 95)
    footprints = [f for f in footprints if not f.intersects(ring.envelope)] + [ring, shed]
    communities, buildings, _ = _frames([outline], footprints, [90] * (len(footprints) - 2) + [600, 0])
    result = partition(communities, buildings)
    grid_of = result.assignments.set_index("building_id")["grid_code"]
    ring_id, shed_id = buildings["building_id"].iat[-2], buildings["building_id"].iat[-1]
    assert grid_of[shed_id] == grid_of[ring_id]
    tower = result.grids[result.grids["grid_code"] == grid_of[ring_id]].iloc[0]
    assert (tower["building_count"], tower["households"]) == (2, 600)
    total = result.report["total"]
    assert total["grids_outside_limits_unproven"] == 0
    assert total["grids_outside_limits_by_proof"] == {"oversized_building": 1}
    assert grid_proof(json.loads(tower["flags"]), 2) is None  # without the grid's counts: no proof

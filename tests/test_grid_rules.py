"""One home for the grid rules: the engine and the editor compute a grid's figures and flags, and the
tiling checks, with the same functions, and agree on the same grids."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from geogrid.partition import constraints, editing, partition
from geogrid.partition.limits import Limits
from geogrid.partition.rules import Rules
from geogrid.partition.scores import tiling_error, tiling_pieces
from tests.edit_data import ASSIGNMENT_COLUMNS, COMMUNITY, GRID_COLUMNS
from tests.synthetic import community

EDITOR_RULES = {"min_households", "max_households", "min_population", "max_population", "several_parts", "building_cut"}
TIGHT = Rules(max_population=700)  # the synthetic community cannot meet it: grids come out flagged


@pytest.fixture(scope="module")
def flagged() -> editing.Plan:
    """A partition whose grids break count limits, as a plan to edit."""
    communities, buildings, roads = community(np.random.default_rng(3), code=COMMUNITY, width=700, height=600)
    result = partition(communities, buildings, roads=roads, rules=TIGHT)
    return editing.Plan(
        community_code=COMMUNITY, kind="urban", community=communities.geometry.iloc[0], rules=TIGHT,
        grids=result.grids[[*GRID_COLUMNS, "geometry"]].copy(),
        assignments=result.assignments[ASSIGNMENT_COLUMNS].copy(),
        buildings=buildings[["building_id", "households", "population", "geometry"]].copy(),
    )


def test_the_editor_recounts_and_flags_engine_grids_as_the_engine_did(flagged: editing.Plan) -> None:
    engine = flagged.grids.set_index("grid_code")
    again = editing.recount(flagged, engine.index).grids.set_index("grid_code")
    engine_flags = {code: json.loads(text) for code, text in engine["flags"].items()}
    assert any(engine_flags.values()), "the tight rules should leave flagged grids"
    for code, flags in engine_flags.items():
        # the editor keeps no record of what the engine found of an area (no feasible window, proofs)
        assert json.loads(again.at[code, "flags"]) == [f for f in flags if f["rule"] in EDITOR_RULES], code
        assert bool(again.at[code, "within_limits"]) == (not json.loads(again.at[code, "flags"]))
    for column in ("households", "population", "building_count"):
        assert again[column].astype(int).tolist() == engine[column].astype(int).tolist(), column
    assert np.allclose(again["compactness"].astype(float), engine["compactness"].astype(float), atol=1e-3)


def test_grid_flags_lists_what_the_engine_found_then_counts_proof_contiguity_and_cuts() -> None:
    limits = Limits.urban(Rules())
    window = constraints.no_feasible_window(1000, 2500, limits)
    proof = {"rule": "no_feasible_partition", "proof": "atom_packing"}
    flags = constraints.grid_flags(250, 1200, 2, limits, found=[window], proof=proof, cut=["b1"])
    assert [f["rule"] for f in flags] == ["no_feasible_window", "min_households", "max_population",
                                          "no_feasible_partition", "several_parts", "building_cut"]
    assert constraints.grid_flags(400, 900, 1, limits, proof=proof) == []  # a proof alone is no broken rule


def test_a_grid_breaks_a_rule_when_outside_a_limit_or_flagged() -> None:
    assert not constraints.breaks_a_rule(True, [])
    assert not constraints.breaks_a_rule(True, None)
    assert constraints.breaks_a_rule(False, [])
    assert constraints.breaks_a_rule(True, [{"rule": "several_parts"}])
    columns = constraints.flag_columns([[], [{"rule": "several_parts"}]])
    assert columns["within_limits"] == [True, False]
    assert [constraints.breaks_a_rule(w, json.loads(f)) for w, f in zip(*columns.values())] == [False, True]


def test_a_footprint_is_cut_when_it_reaches_out_of_its_grid_beyond_the_tolerance() -> None:
    grid = shapely.box(0, 0, 100, 100)
    inside, on_edge, across = shapely.box(10, 10, 20, 20), shapely.box(90, 10, 100, 20), shapely.box(95, 10, 105, 20)
    barely = shapely.box(90, 10, 100.04, 20)  # 4 cm over: within the shrink tolerance
    cut = constraints.cut_footprints(np.array([inside, on_edge, across, barely]), np.array([grid] * 4))
    assert cut.tolist() == [False, False, True, False]


def test_tiling_pieces_and_tiling_error_measure_the_same_gaps_overlaps_and_spill() -> None:
    area = shapely.box(0, 0, 100, 100)
    grids = np.array([shapely.box(0, 0, 60, 100), shapely.box(50, 0, 90, 100), shapely.box(90, 0, 110, 50)])
    pieces = tiling_pieces(grids, area)
    assert shapely.area(pieces["gap"]) == pytest.approx(10 * 50)  # x 90-100, y 50-100
    assert shapely.area(pieces["overlap"]) == pytest.approx(10 * 100)  # x 50-60
    assert shapely.area(pieces["outside_community"]) == pytest.approx(10 * 50)  # x 100-110
    gaps, overlaps = tiling_error(grids, area)
    assert (gaps, overlaps) == pytest.approx((500, 1000 + 500))

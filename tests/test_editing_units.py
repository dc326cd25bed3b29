"""Moving part of a tower moves its units, not the tower; a grid an edit empties of area is removed and named."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geogrid.partition import editing
from geogrid.partition.rules import Rules

CODE = "360702-001-001"
X0, Y0, W = 114.900, 25.800, 0.001  # three grids of about 100 m side by side


def grid(k: int) -> str:
    return f"{CODE}-{k:02d}"


@pytest.fixture
def plan() -> editing.Plan:
    return tower_plan()


def tower_plan() -> editing.Plan:
    """Grids 05, 06, 07 in a row; tower T straddles 05 and 06, split by units (1-2 in 05, 3-5 in 06)."""
    shapes = [shapely.box(X0 + k * W, Y0, X0 + (k + 1) * W, Y0 + W) for k in range(3)]
    grids = gpd.GeoDataFrame({"grid_code": [grid(5), grid(6), grid(7)], "households": [392, 388, 300],
                              "population": [1000, 1000, 800], "building_count": [2, 2, 1], "compactness": 0.78,
                              "within_limits": True, "flags": "[]"}, geometry=shapes, crs="EPSG:4326")
    footprints = {"T": shapely.box(X0 + 0.0008, Y0 + 0.0004, X0 + 0.0012, Y0 + 0.0006),
                  "B1": shapely.box(X0 + 0.0002, Y0 + 0.0002, X0 + 0.0004, Y0 + 0.0004),
                  "B2": shapely.box(X0 + 0.0016, Y0 + 0.0002, X0 + 0.0018, Y0 + 0.0004),
                  "B3": shapely.box(X0 + 0.0024, Y0 + 0.0004, X0 + 0.0026, Y0 + 0.0006)}
    buildings = gpd.GeoDataFrame({"building_id": list(footprints), "households": [480, 200, 100, 300],
                                  "population": [1200, 500, 250, 800]}, geometry=list(footprints.values()),
                                 crs="EPSG:4326")
    assignments = pd.DataFrame([("B1", "", grid(5), 200, 500), ("B2", "", grid(6), 100, 250),
                                ("B3", "", grid(7), 300, 800), ("T", "1-2", grid(5), 192, 480),
                                ("T", "3-5", grid(6), 288, 720)],
                               columns=["building_id", "units", "grid_code", "households", "population"])
    return editing.Plan(CODE, "urban", shapely.box(X0, Y0, X0 + 3 * W, Y0 + W), Rules(), grids, assignments, buildings)


def households(plan: editing.Plan) -> dict[str, int]:
    return dict(zip(plan.grids["grid_code"], plan.grids["households"].astype(int)))


def test_moving_units_of_a_tower_moves_those_units_only(plan: editing.Plan) -> None:
    edit = editing.move_building(plan, "T", grid(6), units="1-2")
    assert households(edit.plan) == {grid(5): 200, grid(6): 580, grid(7): 300}
    assert edit.removed == () and set(edit.touched) == {grid(5), grid(6)}
    rows = edit.plan.assignments[edit.plan.assignments["building_id"] == "T"]
    assert rows[["units", "grid_code", "households"]].values.tolist() == [["", grid(6), 480]]  # whole again, in 06
    for code in (grid(5), grid(6)):  # units move without ground
        assert edit.plan.geometry_of(code).equals(plan.geometry_of(code))


def test_the_units_in_one_grid_move_and_the_others_stay(plan: editing.Plan) -> None:
    edit = editing.move_building(plan, "T", grid(5), from_grid=grid(6))
    assert households(edit.plan) == {grid(5): 680, grid(6): 100, grid(7): 300}
    edit = editing.move_building(plan, "T", grid(7), from_grid=grid(6))
    assert households(edit.plan) == {grid(5): 392, grid(6): 100, grid(7): 588}
    moved = edit.plan.assignments.set_index(["building_id", "units"])["grid_code"]
    assert moved[("T", "1-2")] == grid(5) and moved[("T", "3-5")] == grid(7)
    assert sum(households(edit.plan).values()) == sum(households(plan).values())


def test_a_split_tower_without_saying_which_units_is_refused(plan: editing.Plan) -> None:
    with pytest.raises(editing.EditError, match="split by units .*1-2 in .*-05.*3-5 in .*-06"):
        editing.move_building(plan, "T", grid(7))
    with pytest.raises(editing.EditError, match="no units 9-9"):
        editing.move_building(plan, "T", grid(7), units="9-9")
    with pytest.raises(editing.EditError, match="does not border"):
        editing.move_building(plan, "T", grid(7), units="1-2")  # 05 and 07 do not touch


def test_a_grid_emptied_of_its_only_building_is_removed_and_named(plan: editing.Plan) -> None:
    edit = editing.move_building(plan, "B3", grid(6))
    assert edit.removed == (grid(7),)
    assert grid(7) not in set(edit.plan.grids["grid_code"])
    assert households(edit.plan)[grid(6)] == 688

"""The brush: several whole buildings moved to one grid in one edit, as move_building moves one."""

from __future__ import annotations

import pytest

from geogrid.partition import editing
from geogrid.partition.editing import EditError
from tests import edit_data
from tests.test_editing import assert_counts_match_assignments, assert_exact_tiling, counts, grid_of, unchanged_elsewhere
from tests.synthetic import METRIC


@pytest.fixture(scope="module")
def plan() -> editing.Plan:
    return edit_data.plan()


def nearest_buildings(p: editing.Plan, source: str, target: str, n: int) -> list[str]:
    """The n buildings of grid source nearest grid target."""
    ids = p.assignments.loc[p.assignments["grid_code"] == source, "building_id"]
    footprints = p.buildings.set_index("building_id").loc[ids].to_crs(METRIC).geometry
    other = p.grids.to_crs(METRIC).set_index("grid_code").geometry[target]
    return [str(b) for b in footprints.distance(other).sort_values().index[:n]]


def test_a_stroke_moves_its_buildings_counts_and_cells_in_one_edit(plan: editing.Plan) -> None:
    a, b, _ = edit_data.neighbours(plan)[0]
    stroke = nearest_buildings(plan, a, b, 3)
    moved = plan.assignments[plan.assignments["building_id"].isin(stroke)][["households", "population"]].sum()
    edit = editing.keep_whole(plan, editing.move_buildings(plan, [*stroke, stroke[0]], b))
    before, after = counts(plan), counts(edit.plan)
    assert after[a] == (before[a][0] - moved["households"], before[a][1] - moved["population"])
    assert after[b] == (before[b][0] + moved["households"], before[b][1] + moved["population"])
    assert set(edit.touched) == {a, b} and edit.removed == ()
    assert all(grid_of(edit.plan, building) == {b} for building in stroke)
    assert_exact_tiling(plan, edit.plan)
    assert_counts_match_assignments(edit.plan)
    unchanged_elsewhere(plan, edit.plan, {a, b})


def test_one_building_by_the_brush_is_the_same_edit_as_move_building(plan: editing.Plan) -> None:
    a, b, _ = edit_data.neighbours(plan)[0]
    building = edit_data.border_building(plan, a, b)
    one, brushed = editing.move_building(plan, building, b), editing.move_buildings(plan, [building], b)
    assert counts(one.plan) == counts(brushed.plan)
    for code in (a, b):
        assert one.plan.geometry_of(code).equals_exact(brushed.plan.geometry_of(code), 0.0)


def test_a_stroke_from_two_grids_moves_both(plan: editing.Plan) -> None:
    pairs = edit_data.neighbours(plan)
    target = pairs[0][1]
    sources = [x if y == target else y for x, y, _ in pairs if target in (x, y)][:2]
    assert len(sources) == 2
    stroke = [edit_data.border_building(plan, s, target) for s in sources]
    edit = editing.keep_whole(plan, editing.move_buildings(plan, stroke, target))
    assert set(edit.touched) == {target, *sources}
    assert all(grid_of(edit.plan, building) == {target} for building in stroke)
    assert_exact_tiling(plan, edit.plan)
    assert_counts_match_assignments(edit.plan)


def test_painting_every_building_of_a_grid_removes_it(plan: editing.Plan) -> None:
    a, b, _ = edit_data.neighbours(plan)[0]
    everyone = list(plan.assignments.loc[plan.assignments["grid_code"] == a, "building_id"])
    edit = editing.keep_whole(plan, editing.move_buildings(plan, everyone, b))
    assert edit.removed == (a,) and edit.touched == (b,)
    assert counts(edit.plan)[b][0] == counts(plan)[a][0] + counts(plan)[b][0]
    assert_exact_tiling(plan, edit.plan)


def test_a_stroke_is_refused_whole_naming_what_is_wrong(plan: editing.Plan) -> None:
    a, b, _ = edit_data.neighbours(plan)[0]
    mine = edit_data.border_building(plan, a, b)
    in_b = str(plan.assignments.loc[plan.assignments["grid_code"] == b, "building_id"].iloc[0])
    with pytest.raises(EditError, match="names no building"):
        editing.move_buildings(plan, [], b)
    with pytest.raises(EditError, match="'nowhere' is not in this plan"):
        editing.move_buildings(plan, [mine, "nowhere"], b)
    with pytest.raises(EditError, match="already in grid"):
        editing.move_buildings(plan, [in_b], b)
    with pytest.raises(EditError, match="no grid"):
        editing.move_buildings(plan, [mine], "360702-001-001-99")
    with pytest.raises(EditError, match="at most"):
        editing.move_buildings(plan, [f"b{k}" for k in range(editing.MAX_BRUSH_BUILDINGS + 1)], b)
    near = set(sum(([x, y] for x, y, _ in edit_data.neighbours(plan) if a in (x, y)), []))
    far = next(code for code in plan.grids["grid_code"] if code not in near)
    with pytest.raises(EditError, match="does not border"):
        editing.move_buildings(plan, [mine], far)


def test_strokes_one_after_another_over_the_same_grids(plan: editing.Plan) -> None:
    """Each stroke tessellates what the last one left (momepy's simplification once failed on such a grid)."""
    a, b, _ = edit_data.neighbours(plan)[0]
    stroke = nearest_buildings(plan, a, b, 8)
    now = plan
    for part in (stroke[:1], stroke[1:2], stroke[2:3], stroke[3:5], stroke[5:]):
        now = editing.keep_whole(now, editing.move_buildings(now, part, b)).plan
    assert all(grid_of(now, building) == {b} for building in stroke)
    assert_exact_tiling(plan, now)
    assert_counts_match_assignments(now)

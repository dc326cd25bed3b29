"""Manual edits of a plan as pure functions: counts, exact tiling, building placement and the rules broken."""

from __future__ import annotations

import math
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geogrid.partition import editing
from geogrid.partition.editing import EditError
from tests import edit_data
from tests.synthetic import METRIC


@pytest.fixture(scope="module")
def plan() -> editing.Plan:
    return edit_data.plan()


def counts(p: editing.Plan) -> dict[str, tuple[int, int]]:
    return {c: (int(h), int(n)) for c, h, n in zip(p.grids["grid_code"], p.grids["households"], p.grids["population"])}


def grid_of(p: editing.Plan, building_id: str) -> set[str]:
    return set(p.assignments.loc[p.assignments["building_id"] == building_id, "grid_code"])


def assert_exact_tiling(before: editing.Plan, after: editing.Plan) -> None:
    """The grids cover what they covered before, with no overlap (below a square centimetre in all).

    Measured on the stored lon/lat coordinates where the edits build their topology: a vertex that an
    edit puts on a neighbour's straight edge is on it there, but projected it drifts off by micrometres.
    """
    m2 = (111_320.0**2) * math.cos(math.radians(after.community.centroid.y))  # m² per square degree here
    grids = after.grids.geometry.to_numpy()
    union = shapely.union_all(grids)
    assert shapely.area(shapely.symmetric_difference(shapely.union_all(before.grids.geometry.to_numpy()), union)) * m2 < 1e-4
    tree = shapely.STRtree(grids)
    i, j = tree.query(grids, predicate="intersects")
    assert shapely.area(shapely.intersection(grids[i[i < j]], grids[j[i < j]])).sum() * m2 < 1e-4
    assert not any(f["rule"] in ("gap", "overlap", "outside_community") for f in editing.check(after))


def assert_counts_match_assignments(p: editing.Plan) -> None:
    sums = p.assignments.groupby("grid_code")[["households", "population"]].sum()
    for code, (households, population) in counts(p).items():
        assert (households, population) == tuple(sums.loc[code]) if code in sums.index else (0, 0)


def unchanged_elsewhere(before: editing.Plan, after: editing.Plan, changed: set[str]) -> None:
    old = before.grids.set_index("grid_code")
    new = after.grids.set_index("grid_code")
    for code in set(old.index) - changed:
        assert new.geometry[code].equals_exact(old.geometry[code], 0.0), code
        assert new.loc[code, "households"] == old.loc[code, "households"]


def test_the_partition_breaks_no_rule(plan: editing.Plan) -> None:
    assert editing.check(plan) == []
    assert_exact_tiling(plan, plan)


def test_move_building_moves_its_counts_and_keeps_exact_tiling(plan: editing.Plan) -> None:
    a, b, _ = edit_data.neighbours(plan)[0]
    building = edit_data.border_building(plan, a, b)
    row = plan.assignments.set_index("building_id").loc[building]
    edit = editing.move_building(plan, building, b)
    before, after = counts(plan), counts(edit.plan)
    assert after[a] == (before[a][0] - row.households, before[a][1] - row.population)
    assert after[b] == (before[b][0] + row.households, before[b][1] + row.population)
    assert set(edit.touched) == {a, b} and edit.removed == ()
    assert grid_of(edit.plan, building) == {b}
    assert_exact_tiling(plan, edit.plan)
    assert_counts_match_assignments(edit.plan)
    unchanged_elsewhere(plan, edit.plan, {a, b})
    # the footprint went with its cell: inside b, which is still one piece
    flags = {(f.get("grid_code"), f["rule"]) for f in editing.check(edit.plan)}
    assert (b, "building_cut") not in flags and (b, "several_parts") not in flags and (a, "building_cut") not in flags


def test_move_reports_the_limits_it_breaks(plan: editing.Plan) -> None:
    a, b, _ = edit_data.neighbours(plan)[0]
    p = plan
    for _ in range(6):  # empty a into b, building by building, until a limit breaks
        p = editing.move_building(p, edit_data.border_building(p, a, b), b).plan
    rules = {(f["grid_code"], f["rule"]) for f in editing.check(p) if "grid_code" in f}
    households = dict(zip(p.grids["grid_code"], p.grids["households"]))
    assert (households[a] < 300) == ((a, "min_households") in rules)
    assert (households[b] > 500) == ((b, "max_households") in rules)
    assert rules, "six buildings moved and no limit broken"
    flags = p.grids.set_index("grid_code").loc[[a, b], "within_limits"]
    assert not flags.all()


def test_move_only_to_a_neighbouring_grid(plan: editing.Plan) -> None:
    pairs = {(a, b) for a, b, _ in edit_data.neighbours(plan)} | {(b, a) for a, b, _ in edit_data.neighbours(plan)}
    codes = list(plan.grids["grid_code"])
    far = next((a, b) for a in codes for b in codes if a != b and (a, b) not in pairs)
    building = plan.assignments.loc[plan.assignments["grid_code"] == far[0], "building_id"].iloc[0]
    with pytest.raises(EditError, match="does not border"):
        editing.move_building(plan, building, far[1])
    with pytest.raises(EditError, match="not in this plan"):
        editing.move_building(plan, "nope", far[1])
    with pytest.raises(EditError, match="no grid 'X'"):
        editing.move_building(plan, building, "X")
    with pytest.raises(EditError, match="already in grid"):
        editing.move_building(plan, building, far[0])


def test_merge_adds_counts_and_removes_the_second_grid(plan: editing.Plan) -> None:
    a, b, _ = edit_data.neighbours(plan)[0]
    edit = editing.merge(plan, a, b)
    assert edit.touched == (a,) and edit.removed == (b,)
    assert counts(edit.plan)[a] == tuple(x + y for x, y in zip(counts(plan)[a], counts(plan)[b]))
    assert b not in set(edit.plan.grids["grid_code"])
    assert shapely.get_num_geometries(edit.plan.geometry_of(a)) == 1
    assert_exact_tiling(plan, edit.plan)
    unchanged_elsewhere(plan, edit.plan, {a, b})
    assert {(a, "max_households")} <= {(f.get("grid_code"), f["rule"]) for f in editing.check(edit.plan)}


def test_merge_only_neighbours(plan: editing.Plan) -> None:
    pairs = {frozenset((a, b)) for a, b, _ in edit_data.neighbours(plan)}
    codes = list(plan.grids["grid_code"])
    a, b = next((a, b) for a in codes for b in codes if a != b and frozenset((a, b)) not in pairs)
    with pytest.raises(EditError, match="do not share a boundary"):
        editing.merge(plan, a, b)
    with pytest.raises(EditError, match="itself"):
        editing.merge(plan, a, a)


def test_grids_touching_only_at_a_corner_are_not_neighbours() -> None:
    d = 0.001  # four squares of about 100 m round (120.0, 30.0): a, b side by side, c under a, d at b's corner
    square = lambda x, y: shapely.box(120 + x * d, 30 + y * d, 120 + (x + 1) * d, 30 + (y + 1) * d)
    near = editing.neighbours(["a", "b", "c", "d"], [square(0, 0), square(1, 0), square(0, -1), square(1, -2)])
    assert near == {"a": ["b", "c"], "b": ["a"], "c": ["a"], "d": []}
    assert editing.neighbours([], []) == {}


def _vertical_line(p: editing.Plan, code: str, share: float = 0.5) -> shapely.LineString:
    minx, miny, maxx, maxy = p.geometry_of(code).bounds
    x = minx + share * (maxx - minx)
    return shapely.LineString([(x, miny - 1e-4), (x, maxy + 1e-4)])


def test_split_sends_buildings_to_the_side_of_their_point(plan: editing.Plan) -> None:
    code = edit_data.interior_grid(plan)
    line = _vertical_line(plan, code)
    edit = editing.split(plan, code, line)
    new = editing.next_code(plan)
    assert edit.touched == tuple(sorted((code, new))) and edit.removed == ()
    assert sum(counts(edit.plan)[c][0] for c in (code, new)) == counts(plan)[code][0]
    area = shapely.area(edit.plan.grids.to_crs(METRIC).set_index("grid_code").geometry)
    assert area[code] >= area[new]  # the larger side keeps the code
    x = line.coords[0][0]
    for building, grid in zip(edit.plan.assignments["building_id"], edit.plan.assignments["grid_code"]):
        if grid in (code, new):
            point = shapely.point_on_surface(plan.buildings.set_index("building_id").geometry[building])
            side = code if edit.plan.geometry_of(code).covers(point) else new
            assert grid == side
            assert (point.x < x) == (edit.plan.geometry_of(new).bounds[0] < x) or grid == code
    assert_exact_tiling(plan, edit.plan)
    assert_counts_match_assignments(edit.plan)
    unchanged_elsewhere(plan, edit.plan, {code})


def test_split_line_must_cross_once(plan: editing.Plan) -> None:
    code = edit_data.interior_grid(plan)
    minx, miny, maxx, maxy = plan.geometry_of(code).bounds
    inside = shapely.LineString([((minx + maxx) / 2, (miny + maxy) / 2), (maxx + 1e-3, (miny + maxy) / 2)])
    with pytest.raises(EditError, match="does not cut"):
        editing.split(plan, code, inside)
    a, b = minx + 0.3 * (maxx - minx), minx + 0.7 * (maxx - minx)
    u_turn = shapely.LineString([(a, miny - 1e-3), (a, maxy + 1e-3), (b, maxy + 1e-3), (b, miny - 1e-3)])
    with pytest.raises(EditError, match="into 3 pieces"):
        editing.split(plan, code, u_turn)
    with pytest.raises(EditError, match="LineString"):
        editing.split(plan, code, shapely.Point(minx, miny))


def test_replace_boundary_takes_area_from_neighbours(plan: editing.Plan) -> None:
    code = edit_data.interior_grid(plan)
    drawn = gpd.GeoSeries([plan.geometry_of(code)], crs=4326).to_crs(METRIC).buffer(15, join_style="mitre")
    drawn = drawn.to_crs(4326).iloc[0]
    edit = editing.replace_boundary(plan, code, drawn)
    assert edit.plan.geometry_of(code).equals(shapely.intersection(drawn, plan.community))
    assert len(edit.touched) > 1 and code in edit.touched
    assert_exact_tiling(plan, edit.plan)
    assert_counts_match_assignments(edit.plan)
    points = shapely.point_on_surface(plan.buildings.set_index("building_id").geometry)
    inside = set(points.index[shapely.covers(drawn, points.to_numpy())])
    assert inside == set(edit.plan.assignments.loc[edit.plan.assignments["grid_code"] == code, "building_id"])
    unchanged_elsewhere(plan, edit.plan, set(edit.touched))


def test_shrinking_a_grid_gives_its_ground_and_buildings_to_the_neighbours(plan: editing.Plan) -> None:
    code = edit_data.interior_grid(plan)
    drawn = gpd.GeoSeries([plan.geometry_of(code)], crs=4326).to_crs(METRIC).buffer(-25).to_crs(4326).iloc[0]
    edit = editing.replace_boundary(plan, code, drawn)
    assert code in edit.touched and len(edit.touched) > 2 and edit.removed == ()
    assert edit.plan.geometry_of(code).equals(drawn)
    assert_exact_tiling(plan, edit.plan)  # no gap: the neighbours' shared boundaries moved with it
    assert_counts_match_assignments(edit.plan)
    rules = {f["rule"] for f in editing.check(edit.plan)}
    assert not rules & {"gap", "overlap", "unassigned_buildings", "several_parts"}
    points = shapely.point_on_surface(plan.buildings.set_index("building_id").geometry)
    held = edit.plan.assignments.set_index("building_id")["grid_code"]
    for building, point in points.items():  # each building sits in the grid now holding its point
        if building in held.index and isinstance(held[building], str):
            assert edit.plan.geometry_of(held[building]).covers(point)
    neighbours = set(editing.neighbours(plan.grids["grid_code"], plan.grids.geometry)[code])
    assert set(edit.touched) - {code} <= neighbours
    unchanged_elsewhere(plan, edit.plan, set(edit.touched))


def test_a_grid_with_no_neighbour_cannot_give_up_ground() -> None:
    community = shapely.box(114.9, 25.8, 114.901, 25.801)
    plan = edit_data.plan()
    alone = editing.Plan(plan.community_code, "urban", community, plan.rules,
                         gpd.GeoDataFrame({"grid_code": ["G-01"], "households": [0], "population": [0],
                                           "building_count": [0], "compactness": [0.78], "within_limits": [False],
                                           "flags": ["[]"]}, geometry=[community], crs=4326),
                         plan.assignments.iloc[:0], plan.buildings.iloc[:0])
    with pytest.raises(EditError, match="no neighbouring grid can take"):
        editing.replace_boundary(alone, "G-01", shapely.box(114.9, 25.8, 114.9005, 25.801))


def test_an_edit_that_would_leave_a_gap_is_refused(plan: editing.Plan) -> None:
    code = edit_data.interior_grid(plan)
    holed = plan.grids.copy()
    holed.loc[holed["grid_code"] == code, "geometry"] = shapely.buffer(plan.geometry_of(code), -0.0001)
    made = editing.Edit(replace(plan, grids=holed), (code,), ())
    with pytest.raises(EditError, match=r"refused: it would leave .* m² of the community lie in no grid") as refused:
        editing.keep_whole(plan, made)
    assert refused.value.code == "edit.not_whole"
    [gap] = refused.value.params["flags"]
    assert gap["rule"] == "gap" and gap["area_m2"] > 1 and len(gap["at"]) == 2
    assert str(gap["area_m2"]) in str(refused.value)  # the same figure as the English detail (rounded alike)
    unchanged = editing.Edit(plan, (), ())
    assert editing.keep_whole(plan, unchanged) is unchanged


def test_replace_boundary_rejects_bad_polygons(plan: editing.Plan) -> None:
    code = edit_data.interior_grid(plan)
    minx, miny, maxx, maxy = plan.community.bounds
    with pytest.raises(EditError, match="outside community"):
        editing.replace_boundary(plan, code, shapely.box(minx - 0.01, miny, maxx, maxy))
    bowtie = shapely.Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])
    with pytest.raises(EditError, match="not a valid polygon: Self-intersection"):
        editing.replace_boundary(plan, code, bowtie)
    with pytest.raises(EditError, match="Polygon or MultiPolygon"):
        editing.replace_boundary(plan, code, shapely.LineString([(minx, miny), (maxx, maxy)]))


def test_a_drawn_polygon_overlapping_whole_grids_removes_them(plan: editing.Plan) -> None:
    a, b, _ = edit_data.neighbours(plan)[0]
    edit = editing.replace_boundary(plan, a, shapely.union(plan.geometry_of(a), plan.geometry_of(b)))
    assert b in edit.removed
    assert counts(edit.plan)[a][0] == counts(plan)[a][0] + counts(plan)[b][0]
    assert_exact_tiling(plan, edit.plan)


def test_many_edits_keep_every_household(plan: editing.Plan) -> None:
    p = plan
    total = int(plan.grids["households"].sum())
    for a, b, _ in edit_data.neighbours(plan)[:8]:
        if {a, b} <= set(p.grids["grid_code"]) and a in set(p.assignments["grid_code"]):
            p = editing.move_building(p, edit_data.border_building(p, a, b), b).plan
    code = edit_data.interior_grid(p)
    p = editing.split(p, code, _vertical_line(p, code, 0.4)).plan
    assert int(p.grids["households"].sum()) == total
    assert_counts_match_assignments(p)
    assert_exact_tiling(plan, p)


def test_a_polygon_traced_from_rounded_geojson_snaps_to_the_boundaries(plan: editing.Plan) -> None:
    a, b, _ = edit_data.neighbours(plan)[0]
    union = shapely.union(plan.geometry_of(a), plan.geometry_of(b))
    traced = shapely.transform(union, lambda xy: np.round(xy, 7))  # as read from GeoJSON with 7 decimals
    assert shapely.area(shapely.symmetric_difference(traced, union)) > 0
    edit = editing.replace_boundary(plan, a, traced)
    assert edit.removed == (b,)
    assert not any(f["rule"] in ("gap", "overlap") for f in editing.check(edit.plan))
    assert_exact_tiling(plan, edit.plan)

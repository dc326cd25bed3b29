"""The store's grid queries: "breaks a rule" in SQL agrees with the domain rule, and the figures built on it."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from sqlalchemy import Engine

from geogrid.db.models import PUBLISHED
from geogrid.db.session import session_scope
from geogrid.partition import constraints
from geogrid.partition.engine import PartitionResult
from geogrid.partition.rules import Rules
from geogrid.store import areas, grids
from geogrid.store.plans import NotFound, copy_to_draft, plan_grids, publish, save_partition

from .conftest import _cell

URBAN = "360702001001"
FLAG = [{"rule": "max_population", "value": 1100, "limit": 1000, "reason": "1100 residents, above the maximum"}]
CASES = [(True, []), (False, []), (True, FLAG), (False, FLAG)]  # (within_limits, flags) of each grid


def _result() -> PartitionResult:
    """Four grids side by side over the urban community, one per case."""
    codes = [f"360702-001-001-0{k + 1}" for k in range(len(CASES))]
    frame = gpd.GeoDataFrame(
        {"grid_code": codes, "community_code": URBAN, "households": [300, 310, 320, 330],
         "population": [800, 810, 820, 830], "building_count": [1, 2, 3, 4], "compactness": 0.5,
         "within_limits": [w for w, _ in CASES], "flags": [json.dumps(f) for _, f in CASES]},
        geometry=[_cell(0.5 * k, 0, 0.5, 2) for k in range(len(CASES))], crs="EPSG:4326",
    )
    assignments = frame[["grid_code"]].assign(building_id=[f"U{k}" for k in range(len(CASES))], units="",
                                              households=0, population=0)
    return PartitionResult(grids=frame, assignments=assignments, report={})


@pytest.fixture
def plan_id(loaded: Engine) -> int:
    with session_scope(loaded) as session:
        return save_partition(session, URBAN, _result(), Rules(), "planner1").id


def test_breaks_a_rule_in_sql_agrees_with_the_domain_rule(loaded: Engine, plan_id: int) -> None:
    with session_scope(loaded) as session:
        rows = grids.plan_grid_rows(session, plan_id)
        stored = plan_grids(session, plan_id)
    assert [bool(row.breaks_a_rule) for row in rows] == [constraints.breaks_a_rule(w, f) for w, f in CASES]
    assert [bool(row.breaks_a_rule) for row in rows] == [
        constraints.breaks_a_rule(w, json.loads(f)) for w, f in zip(stored["within_limits"], stored["flags"])]
    assert [json.loads(row.geometry)["type"] for row in rows] == ["MultiPolygon"] * len(CASES)


def test_plan_totals_and_published_figures_count_the_grids_that_break_a_rule(loaded: Engine, plan_id: int) -> None:
    broken = sum(constraints.breaks_a_rule(w, f) for w, f in CASES)
    with session_scope(loaded) as session:
        assert grids.plan_totals(session, plan_id) == grids.PlanTotals(len(CASES), 1260, 3260, broken)
        assert URBAN not in areas.published_figures(session)
        publish(session, plan_id, "leader1")
    with session_scope(loaded) as session:
        assert areas.published_figures(session)[URBAN] == (plan_id, 1260, 3260, len(CASES), broken)
        assert grids.community_plan(session, URBAN, None).status == PUBLISHED


def test_one_grid_and_a_draft_copy(loaded: Engine, plan_id: int) -> None:
    with session_scope(loaded) as session:
        with pytest.raises(NotFound, match="any published plan"):
            grids.find_grid(session, "360702-001-001-03", None)
        plan, row = grids.find_grid(session, "360702-001-001-03", plan_id)
        assert (plan.id, row.households, bool(row.breaks_a_rule)) == (plan_id, 320, True)
        draft = copy_to_draft(session, plan_id, "planner1")
        assert (draft.status, draft.parent_id, draft.number) == ("draft", plan_id, 2)
        assert grids.plan_totals(session, draft.id) == grids.plan_totals(session, plan_id)
        assert [r.code for r in grids.plan_grid_rows(session, draft.id)] == [
            r.code for r in grids.plan_grid_rows(session, plan_id)]


def test_lookups_answer_not_found(loaded: Engine, plan_id: int) -> None:
    with session_scope(loaded) as session:
        with pytest.raises(NotFound, match="no community"):
            grids.check_community(session, "nowhere")
        with pytest.raises(NotFound, match="no published plan"):
            grids.community_plan(session, URBAN, None)
        with pytest.raises(NotFound, match="belongs to community"):
            grids.community_plan(session, "360702002001", plan_id)


def test_a_maps_outline_is_the_grid_or_area_else_the_first_district(loaded: Engine, plan_id: int) -> None:
    with session_scope(loaded) as session:
        assert areas.outline(session, "360702-001-001-01", grid=True)[1] == "district"  # not published yet
        publish(session, plan_id, "leader1")
    with session_scope(loaded) as session:
        shape, level = areas.outline(session, "360702-001-001-01", grid=True)
        assert level == "grid" and shape.equals(_cell(0, 0, 0.5, 2))
        assert areas.outline(session, URBAN)[1] == "community"
        assert areas.outline(session, "360702001")[1] == "street"
        assert areas.outline(session, "360702")[1] == "district"

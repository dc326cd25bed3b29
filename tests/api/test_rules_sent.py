"""The API sends "breaks a rule" with each grid (so pages need not compute it), by the domain rule, and the
counts of such grids agree; the plan-side routers leave every query to the store."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from geogrid.db.session import session_scope
from geogrid.partition import constraints, editing, partition
from geogrid.partition.rules import Rules
from geogrid.store.imports import import_layer
from geogrid.store.plans import publish, save_partition
from tests import edit_data

from .gis_support import *
from .gis_support import SignIn

TIGHT = Rules(min_households=350, max_households=450)  # 18 grids of about 351 households: a building less breaks it
ROUTERS = Path(__file__).parents[2] / "api" / "routers"
ASSEMBLING = ("grids", "plans", "hierarchy", "pages", "imports", "editing", "tiles", "ogc")


@pytest.fixture
def tight(engine: Engine) -> tuple[editing.Plan, dict[str, int]]:
    """The synthetic community partitioned by TIGHT rules (as a plan to edit), saved as a draft and published."""
    communities, buildings, _ = edit_data.partitioned()
    result = partition(communities, buildings, rules=TIGHT)
    with session_scope(engine) as session:
        for kind, gdf in edit_data.layers().items():
            import_layer(session, kind, gdf)
        draft = save_partition(session, edit_data.COMMUNITY, result, TIGHT, "planner").id
        published = save_partition(session, edit_data.COMMUNITY, result, TIGHT, "planner").id
        publish(session, published, "leader")
    plan = editing.Plan(
        community_code=edit_data.COMMUNITY, kind="urban", community=communities.geometry.iloc[0], rules=TIGHT,
        grids=result.grids[[*edit_data.GRID_COLUMNS, "geometry"]].copy(),
        assignments=result.assignments[edit_data.ASSIGNMENT_COLUMNS].copy(),
        buildings=buildings[["building_id", "households", "population", "geometry"]].copy(),
    )
    return plan, {"draft": draft, "published": published}


@pytest.fixture
def planner(sign_in: SignIn) -> dict[str, str]:
    return sign_in("planner1", "planner", edit_data.STREET)


def test_each_grid_says_whether_it_breaks_a_rule_and_the_counts_agree(gis_client, tight, planner) -> None:
    plan, plans = tight
    # the engine meets TIGHT everywhere; in the draft, the smallest grid gives a building to a neighbour and breaks it
    smallest = plan.grids.sort_values(["households", "grid_code"])["grid_code"].iloc[0]
    a, b = next((a, b) for a, b, _ in edit_data.neighbours(plan) if smallest in (a, b))
    source, target = (a, b) if a == smallest else (b, a)
    body = {"op": "move_building", "building_id": edit_data.border_building(plan, source, target), "to_grid": target}
    moved = gis_client.post(f"/api/v1/plans/{plans['draft']}/edits", json=body, headers=planner | {"If-Match": '"1"'})
    assert moved.status_code == 200, moved.text
    breaking = {}
    for name, plan_id in plans.items():
        answer = gis_client.get(f"/api/v1/communities/{edit_data.COMMUNITY}/grids?plan_id={plan_id}", headers=planner)
        properties = [f["properties"] for f in json.loads(answer.content)["features"]]
        sent = [p["breaks_a_rule"] for p in properties]
        assert sent == [constraints.breaks_a_rule(p["within_limits"], p["flags"]) for p in properties]
        detail = gis_client.get(f"/api/v1/plans/{plan_id}", headers=planner).json()
        assert detail["grids_breaking_rules"] == sum(sent)
        breaking[name] = sent
    assert True in breaking["draft"] and False in breaking["draft"]
    assert True not in breaking["published"]
    tree = gis_client.get("/api/v1/hierarchy", headers=planner).json()
    community = tree["districts"][0]["children"][0]["children"][0]
    assert community["code"] == edit_data.COMMUNITY and community["grids_breaking_rules"] == sum(breaking["published"])


def test_an_edits_answer_says_which_touched_grids_break_a_rule(gis_client, tight, planner) -> None:
    plan, plans = tight
    a, b, _ = edit_data.neighbours(plan)[0]
    body = {"op": "move_building", "building_id": edit_data.border_building(plan, a, b), "to_grid": b}
    answer = gis_client.post(f"/api/v1/plans/{plans['draft']}/edits", json=body, headers=planner | {"If-Match": '"1"'})
    assert answer.status_code == 200, answer.text
    touched = answer.json()["grids"]
    assert {g["code"] for g in touched} == {a, b}
    assert [g["breaks_a_rule"] for g in touched] == [constraints.breaks_a_rule(g["within_limits"], g["flags"])
                                                     for g in touched]


@pytest.mark.parametrize("name", ASSEMBLING)
def test_the_plan_side_routers_run_no_query_of_their_own(name: str) -> None:
    tree = ast.parse((ROUTERS / f"{name}.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {m for m in imported if m.split(".")[0] in ("sqlalchemy", "geoalchemy2")}

"""Edits over HTTP on both stores: a tower's units move alone, a deleted grid is named, a redrawn shared boundary
moves both grids and leaves no gap."""

from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import mapping, shape
from sqlalchemy import Engine

from geogrid.db.session import session_scope
from geogrid.partition.rules import Rules
from geogrid.store.imports import import_layer
from geogrid.store.plans import plan_assignments, save_partition
from tests import edit_data
from tests.test_editing_units import CODE, grid, tower_plan

from .gis_support import *
from .gis_support import SignIn


def load(engine: Engine, plan) -> int:
    """The plan's community, buildings and grids in the store, as a draft; its id."""
    outline = plan.community
    crs = "EPSG:4326"
    layers = {
        "districts": gpd.GeoDataFrame({"district_code": [edit_data.DISTRICT], "name": ["章贡区"]},
                                      geometry=[outline], crs=crs),
        "streets": gpd.GeoDataFrame({"street_code": [edit_data.STREET], "name": ["解放街道"], "kind": ["street"],
                                     "district_code": [edit_data.DISTRICT]}, geometry=[outline], crs=crs),
        "communities": gpd.GeoDataFrame({"community_code": [CODE], "name": ["濂溪社区"], "kind": ["urban"],
                                         "street_code": [edit_data.STREET]}, geometry=[outline], crs=crs),
        "buildings": plan.buildings.assign(community_code=CODE),
    }
    with session_scope(engine) as session:
        for kind, gdf in layers.items():
            import_layer(session, kind, gdf)
        result = SimpleNamespace(grids=plan.grids, assignments=plan.assignments)
        return save_partition(session, CODE, result, Rules(), "planner").id


@pytest.fixture
def planner(sign_in: SignIn) -> dict[str, str]:
    return sign_in("planner1", "planner", edit_data.STREET)


def post(client, headers, plan_id: int, revision: int, body: dict):
    return client.post(f"/api/v1/plans/{plan_id}/edits", json=body, headers=headers | {"If-Match": f'"{revision}"'})


def test_a_towers_units_move_alone_and_a_deleted_grid_is_named(gis_client, engine, planner) -> None:
    draft = load(engine, tower_plan())
    unclear = post(gis_client, planner, draft, 1, {"op": "move_building", "building_id": "T", "to_grid": grid(6)})
    assert unclear.status_code == 422 and "split by units" in unclear.json()["detail"]
    moved = post(gis_client, planner, draft, 1, {"op": "move_building", "building_id": "T", "to_grid": grid(6),
                                                 "from_grid": grid(5)})
    assert moved.status_code == 200, moved.text
    counts = {g["code"]: g["households"] for g in moved.json()["grids"]}
    assert counts == {grid(5): 200, grid(6): 580} and moved.json()["removed"] == [] == moved.json()["notices"]
    with session_scope(engine) as session:
        rows = plan_assignments(session, draft)
    assert rows[rows["building_id"] == "T"][["units", "grid_code"]].values.tolist() == [["", grid(6)]]

    emptied = post(gis_client, planner, draft, 2, {"op": "move_building", "building_id": "B3", "to_grid": grid(6)})
    assert emptied.status_code == 200, emptied.text
    assert emptied.json()["removed"] == [grid(7)]
    assert emptied.json()["notices"] == [f"grid {grid(7)} is deleted: the edit left it no area"]
    undone = gis_client.post(f"/api/v1/plans/{draft}/undo", headers=planner | {"If-Match": '"3"'})
    assert undone.status_code == 200 and grid(7) in {g["code"] for g in undone.json()["grids"]}


def test_a_redrawn_shared_boundary_moves_both_grids(gis_client, engine, planner) -> None:
    plan = tower_plan()
    draft = load(engine, plan)
    shapes = dict(zip(plan.grids["grid_code"], plan.grids.geometry))  # the stored coordinates, to the last bit
    minx, miny, maxx, maxy = shapes[grid(7)].bounds
    smaller = shapely.box(minx + (maxx - minx) * 0.3, miny, maxx, maxy)  # 07 gives up its western 30 %
    answer = post(gis_client, planner, draft, 1, {"op": "replace_boundary", "grid_code": grid(7),
                                                  "geometry": mapping(smaller)})
    assert answer.status_code == 200, answer.text
    assert not {p["rule"] for p in answer.json()["problems"]} & {"gap", "overlap", "unassigned_buildings"}
    new = gis_client.get(f"/api/v1/communities/{CODE}/grids", params={"plan_id": draft}, headers=planner).json()
    after = {f["properties"]["grid_code"]: shape(f["geometry"]) for f in new["features"]}
    assert after[grid(6)].area == pytest.approx(shapes[grid(6)].area * 1.3, rel=1e-6)  # 06 took what 07 gave up
    shared = after[grid(6)].boundary.intersection(after[grid(7)].boundary)  # the boundary moved for both
    assert shared.length == pytest.approx(maxy - miny, rel=1e-3)
    assert shared.centroid.x == pytest.approx(smaller.bounds[0])
    assert after[grid(5)].symmetric_difference(shapes[grid(5)]).area < 1e-14  # 05 untouched (GeoJSON rounds)
    ready = gis_client.get(f"/api/v1/plans/{draft}/readiness", headers=planner).json()
    assert not {p["rule"] for p in ready["hard"]} & {"gap", "overlap"}


def test_redo_makes_an_undone_edit_again_until_a_new_edit(gis_client, engine, planner) -> None:
    draft = load(engine, tower_plan())

    def state() -> list:
        with session_scope(engine) as session:
            return sorted(plan_assignments(session, draft).values.tolist())

    before = state()
    assert gis_client.post(f"/api/v1/plans/{draft}/redo", headers=planner | {"If-Match": '"1"'}).status_code == 409
    moved = post(gis_client, planner, draft, 1, {"op": "move_building", "building_id": "B3", "to_grid": grid(6)})
    after = state()
    assert gis_client.post(f"/api/v1/plans/{draft}/undo", headers=planner | {"If-Match": '"2"'}).status_code == 200
    assert state() == before
    redone = gis_client.post(f"/api/v1/plans/{draft}/redo", headers=planner | {"If-Match": '"3"'})
    assert redone.status_code == 200, redone.text
    assert redone.json()["removed"] == moved.json()["removed"] == [grid(7)] and redone.json()["notices"]
    assert state() == after
    assert gis_client.post(f"/api/v1/plans/{draft}/redo", headers=planner | {"If-Match": '"4"'}).status_code == 409
    assert gis_client.post(f"/api/v1/plans/{draft}/undo", headers=planner | {"If-Match": '"4"'}).status_code == 200
    assert state() == before  # a redo is undone like any edit (a refused request leaves the revision as it was)
    post(gis_client, planner, draft, 5, {"op": "move_building", "building_id": "T", "to_grid": grid(6), "units": "1-2"})
    nothing = gis_client.post(f"/api/v1/plans/{draft}/redo", headers=planner | {"If-Match": '"6"'})
    assert nothing.status_code == 409 and "no undone edit" in nothing.json()["detail"]  # a new edit ends redo

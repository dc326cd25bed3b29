"""POST /api/v1/plans/{id}/edits and /undo on both stores: If-Match, scope, state, answers and audit."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import mapping
from sqlalchemy import Engine, select

from geogrid.db.models import AuditLog
from geogrid.db.session import session_scope
from geogrid.partition.rules import Rules
from geogrid.store.imports import import_layer
from geogrid.store.plans import plan_assignments, plan_grids, publish, save_partition
from tests import edit_data

from .gis_support import *
from .gis_support import SignIn


@pytest.fixture
def plans(engine: Engine) -> dict[str, int]:
    """A draft and a published plan of the synthetic community."""
    with session_scope(engine) as session:
        for kind, gdf in edit_data.layers().items():
            import_layer(session, kind, gdf)
        _, _, result = edit_data.partitioned()
        draft = save_partition(session, edit_data.COMMUNITY, result, Rules(), "planner").id
        published = save_partition(session, edit_data.COMMUNITY, result, Rules(), "planner").id
        publish(session, published, "leader")
    return {"draft": draft, "published": published}


@pytest.fixture
def planner(sign_in: SignIn) -> dict[str, str]:
    return sign_in("planner1", "planner", edit_data.STREET)


def state(engine: Engine, plan_id: int) -> tuple[list, list]:
    with session_scope(engine) as session:
        grids = plan_grids(session, plan_id)
        rows = [(*r[:-1], shapely.to_wkb(r[-1])) for r in grids.itertuples(index=False)]
        return rows, plan_assignments(session, plan_id).values.tolist()


def move(plan: int, headers: dict[str, str], client, revision: str | None = '"1"'):
    p = edit_data.plan()
    a, b, _ = edit_data.neighbours(p)[0]
    body = {"op": "move_building", "building_id": edit_data.border_building(p, a, b), "to_grid": b}
    extra = {} if revision is None else {"If-Match": revision}
    return client.post(f"/api/v1/plans/{plan}/edits", json=body, headers=headers | extra)


def test_an_edit_answers_counts_rules_and_the_new_etag(gis_client, engine, plans, planner) -> None:
    p = edit_data.plan()
    a, b, _ = edit_data.neighbours(p)[0]
    answer = move(plans["draft"], planner, gis_client)
    assert answer.status_code == 200, answer.text
    assert answer.headers["ETag"] == '"2"'
    body = answer.json()
    assert body["revision"] == 2 and body["op"] == "move_building" and body["removed"] == []
    counts = {g["code"]: g["households"] for g in body["grids"]}
    before = dict(zip(p.grids["grid_code"], p.grids["households"]))
    assert set(counts) == {a, b} and counts[a] + counts[b] == before[a] + before[b] and counts[a] < before[a]
    assert isinstance(body["problems"], list)
    for problem in body["problems"]:
        assert {"rule", "reason"} <= set(problem)
    with session_scope(engine) as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "edit")).one()
    assert entry.username == "planner1" and entry.object_id == str(plans["draft"])
    assert entry.after["op"]["op"] == "move_building" and entry.before["grids"] and entry.after["grids"]


def test_missing_if_match_is_428_and_a_stale_one_412(gis_client, engine, plans, planner) -> None:
    before = state(engine, plans["draft"])
    assert move(plans["draft"], planner, gis_client, None).status_code == 428
    assert move(plans["draft"], planner, gis_client, '"7"').status_code == 412
    assert state(engine, plans["draft"]) == before
    assert move(plans["draft"], planner, gis_client).status_code == 200
    stale = move(plans["draft"], planner, gis_client)  # a second planner who read revision 1 too
    assert stale.status_code == 412 and "revision 2" in stale.json()["detail"]


def test_published_plans_are_not_edited(gis_client, plans, planner) -> None:
    answer = move(plans["published"], planner, gis_client, '"2"')
    assert answer.status_code == 409 and "published" in answer.json()["detail"]
    assert answer.json()["code"] == "edit.not_draft" and answer.json()["params"]["status"] == "published"


def test_who_may_edit(gis_client, plans, sign_in) -> None:
    assert move(plans["draft"], {}, gis_client).status_code == 401
    elsewhere = sign_in("planner2", "planner", "360799")
    outside = move(plans["draft"], elsewhere, gis_client)
    assert outside.status_code == 403 and outside.json()["code"] == "access.outside_area"
    leader = sign_in("leader1", "leader", edit_data.STREET)
    assert move(plans["draft"], leader, gis_client).status_code == 403
    admin = sign_in("admin1", "admin", edit_data.DISTRICT)
    assert move(plans["draft"], admin, gis_client).status_code == 200
    assert move(999, admin, gis_client).status_code == 404


def test_undo_restores_the_exact_previous_state(gis_client, engine, plans, planner) -> None:
    before = state(engine, plans["draft"])
    p = edit_data.plan()
    code = edit_data.interior_grid(p)
    minx, miny, maxx, maxy = p.geometry_of(code).bounds
    line = {"type": "LineString", "coordinates": [[(minx + maxx) / 2, miny - 1e-4], [(minx + maxx) / 2, maxy + 1e-4]]}
    split = gis_client.post(f"/api/v1/plans/{plans['draft']}/edits", headers=planner | {"If-Match": '"1"'},
                            json={"op": "split", "grid_code": code, "geometry": line})
    assert split.status_code == 200, split.text
    assert len(split.json()["grids"]) == 2
    assert state(engine, plans["draft"]) != before
    undo = gis_client.post(f"/api/v1/plans/{plans['draft']}/undo", headers=planner | {"If-Match": split.headers["ETag"]})
    assert undo.status_code == 200, undo.text
    assert undo.headers["ETag"] == '"3"' and undo.json()["undone"]["op"]["op"] == "split"
    assert state(engine, plans["draft"]) == before
    again = gis_client.post(f"/api/v1/plans/{plans['draft']}/undo", headers=planner | {"If-Match": '"3"'})
    assert again.status_code == 409 and "no edit to undo" in again.json()["detail"]
    assert gis_client.post(f"/api/v1/plans/{plans['draft']}/undo", headers=planner).status_code == 428


def test_merge_and_replace_boundary(gis_client, plans, planner) -> None:
    p = edit_data.plan()
    a, b, _ = edit_data.neighbours(p)[0]
    merged = gis_client.post(f"/api/v1/plans/{plans['draft']}/edits", headers=planner | {"If-Match": '"1"'},
                             json={"op": "merge", "grids": [a, b]})
    assert merged.status_code == 200 and merged.json()["removed"] == [b]
    assert {f["rule"] for f in merged.json()["problems"]} >= {"max_households"}
    code = edit_data.interior_grid(p)
    drawn = mapping(shapely.buffer(p.geometry_of(code), -0.0002))
    shrunk = gis_client.post(f"/api/v1/plans/{plans['draft']}/edits", headers=planner | {"If-Match": '"2"'},
                             json={"op": "replace_boundary", "grid_code": code, "geometry": drawn})
    assert shrunk.status_code == 200, shrunk.text
    rules = {f["rule"] for f in shrunk.json()["problems"]}
    assert not rules & {"gap", "unassigned_buildings"}  # the ground it gave up went to its neighbours
    assert len(shrunk.json()["grids"]) > 2


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"op": "split", "grid_code": "X", "geometry": {"type": "LineString", "coordinates": [[1, 2]]}}, "malformed GeoJSON"),
        ({"op": "split", "grid_code": "X", "geometry": {"type": "Nope"}}, "malformed GeoJSON"),
        ({"op": "replace_boundary", "grid_code": "X", "geometry": {"type": "Point", "coordinates": [500, 1]}}, "longitude"),
        ({"op": "merge", "grids": ["X", "Y"]}, "no grid 'X'"),
        ({"op": "move_building", "building_id": "nope", "to_grid": "X"}, "not in this plan"),
    ],
)
def test_bad_edits_are_422_naming_the_problem(gis_client, plans, planner, body, words) -> None:
    answer = gis_client.post(f"/api/v1/plans/{plans['draft']}/edits", headers=planner | {"If-Match": '"1"'}, json=body)
    assert answer.status_code == 422 and words in str(answer.json())


def test_unknown_op_is_rejected(gis_client, plans, planner) -> None:
    answer = gis_client.post(f"/api/v1/plans/{plans['draft']}/edits", headers=planner | {"If-Match": '"1"'},
                             json={"op": "paint"})
    assert answer.status_code == 422

"""The planner's brush through the API: one stroke of several buildings is one edit, one audit entry and one undo
step; a stroke that cannot be made is 422 naming why, with nothing written; plans send their count windows."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from geogrid.db.models import AuditLog
from geogrid.db.session import session_scope
from tests import edit_data
from tests.test_editing_brush import nearest_buildings

from .gis_support import *
from .gis_support import SignIn
from .test_editing import plans, state  # noqa: F401 - fixtures and helpers shared with the edit tests


@pytest.fixture
def planner(sign_in: SignIn) -> dict[str, str]:
    return sign_in("planner1", "planner", edit_data.STREET)


def edits_audited(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "edit"))


def test_a_stroke_is_one_edit_and_one_undo_step(gis_client, engine, plans, planner) -> None:
    p = edit_data.plan()
    a, b, _ = edit_data.neighbours(p)[0]
    stroke = nearest_buildings(p, a, b, 3)
    before = state(engine, plans["draft"])
    url = f"/api/v1/plans/{plans['draft']}"
    answer = gis_client.post(url + "/edits", headers=planner | {"If-Match": '"1"'},
                             json={"op": "move_buildings", "building_ids": stroke, "to_grid": b})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["op"] == "move_buildings" and body["revision"] == 2
    moved = p.assignments[p.assignments["building_id"].isin(stroke)]["households"].sum()
    counts = {g["code"]: g["households"] for g in body["grids"]}
    was = dict(zip(p.grids["grid_code"], p.grids["households"]))
    assert counts == {a: was[a] - moved, b: was[b] + moved}
    assert all("compactness" in g for g in body["grids"])
    assert edits_audited(engine) == 1
    undo = gis_client.post(url + "/undo", headers=planner | {"If-Match": answer.headers["ETag"]})
    assert undo.status_code == 200, undo.text
    assert undo.json()["undone"]["op"]["building_ids"] == stroke
    assert state(engine, plans["draft"]) == before


@pytest.mark.parametrize(
    ("ids", "words"),
    [([], "at least 1"), (["nope"], "'nope' is not in this plan"), ([f"b{k}" for k in range(501)], "at most 500")],
)
def test_a_bad_stroke_is_422_and_writes_nothing(gis_client, engine, plans, planner, ids, words) -> None:
    p = edit_data.plan()
    _, b, _ = edit_data.neighbours(p)[0]
    before = state(engine, plans["draft"])
    answer = gis_client.post(f"/api/v1/plans/{plans['draft']}/edits", headers=planner | {"If-Match": '"1"'},
                             json={"op": "move_buildings", "building_ids": ids, "to_grid": b})
    assert answer.status_code == 422 and words in str(answer.json())
    assert state(engine, plans["draft"]) == before and edits_audited(engine) == 0


def test_a_plan_sends_its_count_windows(gis_client, plans, planner) -> None:
    detail = gis_client.get(f"/api/v1/plans/{plans['draft']}", headers=planner).json()
    assert detail["limits"] == {"households": [300, 500], "population": [0, 1000], "near_share": 0.1}

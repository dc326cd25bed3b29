"""Issue 17, defect 1: a replayed external id shows no case outside the caller's scope (API and hotline import)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from geogrid.db.models import Grid, PlanVersion
from geogrid.db.session import session_scope
from tests.api.test_incidents import grid_point, report

CASE_FIELDS = ("id", "token", "description", "reporter", "grid_code", "location")


def far_grid(store, district) -> str:
    """A published grid in a community of another street than the planner's and the worker's."""
    community = district.other_street_community()
    with session_scope(store) as session:
        return session.scalar(select(Grid.code).join(PlanVersion).where(
            PlanVersion.status == "published", PlanVersion.community_code == community).order_by(Grid.code))


def test_a_replayed_external_id_outside_the_scope_is_409_without_the_case(client, store, auth, district) -> None:
    lon, lat = grid_point(store, far_grid(store, district))
    secret = report(client, auth("admin"), lon, lat, external_id="sample-I004999", description="家暴求助",
                    reporter={"name": "李四", "contact": "13900000000"})
    replay = {"category": "city_management", "location": {"lon": 0.0, "lat": 0.0}, "external_id": "sample-I004999"}
    for user in ("worker", "planner", "leader_c"):
        answer = client.post("/api/v1/incidents", headers=auth(user), json=replay)
        assert answer.status_code == 409, (user, answer.text)
        text = answer.text
        assert "taken" in answer.json()["detail"]
        assert "李四" not in text and "13900000000" not in text and secret["token"] not in text
        assert "家暴" not in text and secret["grid_code"] not in text
    seen = client.post("/api/v1/incidents", headers=auth("leader"), json=replay)  # the district's leader sees it
    assert seen.status_code == 200 and seen.json()["id"] == secret["id"]


def test_the_hotline_import_does_not_name_cases_outside_the_scope(client, store, auth, district) -> None:
    lon, lat = grid_point(store, far_grid(store, district))
    secret = report(client, auth("admin"), lon, lat, external_id="H-SECRET")
    table = pd.DataFrame({"工单编号": ["H-SECRET"], "问题类型": ["城市管理"], "诉求内容": ["占道经营"],
                          "经度": [lon], "纬度": [lat], "来电时间": ["2026-11-01 09:30:00"]})
    files = {"file": ("export.csv", table.to_csv(index=False).encode(), "text/csv")}
    answer = client.post("/api/v1/incidents/imports", files=files, headers=auth("leader_c"))
    assert answer.status_code == 200, answer.text
    row = answer.json()["results"][0]
    assert row["result"] == "error" and "taken" in row["error"]
    assert "incident_id" not in row and "grid_code" not in row
    assert secret["grid_code"] not in answer.text
    mine = client.post("/api/v1/incidents/imports", files=files, headers=auth("admin")).json()["results"][0]
    assert mine["result"] == "existing" and mine["incident_id"] == secret["id"]

"""Publishing on both stores: hard rules refuse it (409 listing them), limits need a reason kept with the
version, and the community's cases follow the published grids with a trace event each."""

from __future__ import annotations

import pytest
import shapely

from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import Engine, select

from geogrid.db.models import AuditLog, Grid, IncidentEvent, PlanVersion
from geogrid.db.session import session_scope
from tests import edit_data

from .gis_support import *  # noqa: F403 - the GIS fixtures
from .gis_support import SignIn


@pytest.fixture
def published(engine: Engine) -> int:
    """The synthetic community loaded and its partition (within every rule) published."""
    with session_scope(engine) as session:
        return edit_data.store_published(session)


@pytest.fixture
def planner(sign_in: SignIn) -> dict[str, str]:
    return sign_in("planner1", "planner", edit_data.STREET)


def draft_of(client, headers: dict[str, str], plan_id: int) -> tuple[int, str]:
    answer = client.post(f"/api/v1/plans/{plan_id}/drafts", headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"], answer.headers["ETag"]


def edit(client, headers: dict[str, str], plan_id: int, etag: str, body: dict) -> str:
    answer = client.post(f"/api/v1/plans/{plan_id}/edits", json=body, headers=headers | {"If-Match": etag})
    assert answer.status_code == 200, answer.text
    if body["op"] == "merge":  # the grid merged away is named, never deleted silently
        assert answer.json()["removed"] == [body["grids"][1]]
        assert answer.json()["notices"] == [f"grid {body['grids'][1]} is deleted: the edit left it no area"]
    else:
        assert answer.json()["notices"] == []
    return answer.headers["ETag"]


def statuses(engine: Engine, *plan_ids: int) -> list[str]:
    with session_scope(engine) as session:
        return [session.get(PlanVersion, plan_id).status for plan_id in plan_ids]


def with_a_gap(engine: Engine, plan_id: int, code: str) -> None:
    """Shrink one grid of the plan in the store, leaving a gap no edit would leave (as an imported plan may)."""
    with session_scope(engine) as session:
        row = session.scalars(select(Grid).where(Grid.plan_version_id == plan_id, Grid.code == code)).one()
        row.geom = from_shape(shapely.MultiPolygon([shapely.buffer(to_shape(row.geom).geoms[0], -0.0002,
                                                                   join_style="mitre")]), srid=4326)


def test_a_plan_with_a_gap_is_refused_listing_it_and_nothing_changes(gis_client, engine, published, planner) -> None:
    code = edit_data.interior_grid(edit_data.plan())
    draft, _ = draft_of(gis_client, planner, published)
    with_a_gap(engine, draft, code)
    ready = gis_client.get(f"/api/v1/plans/{draft}/readiness", headers=planner).json()
    assert "gap" in {p["rule"] for p in ready["hard"]} and not ready["needs_reason"]

    answer = gis_client.post(f"/api/v1/plans/{draft}/publish", headers=planner, json={"reason": "urgent"})
    assert answer.status_code == 409
    body = answer.json()
    assert "hard rules" in body["detail"] and "gap" in body["detail"]
    assert body["code"] == "publish.hard_rules" and "gap" in body["params"]["rules"]
    assert body["params"]["count"] == len(body["problems"])
    gap = next(p for p in body["problems"] if p["rule"] == "gap")
    assert gap["area_m2"] > 1000 and len(gap["at"]) == 2
    assert statuses(engine, draft, published) == ["draft", "published"]
    with session_scope(engine) as session:
        assert not session.scalars(select(AuditLog).where(AuditLog.action == "publish",
                                                          AuditLog.object_id == str(draft))).all()


def test_a_plan_outside_a_limit_needs_a_reason_kept_with_the_version(gis_client, engine, published, planner) -> None:
    a, b, _ = edit_data.neighbours(edit_data.plan())[0]
    draft, etag = draft_of(gis_client, planner, published)
    edit(gis_client, planner, draft, etag, {"op": "merge", "grids": [a, b]})
    ready = gis_client.get(f"/api/v1/plans/{draft}/readiness", headers=planner).json()
    assert ready["hard"] == [] and ready["needs_reason"]
    assert {(p["grid_code"], p["rule"]) for p in ready["limits"]} >= {(a, "max_households")}

    for body in (None, {}, {"reason": "   "}):
        refused = gis_client.post(f"/api/v1/plans/{draft}/publish", headers=planner, json=body)
        assert refused.status_code == 409, body
        assert "with a reason" in refused.json()["detail"]
        assert refused.json()["code"] == "publish.needs_reason" and "max_households" in refused.json()["params"]["rules"]
        assert refused.json()["problems"] == ready["limits"]
    assert statuses(engine, draft, published) == ["draft", "published"]
    too_long = gis_client.post(f"/api/v1/plans/{draft}/publish", headers=planner, json={"reason": "x" * 2001})
    assert too_long.status_code == 422

    answer = gis_client.post(f"/api/v1/plans/{draft}/publish", headers=planner,
                             json={"reason": "两个网格合并，待下月新楼入住后再拆分"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["publish_reason"] == "两个网格合并，待下月新楼入住后再拆分"
    assert gis_client.get(f"/api/v1/plans/{draft}", headers=planner).json()["publish_reason"].startswith("两个网格")
    assert statuses(engine, draft, published) == ["published", "archived"]
    with session_scope(engine) as session:
        row = session.scalars(select(AuditLog).where(AuditLog.action == "publish",
                                                     AuditLog.object_id == str(draft))).one()
        assert row.after["reason"].startswith("两个网格") and row.username == "planner1"


def test_a_plan_within_every_rule_publishes_without_a_reason(gis_client, engine, published, planner) -> None:
    draft, _ = draft_of(gis_client, planner, published)
    assert gis_client.get(f"/api/v1/plans/{draft}/readiness", headers=planner).json() == {
        "hard": [], "limits": [], "needs_reason": False}
    answer = gis_client.post(f"/api/v1/plans/{draft}/publish", headers=planner)
    assert answer.status_code == 200 and answer.json()["publish_reason"] is None
    assert statuses(engine, draft, published) == ["published", "archived"]


def test_cases_follow_a_published_merge_and_grid_counts_add_up(gis_client, engine, published, planner,
                                                               sign_in: SignIn) -> None:
    leader = sign_in("leader1", "leader", edit_data.DISTRICT)
    p = edit_data.plan()
    a, b, _ = edit_data.neighbours(p)[0]
    cases: dict[str, list[int]] = {}
    for code in (a, b, edit_data.interior_grid(p)):
        point = shapely.point_on_surface(p.geometry_of(code))
        for _ in range(2):
            body = {"category": "city_management", "channel": "grid_patrol", "description": "占道经营",
                    "location": {"lon": point.x, "lat": point.y, "crs": "wgs84"}}
            answer = gis_client.post("/api/v1/incidents", json=body, headers=leader)
            assert answer.status_code in (200, 201) and answer.json()["grid_code"] == code, answer.text
            cases.setdefault(code, []).append(answer.json()["id"])

    draft, etag = draft_of(gis_client, planner, published)
    edit(gis_client, planner, draft, etag, {"op": "merge", "grids": [a, b]})
    answer = gis_client.post(f"/api/v1/plans/{draft}/publish", headers=planner, json={"reason": "合并"})
    assert answer.status_code == 200, answer.text

    for code, ids in cases.items():
        for incident_id in ids:
            case = gis_client.get(f"/api/v1/incidents/{incident_id}", headers=leader).json()
            assert case["grid_code"] == (a if code == b else code)
    with session_scope(engine) as session:
        events = session.scalars(select(IncidentEvent).where(IncidentEvent.action == "regrid")).all()
        assert sorted(e.incident_id for e in events) == sorted(cases[b])
        assert all(e.data["from_grid"] == b and e.data["to_grid"] == a and e.username == "planner1" for e in events)
        assert all(e.data["plan_version_id"] == draft for e in events)
        publish_row = session.scalars(select(AuditLog).where(AuditLog.action == "publish",
                                                             AuditLog.object_id == str(draft))).one()
        assert publish_row.after["cases_moved"] == 2
        assert b not in set(session.scalars(select(Grid.code).where(Grid.plan_version_id == draft)))

    area = {"area": edit_data.COMMUNITY}
    grids = gis_client.get("/api/v1/stats/areas", params={"level": "grid", **area}, headers=leader).json()["rows"]
    community = gis_client.get("/api/v1/stats/areas", params={"level": "community", **area}, headers=leader).json()
    assert {row["code"] for row in grids if row["count"]} == {a, edit_data.interior_grid(p)}
    assert sum(row["count"] for row in grids) == community["rows"][0]["count"] == 6
    point = shapely.point_on_surface(p.geometry_of(b))  # the layout kept in memory still holds b: the INSERT's
    body = {"category": "city_management", "channel": "grid_patrol", "description": "占道经营",  # stamp says
            "location": {"lon": point.x, "lat": point.y, "crs": "wgs84"}}  # it is stale, and the case goes to a
    answer = gis_client.post("/api/v1/incidents", json=body, headers=leader)
    assert answer.status_code == 201 and answer.json()["grid_code"] == a, answer.text
    assert gis_client.get(f"/api/v1/incidents/{answer.json()['id']}", headers=leader).json()["grid_code"] == a

"""Incidents over HTTP: located into grids, escalated to closure with a full trace, scoped, imported in bulk."""

from __future__ import annotations

import io

import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient
from geoalchemy2.shape import to_shape
from pyproj import Geod
from sqlalchemy import Engine, select

from geogrid.geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from geogrid.db.models import Grid, PlanVersion
from geogrid.db.session import session_scope

GEOD = Geod(ellps="WGS84")


def grid_point(store: Engine, grid_code: str) -> tuple[float, float]:
    """A point well inside a published grid."""
    with session_scope(store) as session:
        geom = session.scalar(
            select(Grid.geom).join(PlanVersion).where(PlanVersion.status == "published", Grid.code == grid_code)
        )
        point = to_shape(geom).representative_point()
    return point.x, point.y


def report(client: TestClient, headers: dict, lon: float, lat: float, **extra) -> dict:
    body = {"category": "city_management", "channel": "grid_patrol", "description": "占道经营",
            "location": {"lon": lon, "lat": lat, "crs": extra.pop("crs", "wgs84")}} | extra
    answer = client.post("/api/v1/incidents", json=body, headers=headers)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def act(client: TestClient, headers: dict, incident_id: int, action: str, **extra):
    return client.post(f"/api/v1/incidents/{incident_id}/actions", json={"action": action} | extra, headers=headers)


@pytest.fixture
def worker_grid(users: dict) -> str:
    return users["worker"][1]


def test_a_point_is_placed_in_its_grid_community_and_street(client, store, auth, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    case = report(client, auth("worker"), lon, lat)
    assert case["grid_code"] == worker_grid and case["located"]
    assert worker_grid.startswith(case["community_code"]) and case["community_code"].startswith(case["street_code"])
    assert case["location"]["located_by"] == "point" and case["location"]["confidence"] == 1.0
    assert case["status"] == "reported" and case["level"] == 1 and case["deadline_at"]
    assert case["allowed_actions"] == ["accept", "escalate"]


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_chinese_web_map_points_are_converted_to_wgs84(client, store, auth, worker_grid, system) -> None:
    lon, lat = grid_point(store, worker_grid)
    shifted = (wgs84_to_gcj02 if system == "gcj02" else wgs84_to_bd09)(lon, lat)
    case = report(client, auth("worker"), float(shifted[0]), float(shifted[1]), crs=system)
    assert case["grid_code"] == worker_grid
    error_m = GEOD.inv(lon, lat, case["location"]["lon"], case["location"]["lat"])[2]
    assert error_m < 0.1
    assert case["location"]["input"] == {"x": float(shifted[0]), "y": float(shifted[1]), "crs": system}


def test_the_whole_escalation_to_a_department_and_back_is_traced(client, store, auth, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    case = report(client, auth("worker"), lon, lat)
    cid = case["id"]
    steps = [
        ("worker", "accept", {}, "accepted", 1),
        ("worker", "escalate", {"note": "需社区协调"}, "escalated", 2),
        ("leader_c", "accept", {}, "accepted", 2),
        ("leader_c", "escalate", {}, "escalated", 3),
        ("leader_s", "dispatch", {}, "dispatched", 3),
        ("staff", "check_in", {}, "checked_in", 3),
        ("staff", "handle", {"note": "已清理"}, "handled", 3),
        ("leader_s", "close", {}, "closed", 3),
        ("worker", "rate", {"rating": 5}, "closed", 3),
    ]
    for username, action, extra, state, level in steps:
        answer = act(client, auth(username), cid, action, **extra)
        assert answer.status_code == 200, (action, answer.text)
        assert (answer.json()["status"], answer.json()["level"]) == (state, level), action
    done = client.get(f"/api/v1/incidents/{cid}", headers=auth("leader")).json()
    assert done["department"] == "urban_management" and done["rating"] == 5
    assert done["closed_at"] and done["hours_to_close"] >= 0
    trace = done["trace"]
    assert [e["action"] for e in trace] == ["report"] + [s[1] for s in steps]
    assert [e["username"] for e in trace[1:]] == [s[0] for s in steps]
    assert all(a["to_status"] == b["from_status"] for a, b in zip(trace, trace[1:], strict=False))
    assert trace[2]["note"] == "需社区协调"
    reopened = act(client, auth("leader_c"), cid, "reopen", note="群众不满意")
    assert reopened.status_code == 200
    assert (reopened.json()["status"], reopened.json()["level"], reopened.json()["reopen_count"]) == ("reported", 1, 1)
    assert reopened.json()["closed_at"] is None


def test_an_action_not_allowed_now_is_409_with_the_reason(client, store, auth, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    cid = report(client, auth("worker"), lon, lat)["id"]
    early = act(client, auth("leader_c"), cid, "close")
    assert early.status_code == 409
    assert "cannot close" in early.json()["detail"] and "handled first" in early.json()["detail"]
    assert early.json()["code"] == "workflow.not_allowed_now"  # a code and its values for the pages' own sentence
    assert early.json()["params"] == {"action": "close", "status": "reported", "level": 1}
    assert act(client, auth("worker"), cid, "rate", rating=4).status_code == 409
    fly = act(client, auth("worker"), cid, "fly")
    assert fly.status_code == 409 and fly.json()["code"] == "workflow.unknown_action"


def test_a_step_belongs_to_its_owner_only(client, store, auth, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    cid = report(client, auth("worker"), lon, lat)["id"]
    wrong = act(client, auth("leader_s2"), cid, "accept")
    assert wrong.status_code == 403 and wrong.json()["code"] in {"workflow.case_not_yours", "workflow.not_your_area"}
    staff = act(client, auth("staff"), cid, "accept")
    assert staff.status_code == 403 and staff.json()["code"].startswith("workflow.")
    assert act(client, auth("worker"), cid, "accept").status_code == 200
    assert act(client, auth("worker"), cid, "escalate").status_code == 200
    not_worker = act(client, auth("worker"), cid, "accept")  # level 2 belongs to the community
    assert not_worker.status_code == 403 and "community" in not_worker.json()["detail"]
    assert not_worker.json()["code"] == "workflow.not_your_level"
    assert not_worker.json()["params"] == {"action": "accept", "level": 2}


def test_a_point_in_no_grid_is_kept_unlocated_with_nearby_grids_then_placed(client, store, auth, worker_grid) -> None:
    with session_scope(store) as session:
        rows = session.execute(
            select(Grid.code, Grid.geom).join(PlanVersion).where(PlanVersion.status == "published")
        ).all()
        union = shapely.union_all([to_shape(r.geom) for r in rows])
    # a point 40 m east of the district's easternmost vertex
    ring = shapely.get_coordinates(union.convex_hull.exterior)
    east = ring[ring[:, 0].argmax()]
    lon, lat, _ = GEOD.fwd(east[0], east[1], 90, 40)
    case = report(client, auth("leader"), lon, lat)
    assert not case["located"] and case["grid_code"] is None and case["status"] == "reported"
    suggestions = case["suggested_grids"]
    assert suggestions and all(s["distance_m"] <= 100 for s in suggestions)
    assert [s["distance_m"] for s in suggestions] == sorted(s["distance_m"] for s in suggestions)
    assert 35 <= suggestions[0]["distance_m"] <= 45
    listed = client.get("/api/v1/incidents", params={"located": "false"}, headers=auth("admin")).json()
    assert case["id"] in [i["id"] for i in listed["items"]]
    assert act(client, auth("leader"), case["id"], "accept").status_code == 409
    placed = client.post(f"/api/v1/incidents/{case['id']}/place", json={"grid_code": suggestions[0]["grid_code"]},
                         headers=auth("leader"))
    assert placed.status_code == 200, placed.text
    assert placed.json()["grid_code"] == suggestions[0]["grid_code"] and placed.json()["location"]["located_by"] == "manual"
    again = client.post(f"/api/v1/incidents/{case['id']}/place", json={"grid_code": suggestions[0]["grid_code"]},
                        headers=auth("leader"))
    assert again.status_code == 409


def test_the_same_external_id_is_stored_once(client, store, auth, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    first = report(client, auth("worker"), lon, lat, external_id="12345-2026-0001")
    second = client.post("/api/v1/incidents", headers=auth("worker"), json={
        "category": "city_management", "location": {"lon": lon, "lat": lat}, "external_id": "12345-2026-0001"})
    assert second.status_code == 200 and second.json()["id"] == first["id"]


def test_the_answer_to_a_report_is_the_stored_case(client, store, auth, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    case = report(client, auth("worker"), lon, lat, external_id="12345-2026-0002", address="和平路3号",
                  reporter={"name": "张三", "contact": "13800000000"}, media_urls=["https://example.org/1.jpg"],
                  channel="citizen_app")
    stored = client.get(f"/api/v1/incidents/{case['id']}", headers=auth("worker")).json()
    assert stored.pop("trace")[0]["action"] == "report"
    assert case == stored
    again = client.post("/api/v1/incidents", headers=auth("worker"), json={
        "category": "city_management", "location": {"lon": lon, "lat": lat}, "external_id": "12345-2026-0002"})
    assert again.status_code == 200 and again.json() == stored
    outside = report(client, auth("admin"), lon + 1.0, lat, external_id="12345-2026-0003")  # in no district
    stored = client.get(f"/api/v1/incidents/{outside['id']}", headers=auth("admin")).json()
    stored.pop("trace")
    assert not outside["located"] and outside == stored


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"category": "aliens", "location": {"lon": 114.9, "lat": 25.8}}, "unknown category"),
        ({"category": "fire_safety", "location": {"lon": 25.8, "lat": 114.9}}, "swapped"),
        ({"category": "fire_safety"}, "needs a location"),
        ({"category": "fire_safety", "channel": "pigeon", "location": {"lon": 114.9, "lat": 25.8}}, "unknown channel"),
        ({"category": "fire_safety", "location": {"lon": 114.9, "lat": 25.8, "crs": "EPSG:999999"}}, "unknown coordinate"),
    ],
)
def test_bad_reports_get_422_naming_the_problem(client, auth, body, words) -> None:
    answer = client.post("/api/v1/incidents", json=body, headers=auth("leader"))
    assert answer.status_code == 422
    assert words in str(answer.json()["detail"])


def test_each_role_sees_its_own_cases(client, store, auth, worker_grid, users) -> None:
    lon, lat = grid_point(store, worker_grid)
    mine = report(client, auth("worker"), lon, lat)["id"]
    with session_scope(store) as session:
        other_grid = session.scalar(
            select(Grid.code).join(PlanVersion).where(PlanVersion.status == "published", Grid.code != worker_grid)
            .order_by(Grid.code.desc())
        )
    other = report(client, auth("leader"), *grid_point(store, other_grid))["id"]
    seen = {i["id"] for i in client.get("/api/v1/incidents", headers=auth("worker")).json()["items"]}
    assert mine in seen and other not in seen
    assert client.get(f"/api/v1/incidents/{other}", headers=auth("worker")).status_code == 403
    assert client.get("/api/v1/incidents", headers=auth("staff")).json()["total"] == 0
    assert client.get("/api/v1/incidents/999999", headers=auth("admin")).status_code == 404
    geo = client.get("/api/v1/incidents", params={"format": "geojson"}, headers=auth("leader")).json()
    assert geo["type"] == "FeatureCollection" and {f["id"] for f in geo["features"]} >= {mine, other}


def test_hotline_exports_import_per_row_and_twice_creates_nothing_twice(client, store, auth, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    table = pd.DataFrame({
        "工单编号": ["H-1", "H-2", "H-3", ""],
        "问题类型": ["市容环境" if False else "城市管理", "环境卫生", "外星人", "矛盾纠纷"],
        "诉求内容": ["占道经营", "垃圾未清运", "?", "邻里噪音"],
        "经度": [lon, lon, lon, lon],
        "纬度": [lat, lat, lat, lat],
        "来电时间": ["2026-11-01 09:30:00", "2026-11-02 10:00:00", "2026-11-02 11:00:00", "2026-11-03 08:00:00"],
    })
    csv = table.to_csv(index=False).encode("utf-8")
    first = client.post("/api/v1/incidents/imports", files={"file": ("export.csv", csv, "text/csv")}, headers=auth("leader"))
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["rows"], body["created"], body["existing"], body["error"]) == (4, 3, 0, 1)
    bad = next(r for r in body["results"] if r["result"] == "error")
    assert bad["row"] == 3 and "外星人" in bad["error"]
    assert all(r["grid_code"] == worker_grid for r in body["results"] if r["result"] == "created")
    excel = io.BytesIO()
    table.to_excel(excel, index=False)
    second = client.post("/api/v1/incidents/imports", headers=auth("leader"),
                         files={"file": ("export.xlsx", excel.getvalue(), "application/octet-stream")})
    assert second.status_code == 200, second.text
    assert (second.json()["created"], second.json()["existing"], second.json()["error"]) == (0, 3, 1)
    case = client.get(f"/api/v1/incidents/{body['results'][0]['incident_id']}", headers=auth("leader")).json()
    assert case["reported_at"].startswith("2026-11-01T01:30")  # China time, stored in UTC


def test_a_file_that_is_not_an_export_is_422(client, auth) -> None:
    answer = client.post("/api/v1/incidents/imports", headers=auth("leader"),
                         files={"file": ("export.csv", b"a,b\n1,2\n", "text/csv")})
    assert answer.status_code == 422 and "category column" in answer.json()["detail"]
    assert client.post("/api/v1/incidents/imports", headers=auth("worker"),
                       files={"file": ("x.csv", b"a\n", "text/csv")}).status_code == 403


def test_an_address_only_report_is_geocoded_to_its_building(client, store, auth, district) -> None:
    buildings = district.layers["buildings"]
    row = buildings[buildings["compound"].fillna("") != ""].iloc[0]
    number = row["address"].split(row["compound"])[-1]  # e.g. "3栋"
    text = "江西省赣州市章贡区" + row["compound"] + number.replace("栋", "幢") + "2单元501室"
    answer = client.post("/api/v1/incidents", headers=auth("leader"),
                         json={"category": "city_management", "channel": "hotline_12345", "address": text})
    assert answer.status_code == 201, answer.text
    case = answer.json()
    assert case["location"]["building_id"] == row["building_id"]
    assert case["location"]["located_by"] in ("address_exact", "address_fuzzy")
    assert case["location"]["confidence"] >= 0.8 and case["located"]
    nowhere = client.post("/api/v1/incidents", headers=auth("leader"),
                          json={"category": "city_management", "address": "火星大道99号"}).json()
    assert not nowhere["located"] and nowhere["location"]["located_by"] is None


def test_a_draft_is_copied_from_the_published_plan(client, store, auth, users) -> None:
    community = users["leader_c"][1]
    plans = client.get(f"/api/v1/communities/{community}/plans", headers=auth("planner")).json()
    items = plans if isinstance(plans, list) else plans.get("items", plans.get("versions", []))
    published = next(p for p in items if p["status"] == "published")
    draft = client.post(f"/api/v1/plans/{published['id']}/drafts", headers=auth("planner"))
    assert draft.status_code == 201, draft.text
    assert draft.json()["status"] == "draft" and draft.headers["ETag"]
    assert draft.json()["households"] == client.get(f"/api/v1/plans/{published['id']}",
                                                    headers=auth("planner")).json()["households"]
    assert client.post(f"/api/v1/plans/{published['id']}/drafts", headers=auth("leader")).status_code == 403


def test_concurrent_reports_are_all_stored(client, store, auth, worker_grid) -> None:
    from concurrent.futures import ThreadPoolExecutor

    lon, lat = grid_point(store, worker_grid)
    headers = auth("worker")

    def send(i: int) -> int:
        body = {"category": "city_management", "location": {"lon": lon, "lat": lat}, "external_id": f"load-{i}"}
        return client.post("/api/v1/incidents", json=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(send, range(64)))
    assert codes == [201] * 64
    listed = client.get("/api/v1/incidents", params={"area": worker_grid, "limit": 1000}, headers=headers).json()
    assert {i["external_id"] for i in listed["items"]} >= {f"load-{i}" for i in range(64)}

"""Issue 17, defect 5: the API's limits hold for every channel, media are http(s), points off the map and NaN
coordinates are named, messages show no server paths, formula cells are neutralised in exports."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sqlalchemy import func, select

from geogrid.db.models import Incident, Road
from geogrid.db.session import session_scope
from tests.api.test_field_reports import jpeg_with_gps, upload
from tests.api.test_incidents import grid_point

FORMULA = "=cmd|' /C calc'!A0"


def hotline(client, auth, rows: dict[str, list]) -> dict:
    files = {"file": ("export.csv", pd.DataFrame(rows).to_csv(index=False).encode(), "text/csv")}
    answer = client.post("/api/v1/incidents/imports", files=files, headers=auth("admin"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_hotline_rows_get_the_apis_length_limits(client, store, auth, users) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    with session_scope(store) as session:
        before = session.scalar(select(func.count(Incident.id)))
    body = hotline(client, auth, {"工单编号": ["H-LONG", "X" * 5000, "H-OK"], "问题类型": ["城市管理"] * 3,
                                  "诉求内容": ["长" * 5000, "短", "占道经营"], "经度": [lon] * 3, "纬度": [lat] * 3})
    long_text, long_id, fine = body["results"]
    assert long_text["result"] == "error" and "description is 5000 characters long: at most 4000" in long_text["error"]
    assert long_id["result"] == "error" and "external_id is 5000 characters long: at most 128" in long_id["error"]
    assert fine["result"] == "created"
    with session_scope(store) as session:
        assert session.scalar(select(func.count(Incident.id))) == before + 1


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "data:text/html,<script>x</script>",
                                 "https:/no-host", "/media/../../etc/passwd"])
def test_media_urls_must_be_http(client, auth, url) -> None:
    body = {"category": "city_management", "address": "和平路3号", "media_urls": ["https://example.org/1.jpg", url]}
    answer = client.post("/api/v1/incidents", json=body, headers=auth("admin"))
    assert answer.status_code == 422 and "media_urls" in str(answer.json()["detail"]), answer.text


def test_http_media_and_our_own_stored_paths_are_kept(client, store, auth, users) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    kept = upload(client, auth("admin"), jpeg_with_gps()).json()["url"]
    media = ["https://example.org/1.jpg", "http://intranet.local/p.png", kept]
    body = {"category": "city_management", "location": {"lon": lon, "lat": lat}, "media_urls": media}
    answer = client.post("/api/v1/incidents", json=body, headers=auth("admin"))
    assert answer.status_code == 201 and answer.json()["media_urls"] == media


@pytest.mark.parametrize("path", ["/media/2026/11/01/a.jpg", "/media/" + "0" * 32 + ".jpg"])
def test_a_stored_media_path_must_name_a_photo_kept_here(client, store, auth, users, path) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    with session_scope(store) as session:
        before = session.scalar(select(func.count(Incident.id)))
    body = {"category": "city_management", "location": {"lon": lon, "lat": lat}, "media_urls": [path]}
    answer = client.post("/api/v1/incidents", json=body, headers=auth("admin"))
    assert answer.status_code == 422 and "no photo kept here" in answer.json()["detail"], answer.text
    with session_scope(store) as session:
        assert session.scalar(select(func.count(Incident.id))) == before


@pytest.mark.parametrize(("x", "y"), [(1e30, 1e30), (1e8, 1e7), (-1e30, 5.0)])
def test_a_projected_point_off_the_map_is_refused(client, auth, x, y) -> None:
    body = {"category": "city_management", "location": {"lon": x, "lat": y, "crs": "EPSG:3857"}}
    answer = client.post("/api/v1/incidents", json=body, headers=auth("admin"))
    assert answer.status_code == 422 and "not a place on Earth" in answer.json()["detail"], answer.text


def test_a_road_with_a_nan_coordinate_is_named(client, store, auth, district) -> None:
    roads = json.loads(district.layers["roads"].head(3).to_json())
    roads["features"][1]["geometry"]["coordinates"][0][1] = float("nan")
    data = json.dumps(roads).encode()  # NaN as JS writes it
    with session_scope(store) as session:
        before = session.scalar(select(func.count()).select_from(Road))
    answer = client.post("/api/v1/imports", files={"roads": ("roads.geojson", data, "application/geo+json")},
                         headers=auth("admin"))
    assert answer.status_code == 422, answer.text
    assert "not numbers (NaN or infinite) at feature 2" in answer.json()["detail"]
    assert "/tmp" not in answer.text and "geogrid-upload" not in answer.text
    with session_scope(store) as session:
        assert session.scalar(select(func.count()).select_from(Road)) == before


def test_messages_name_uploads_without_server_paths(client, auth) -> None:
    answer = client.post("/api/v1/cameras", headers=auth("admin"),
                         files={"file": ("cameras.geojson", b'{"type": "FeatureCollection", "features": [', "application/geo+json")})
    assert answer.status_code == 422 and "cameras.geojson" in answer.text
    assert "/tmp" not in answer.text and "geogrid-upload" not in answer.text


def test_formula_cells_from_hotline_files_are_neutralised_in_open311(client, store, auth, users) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    body = hotline(client, auth, {"工单编号": ["H-F"], "问题类型": ["城市管理"], "诉求内容": [FORMULA],
                                  "地址": ["@SUM(A1)"], "渠道": ["citizen_app"], "经度": [lon], "纬度": [lat]})
    case_id = body["results"][0]["incident_id"]
    answer = client.get(f"/open311/v2/requests/{case_id}.json")
    assert answer.status_code == 200, answer.text
    request = answer.json()[0]
    assert request["description"] == "'" + FORMULA and request["address"] == "'@SUM(A1)"
    stored = client.get(f"/api/v1/incidents/{case_id}", headers=auth("admin")).json()
    assert stored["description"] == FORMULA  # stored as sent; only exports quote it

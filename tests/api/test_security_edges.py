"""Issue 17, defect 4: numbers past 2^63, areas without grids and NUL characters give 4xx at the edge, never 500."""

from __future__ import annotations

import pytest

BIG = 2**64 + 7
LARGEST_ID = 2**31 - 1  # ids are INTEGER columns (32 bits on PostgreSQL)
LARGEST_OFFSET = 2**63 - 1

OVERSIZED = [  # (method, url, json body): every id or offset the API takes, past 2^63
    ("GET", f"/api/v1/plans/{BIG}", None),
    ("POST", f"/api/v1/plans/{BIG}/drafts", None),
    ("POST", f"/api/v1/plans/{BIG}/publish", None),
    ("GET", f"/api/v1/plans/{BIG}/export", None),
    ("POST", f"/api/v1/plans/{BIG}/edits", {"op": "merge", "grids": ["a", "b"]}),
    ("POST", f"/api/v1/plans/{BIG}/undo", None),
    ("GET", f"/api/v1/plans/compare?a={BIG}&b=1", None),
    ("GET", f"/api/v1/plans/compare?a=1&b={BIG}", None),
    ("GET", f"/api/v1/incidents/{BIG}", None),
    ("POST", f"/api/v1/incidents/{BIG}/actions", {"action": "accept"}),
    ("POST", f"/api/v1/incidents/{BIG}/place", {"grid_code": "360702-001-001-01"}),
    ("GET", f"/api/v1/incidents/{BIG}/cameras", None),
    ("GET", f"/api/v1/incidents?offset={BIG}", None),
    ("GET", f"/api/v1/incidents/{2**31}", None),
    ("GET", f"/api/v1/plans/{2**31}", None),
    ("GET", f"/api/v1/communities/360702-001-001/grids?plan_id={BIG}", None),
    ("GET", f"/api/v1/grids/360702-001-001-01?plan_id={BIG}", None),
    ("GET", f"/tiles/grids/14/{BIG}/{BIG}.pbf?plan={BIG}", None),
    ("GET", f"/ogc/collections/grids/items?offset={BIG}", None),
]


@pytest.mark.parametrize(("method", "url", "body"), OVERSIZED)
def test_ids_and_offsets_past_2_63_are_refused_at_the_edge(reader, auth, method, url, body) -> None:
    answer = reader.request(method, url, json=body, headers=auth("admin"))
    assert answer.status_code in (400, 404, 422), (url, answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("url", [f"/api/v1/plans/{LARGEST_ID}", f"/api/v1/incidents/{LARGEST_ID}"])
def test_the_largest_id_is_simply_not_found(reader, auth, url) -> None:
    assert reader.get(url, headers=auth("admin")).status_code == 404


def test_the_largest_offset_is_an_empty_page(reader, auth) -> None:
    answer = reader.get("/api/v1/incidents", params={"offset": LARGEST_OFFSET}, headers=auth("admin"))
    assert answer.status_code == 200 and answer.json()["items"] == []


@pytest.mark.parametrize("url", [f"/open311/v2/requests/{BIG}.json", "/open311/v2/requests/" + "9" * 5000 + ".json",
                                 "/open311/v2/requests/²³.json"])
def test_open311_ids_past_2_63_are_not_found(reader, url) -> None:
    answer = reader.get(url)
    assert answer.status_code == 404 and answer.json()[0]["code"] == 404


def test_open311_id_lists_past_2_63_are_400(reader) -> None:
    answer = reader.get("/open311/v2/requests.json", params={"service_request_id": f"1,{BIG}"})
    assert answer.status_code == 400 and str(BIG) in answer.json()[0]["description"]


def test_hot_spots_of_an_area_without_grids_are_an_empty_map(reader, auth) -> None:
    answer = reader.get("/api/v1/density/hotspots", params={"area": "360702-999"}, headers=auth("admin"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["type"] == "FeatureCollection" and answer.json()["features"] == []


@pytest.mark.parametrize("url", ["/api/v1/grids/360702%00", "/api/v1/incidents?area=36%0002",
                                 "/ogc/collections/grids/items/a%00b"])
def test_nul_characters_in_the_path_or_query_are_422(reader, auth, url) -> None:
    answer = reader.get(url, headers=auth("admin"))
    assert answer.status_code == 422 and "NUL" in answer.json()["detail"][0]["msg"]


def test_a_nul_character_in_a_report_is_422_and_stores_nothing(client, auth) -> None:
    body = {"category": "city_management", "description": "占道\x00经营", "address": "和平路3号",
            "location": {"lon": 114.93, "lat": 25.83}}
    before = client.get("/api/v1/incidents", headers=auth("admin")).json()["total"]
    answer = client.post("/api/v1/incidents", json=body, headers=auth("admin"))
    assert answer.status_code == 422 and "NUL" in str(answer.json()["detail"])
    assert client.get("/api/v1/incidents", headers=auth("admin")).json()["total"] == before

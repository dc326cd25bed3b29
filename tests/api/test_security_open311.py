"""Issue 17, defect 7: the public Open311 list shows only what the taxonomy makes public (citizen-facing categories
from citizen channels), with points rounded to about 50 m; staff-only cases are not found."""

from __future__ import annotations

import math

import pytest

from geogrid.incidents.open311 import public_point
from geogrid.incidents.taxonomy import load_taxonomy
from tests.api.test_incidents import grid_point, report

V2 = "/open311/v2"


def listed(client) -> dict[int, dict]:
    answer = client.get(f"{V2}/requests.json")
    assert answer.status_code == 200, answer.text
    return {item["service_request_id"]: item for item in answer.json()}


def test_only_citizen_facing_categories_from_citizen_channels_are_public(client, store, auth, users) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    cases = {
        (category, channel): report(client, auth("admin"), lon, lat, category=category, channel=channel)["id"]
        for category, channel in (("city_management", "citizen_app"), ("livelihood_services", "hotline_12345"),
                                  ("public_security", "citizen_app"), ("disputes", "hotline_12345"),
                                  ("city_management", "grid_patrol"), ("city_management", "video_patrol"))
    }
    public = {cases["city_management", "citizen_app"], cases["livelihood_services", "hotline_12345"]}
    shown = listed(client)
    assert set(shown) & set(cases.values()) == public
    private = set(cases.values()) - public
    for case_id in private:
        assert client.get(f"{V2}/requests/{case_id}.json").status_code == 404
        by_id = client.get(f"{V2}/requests.json", params={"service_request_id": str(case_id)}).json()
        assert by_id == []
    asked = client.get(f"{V2}/requests.json", params={"service_code": "public_security,disputes"}).json()
    assert asked == []
    for case_id in public:
        item = shown[case_id]
        moved = math.dist((item["lat"], item["long"] * math.cos(math.radians(lat))), (lat, lon * math.cos(math.radians(lat))))
        assert 0 < moved * 111_320 <= 40 and (item["lat"], item["long"]) == public_point(lat, lon, 50)
    staff = client.get("/api/v1/incidents", headers=auth("admin")).json()["items"]
    assert {i["id"] for i in staff} >= set(cases.values())  # staff still see every case, exactly placed
    assert all(i["location"]["lon"] == lon for i in staff if i["id"] in cases.values())


@pytest.mark.parametrize(("lat", "lon"), [(25.8301, 114.9288), (39.9, 116.4), (-33.86, 151.2), (0.0, 0.0)])
def test_public_points_snap_to_about_50_m(lat, lon) -> None:
    shown_lat, shown_lon = public_point(lat, lon, 50)
    assert abs(shown_lat - lat) * 111_320 <= 25.1
    assert abs(shown_lon - lon) * 111_320 * math.cos(math.radians(shown_lat)) <= 25.1
    assert public_point(lat, lon, 0) == (lat, lon) and public_point(None, None, 50) == (None, None)


def test_the_default_taxonomy_keeps_security_and_disputes_private() -> None:
    taxonomy = load_taxonomy()
    assert set(taxonomy.public_categories()) == {"city_management", "environment_sanitation", "livelihood_services"}
    assert set(taxonomy.public_channels()) == {"citizen_app", "hotline_12345"}
    assert not taxonomy.is_public("public_security", "citizen_app") and not taxonomy.is_public("city_management",
                                                                                                 "grid_patrol")

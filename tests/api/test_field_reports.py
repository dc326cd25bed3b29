"""Reporting from the field over HTTP: nearby open cases, "me too", duplicates, category questions, photos."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pyproj import Geod

from tests.api.test_incidents import act, grid_point, report

GEOD = Geod(ellps="WGS84")


def moved(lon: float, lat: float, metres: float, azimuth: float = 90.0) -> tuple[float, float]:
    """The point metres away from (lon, lat) towards azimuth (degrees from north)."""
    x, y, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return float(x), float(y)


def nearby(client, headers, lon, lat, category="city_management", **extra):
    params = {"lon": lon, "lat": lat, "category": category} | extra
    answer = client.get("/api/v1/incidents/nearby", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (640, 480), (30, 120, 30))
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (25.0, 51.0, 0.0), 3: "E", 4: (114.0, 56.0, 0.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def upload(client, headers, data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return client.post("/api/v1/media", files={"file": (name, data, content_type)}, headers=headers)


@pytest.fixture
def worker_grid(users: dict) -> str:
    return users["worker"][1]


def test_open_cases_of_the_category_within_250_m_are_listed_nearest_first(client, store, auth, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    near = report(client, auth("worker"), lon, lat)
    other_kind = report(client, auth("worker"), lon, lat, category="disputes", description="邻里纠纷")
    found = nearby(client, auth("worker"), *moved(lon, lat, 120))
    assert [i["id"] for i in found["items"]] == [near["id"]] and found["radius_m"] == 250
    assert found["items"][0]["distance_m"] == pytest.approx(120, abs=1)
    assert nearby(client, auth("worker"), *moved(lon, lat, 260))["items"] == []
    assert [i["id"] for i in nearby(client, auth("worker"), lon, lat, "disputes")["items"]] == [other_kind["id"]]
    assert nearby(client, auth("worker"), *moved(lon, lat, 260), radius_m=300)["items"][0]["id"] == near["id"]
    # a handled case is still open until verified; a closed one is not listed
    assert act(client, auth("worker"), near["id"], "accept").status_code == 200
    assert act(client, auth("worker"), near["id"], "handle").status_code == 200
    assert [i["id"] for i in nearby(client, auth("worker"), lon, lat)["items"]] == [near["id"]]
    assert act(client, auth("leader"), near["id"], "close").status_code == 200
    assert nearby(client, auth("worker"), lon, lat)["items"] == []


def test_nearby_refuses_an_unknown_category_and_a_bad_point(client, auth) -> None:
    answer = client.get("/api/v1/incidents/nearby", params={"lon": 114.9, "lat": 25.8, "category": "ufo"},
                        headers=auth("worker"))
    assert answer.status_code == 422 and "unknown category 'ufo'" in answer.json()["detail"]
    answer = client.get("/api/v1/incidents/nearby", params={"lon": 514.9, "lat": 25.8, "category": "disputes"},
                        headers=auth("worker"))
    assert answer.status_code in (400, 422)


def test_nearby_shows_only_cases_the_caller_may_see(client, store, auth, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    report(client, auth("worker"), lon, lat)
    assert len(nearby(client, auth("leader"), lon, lat)["items"]) == 1
    assert nearby(client, auth("leader_s2"), lon, lat)["items"] == []  # a leader of another street


def test_me_too_adds_to_the_open_case_instead_of_a_second_case(client, store, auth, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    case = report(client, auth("worker"), lon, lat)
    before = client.get("/api/v1/incidents", params={"area": worker_grid}, headers=auth("worker")).json()["total"]
    photo = upload(client, auth("leader"), jpeg_with_gps()).json()["url"]
    answer = client.post(f"/api/v1/incidents/{case['id']}/attach", headers=auth("leader"),
                         json={"note": "又有人占道", "media_urls": [photo], "location": {"lon": lon, "lat": lat}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "reported"
    trace = client.get(f"/api/v1/incidents/{case['id']}", headers=auth("worker")).json()["trace"]
    assert [e["action"] for e in trace] == ["report", "attach"]
    assert trace[1]["username"] == "leader" and trace[1]["note"] == "又有人占道"
    assert trace[1]["data"]["media_urls"] == [photo] and trace[1]["data"]["lon"] == pytest.approx(lon)
    after = client.get("/api/v1/incidents", params={"area": worker_grid}, headers=auth("worker")).json()["total"]
    assert after == before
    # the photo of the step is shown to whoever sees the case
    assert client.get(photo, headers=auth("worker")).status_code == 200


def test_me_too_is_refused_on_a_closed_case_and_one_out_of_sight(client, store, auth, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    case = report(client, auth("worker"), lon, lat)
    hidden = client.post(f"/api/v1/incidents/{case['id']}/attach", headers=auth("leader_s2"), json={})
    assert hidden.status_code == 404
    for action, who in (("accept", "worker"), ("handle", "worker"), ("close", "leader")):
        assert act(client, auth(who), case["id"], action).status_code == 200
    closed = client.post(f"/api/v1/incidents/{case['id']}/attach", headers=auth("worker"), json={"note": "x"})
    assert closed.status_code == 409 and "report a new case" in closed.json()["detail"]


def test_staff_mark_a_duplicate_and_both_traces_keep_it(client, store, auth, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    first = report(client, auth("worker"), lon, lat)
    second = report(client, auth("worker"), *moved(lon, lat, 5))
    assert "mark_duplicate" not in second["allowed_actions"]
    refused = act(client, auth("worker"), second["id"], "mark_duplicate", duplicate_of=first["id"])
    assert refused.status_code == 403 and "community" in refused.json()["detail"]
    assert act(client, auth("leader"), second["id"], "mark_duplicate").status_code == 422
    assert act(client, auth("leader"), second["id"], "mark_duplicate", duplicate_of=second["id"]).status_code == 422
    assert act(client, auth("leader"), second["id"], "mark_duplicate", duplicate_of=10**9).status_code == 404
    answer = act(client, auth("leader"), second["id"], "mark_duplicate", duplicate_of=first["id"], note="同一处")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "closed"
    second_trace = client.get(f"/api/v1/incidents/{second['id']}", headers=auth("leader")).json()["trace"]
    assert second_trace[-1]["action"] == "mark_duplicate" and second_trace[-1]["data"]["duplicate_of"] == first["id"]
    first_case = client.get(f"/api/v1/incidents/{first['id']}", headers=auth("leader")).json()
    assert first_case["status"] == "reported"
    assert first_case["trace"][-1]["action"] == "attach" and first_case["trace"][-1]["data"] == {"duplicate": second["id"]}
    # a duplicate is not an original: a third case cannot be marked a duplicate of it
    third = report(client, auth("worker"), lon, lat)
    chained = act(client, auth("leader"), third["id"], "mark_duplicate", duplicate_of=second["id"])
    assert chained.status_code == 409 and "itself a duplicate" in chained.json()["detail"]


def test_category_questions_are_answered_and_kept_with_the_case(client, store, auth, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    taxonomy = client.get("/api/v1/taxonomy", headers=auth("worker")).json()
    assert taxonomy["categories"]["fire_safety"]["attributes"][0]["code"] == "exit_blocked"
    body = {"category": "fire_safety", "description": "楼道堆物", "location": {"lon": lon, "lat": lat}}
    missing = client.post("/api/v1/incidents", json=body, headers=auth("worker"))
    assert missing.status_code == 422 and "attributes.exit_blocked is required" in missing.json()["detail"]
    wrong = client.post("/api/v1/incidents", json=body | {"attributes": {"exit_blocked": "maybe"}}, headers=auth("worker"))
    assert wrong.status_code == 422 and "maybe" in wrong.json()["detail"]
    case = report(client, auth("worker"), lon, lat, category="fire_safety",
                  attributes={"exit_blocked": "yes", "floor": "3"})
    assert case["attributes"] == {"exit_blocked": "yes", "floor": 3.0}
    stored = client.get(f"/api/v1/incidents/{case['id']}", headers=auth("leader")).json()
    assert stored["attributes"] == {"exit_blocked": "yes", "floor": 3.0}


def test_a_category_must_be_named(client, store, auth, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    answer = client.post("/api/v1/incidents", json={"description": "x", "location": {"lon": lon, "lat": lat}},
                         headers=auth("worker"))
    assert answer.status_code in (400, 422) and "category" in answer.text


def test_a_photo_is_checked_stripped_and_shown_only_to_those_who_see_its_case(client, store, auth, worker_grid) -> None:
    answer = upload(client, auth("worker"), jpeg_with_gps(), name="IMG_0001.JPG")
    assert answer.status_code == 201, answer.text
    photo = answer.json()
    assert photo["url"].startswith("/media/") and photo["location_removed"] and photo["media_type"] == "image/jpeg"
    shown = client.get(photo["url"], headers=auth("worker"))
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert len(Image.open(io.BytesIO(shown.content)).getexif()) == 0  # no GPS position, no EXIF at all
    thumb = client.get(photo["thumbnail_url"], headers=auth("worker"))
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.content)).size) == 320
    assert client.get(photo["url"], headers=auth("leader")).status_code == 404  # no case names it yet
    lon, lat = grid_point(store, worker_grid)
    case = report(client, auth("worker"), lon, lat, media_urls=[photo["url"]])
    assert case["media_urls"] == [photo["url"]]
    assert client.get(photo["url"], headers=auth("leader")).status_code == 200
    assert client.get(photo["thumbnail_url"], headers=auth("leader_c")).status_code == 200
    assert client.get(photo["url"], headers=auth("leader_s2")).status_code == 404  # another street's leader
    assert client.get(photo["url"]).status_code == 401


def test_a_handling_step_carries_its_photo(client, store, auth, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    case = report(client, auth("worker"), lon, lat)
    assert act(client, auth("worker"), case["id"], "accept").status_code == 200
    photo = upload(client, auth("worker"), jpeg_with_gps()).json()["url"]
    assert client.get(photo, headers=auth("leader")).status_code == 404
    assert act(client, auth("worker"), case["id"], "handle", media_urls=[photo], note="已清理").status_code == 200
    trace = client.get(f"/api/v1/incidents/{case['id']}", headers=auth("leader")).json()["trace"]
    assert trace[-1]["action"] == "handle" and trace[-1]["data"] == {"media_urls": [photo]}
    assert client.get(photo, headers=auth("leader")).status_code == 200


@pytest.mark.parametrize(("data", "name", "content_type"), [
    (b"<html><script>alert(1)</script></html>", "evil.jpg", "image/jpeg"),
    (b"MZ\x90\x00 not an image", "photo.png", "image/png"),
])
def test_a_file_that_is_not_a_photo_by_its_content_is_refused(client, auth, data, name, content_type) -> None:
    answer = upload(client, auth("worker"), data, name, content_type)
    assert answer.status_code == 422 and "not a photo" in answer.json()["detail"]


def test_names_that_are_not_ours_are_not_found(client, auth) -> None:
    for name in ("../secret_key", "secret_key", "0" * 32 + ".jpg", "x.jpg.json"):
        assert client.get(f"/media/{name}", headers=auth("admin")).status_code == 404


def test_a_photo_past_the_size_limit_is_refused_with_413(settings, auth) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(settings.model_copy(update={"max_photo_mb": 1}))) as small:
        answer = upload(small, auth("worker"), b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024))
    assert answer.status_code == 413 and "GEOGRID_MAX_PHOTO_MB" in answer.json()["detail"]

"""Case photos in an S3-compatible bucket (a real S3 protocol server, moto's, on localhost), on both databases:
uploaded into the bucket, read back through the API by those who may see the case only, and a store that is down
answers 503 naming it, with no case left naming a photo that was not kept."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from api.app import create_app
from api.settings import Settings
from geogrid.db.models import Incident, IncidentEvent
from geogrid.db.session import session_scope
from tests.api.test_field_reports import jpeg_with_gps, upload
from tests.api.test_incidents import act, grid_point, report
from tests.s3_support import S3Server, down_endpoint, s3_server, s3_settings  # noqa: F401

PREFIX = "geogrid/media"


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    return s3_server.new_bucket()


@pytest.fixture
def s3_client(settings: Settings, s3_server: S3Server, bucket: str) -> Iterator[TestClient]:
    """The app keeping its photos in the bucket under PREFIX."""
    update = s3_settings(s3_server.endpoint_url, bucket, media_s3_prefix=PREFIX)
    with TestClient(create_app(settings.model_copy(update=update))) as client:
        yield client


@pytest.fixture
def down_client(settings: Settings, bucket: str, down_endpoint: str) -> Iterator[TestClient]:  # noqa: F811
    """The same service and database, its bucket's store down."""
    with TestClient(create_app(settings.model_copy(update=s3_settings(down_endpoint, bucket)))) as client:
        yield client


def count(store, model) -> int:
    with session_scope(store) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_photo_is_kept_in_the_bucket_and_shown_only_to_those_who_see_its_case(
        s3_client, s3_server, bucket, settings, store, auth, users) -> None:
    answer = upload(s3_client, auth("worker"), jpeg_with_gps(), name="IMG_0001.JPG")
    assert answer.status_code == 201, answer.text
    photo = answer.json()
    name = photo["url"].removeprefix("/media/")
    assert photo["location_removed"] and photo["media_type"] == "image/jpeg"
    assert s3_server.keys(bucket) == sorted([f"{PREFIX}/{name}", f"{PREFIX}/{name}.json", f"{PREFIX}/thumbs/{name}"])
    assert not settings.photo_dir.exists() or not any(settings.photo_dir.rglob("*.jpg"))  # nothing in the folder

    shown = s3_client.get(photo["url"], headers=auth("worker"))  # the uploader
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert shown.content == s3_server.object(bucket, f"{PREFIX}/{name}")
    assert shown.headers["cache-control"].startswith("private")
    assert len(Image.open(io.BytesIO(shown.content)).getexif()) == 0  # no GPS position, no EXIF at all
    thumb = s3_client.get(photo["thumbnail_url"], headers=auth("worker"))
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.content)).size) == 320

    assert s3_client.get(photo["url"], headers=auth("leader")).status_code == 404  # no case names it yet
    lon, lat = grid_point(store, users["worker"][1])
    case = report(s3_client, auth("worker"), lon, lat, media_urls=[photo["url"]])
    assert case["media_urls"] == [photo["url"]]
    assert s3_client.get(photo["url"], headers=auth("leader")).content == shown.content
    assert s3_client.get(photo["thumbnail_url"], headers=auth("leader_c")).status_code == 200
    refused = s3_client.get(photo["url"], headers=auth("leader_s2"))  # another street's leader
    assert refused.status_code == 404 and refused.json()["detail"] == f"no photo {name!r}"
    assert s3_client.get(photo["url"]).status_code == 401


def test_a_handling_step_names_only_photos_kept_in_the_bucket(s3_client, store, auth, users) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    case = report(s3_client, auth("worker"), lon, lat)
    assert act(s3_client, auth("worker"), case["id"], "accept").status_code == 200
    events = count(store, IncidentEvent)
    refused = act(s3_client, auth("worker"), case["id"], "handle", media_urls=["/media/" + "a" * 32 + ".jpg"])
    assert refused.status_code == 422 and "no photo kept here" in refused.json()["detail"]
    assert count(store, IncidentEvent) == events
    photo = upload(s3_client, auth("worker"), jpeg_with_gps()).json()["url"]
    assert act(s3_client, auth("worker"), case["id"], "handle", media_urls=[photo]).status_code == 200
    assert s3_client.get(photo, headers=auth("leader")).status_code == 200


def test_a_store_that_is_down_answers_503_naming_it_and_nothing_names_an_unkept_photo(
        s3_client, down_client, bucket, store, auth, users) -> None:
    kept = upload(s3_client, auth("worker"), jpeg_with_gps()).json()["url"]
    incidents, events = count(store, Incident), count(store, IncidentEvent)

    answer = upload(down_client, auth("worker"), jpeg_with_gps())
    assert answer.status_code == 503 and answer.headers["content-type"] == "application/json"
    assert answer.json() == {"detail": f"the photo store (S3 bucket {bucket!r}) is unavailable: cannot write "
                                       "(no connection); try again later"}
    shown = down_client.get(kept, headers=auth("worker"))
    assert shown.status_code == 503 and f"S3 bucket {bucket!r}" in shown.json()["detail"]

    lon, lat = grid_point(store, users["worker"][1])
    body = {"category": "city_management", "location": {"lon": lon, "lat": lat}, "media_urls": [kept]}
    answer = down_client.post("/api/v1/incidents", json=body, headers=auth("worker"))
    assert answer.status_code == 503 and f"S3 bucket {bucket!r}" in answer.json()["detail"]
    case = report(s3_client, auth("worker"), lon, lat)
    incidents += 1
    answer = down_client.post(f"/api/v1/incidents/{case['id']}/attach", json={"media_urls": [kept]},
                              headers=auth("worker"))
    assert answer.status_code == 503
    assert count(store, Incident) == incidents and count(store, IncidentEvent) == events + 1  # the report's own
    # once the store is back, the same report goes through
    assert report(s3_client, auth("worker"), lon, lat, media_urls=[kept])["media_urls"] == [kept]

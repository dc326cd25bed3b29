"""Answers are compressed as the client accepts: brotli for 'br', gzip for 'gzip', none for neither.

JSON, GeoJSON and vector tiles alike; answers under 1,000 bytes are sent as they are."""

from __future__ import annotations

import gzip
import json
import math

import brotli
import mapbox_vector_tile
import pytest
from sqlalchemy import Engine

from geogrid.db.session import session_scope
from tests import edit_data

from .gis_support import *  # noqa: F403 - the GIS fixtures
from .gis_support import SignIn

DECODE = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}
ACCEPTED = [("br", "br"), ("gzip", "gzip"), ("gzip, deflate, br", "br"), ("br;q=0, gzip", "gzip"), ("identity", None),
            ("deflate", None)]


@pytest.fixture
def backend() -> str:  # compression happens after the store: one backend is enough
    return "spatialite"


@pytest.fixture
def plan(engine: Engine) -> int:
    with session_scope(engine) as session:
        return edit_data.store_published(session)


@pytest.fixture
def leader(plan: int, sign_in: SignIn) -> dict[str, str]:
    return sign_in("leader1", "leader", edit_data.DISTRICT)


def tile_path(z: int) -> str:
    lon, lat = edit_data.plan().community.centroid.coords[0]
    n = 2**z
    x, y = int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/tiles/buildings/{z}/{x}/{y}.pbf"


def raw(client, path: str, headers: dict[str, str], accept: str) -> tuple[dict[str, str], bytes]:
    """The answer's headers and its body as sent on the wire (not decoded by the client)."""
    with client.stream("GET", path, headers={**headers, "Accept-Encoding": accept}) as answer:
        assert answer.status_code == 200, answer.read()
        return dict(answer.headers), b"".join(answer.iter_raw())


@pytest.mark.parametrize(("accept", "encoding"), ACCEPTED)
@pytest.mark.parametrize(("path", "media_type"), [
    ("/openapi.json", "application/json"),
    ("/ogc/collections/buildings/items?limit=1000", "application/geo+json"),
    (f"/api/v1/communities/{edit_data.COMMUNITY}/grids", "application/geo+json"),
    (tile_path(15), "application/vnd.mapbox-vector-tile"),
])
def test_each_answer_is_compressed_as_the_client_accepts(gis_client, leader, path, media_type, accept,
                                                         encoding) -> None:
    plain_headers, plain = raw(gis_client, path, leader, "identity")
    headers, body = raw(gis_client, path, leader, accept)
    assert headers["content-type"].split(";")[0] == media_type
    assert headers.get("content-encoding") == encoding
    assert "content-encoding" not in plain_headers and int(plain_headers["content-length"]) == len(plain)
    assert int(headers["content-length"]) == len(body)
    if encoding is None:
        return
    assert "accept-encoding" in headers["vary"].lower()
    assert len(body) < len(plain) / 2  # worth it: these answers are repetitive
    decoded = DECODE[encoding](body)
    if media_type.endswith("json"):
        first, second = json.loads(plain), json.loads(decoded)
        first.pop("timeStamp", None), second.pop("timeStamp", None)  # OGC pages say when they were read
        assert first == second
    else:
        assert decoded == plain and mapbox_vector_tile.decode(decoded)["buildings"]["features"]


def test_small_answers_are_sent_as_they_are(gis_client, leader) -> None:
    headers, body = raw(gis_client, "/api/v1/auth/me", leader, "br, gzip")
    assert len(body) < 1000 and "content-encoding" not in headers

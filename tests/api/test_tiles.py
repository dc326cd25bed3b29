"""Vector tiles at /tiles/{layer}/{z}/{x}/{y}.pbf on both stores: features, empty tiles, ETags, errors, scope."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pytest
from sqlalchemy import Engine

from geogrid.db.session import session_scope
from tests import edit_data

from .gis_support import *  # noqa: F403 - the GIS fixtures
from .gis_support import SignIn

MVT = "application/vnd.mapbox-vector-tile"


@pytest.fixture
def plans(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        published = edit_data.store_published(session)
        draft = edit_data.store_another_draft(session)
    return {"published": published, "draft": draft}


@pytest.fixture
def leader(sign_in: SignIn) -> dict[str, str]:
    return sign_in("leader1", "leader", edit_data.DISTRICT)


def tile_path(layer: str, z: int, dx: int = 0) -> str:
    lon, lat = edit_data.plan().community.centroid.coords[0]
    n = 2**z
    x, y = int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/tiles/{layer}/{z}/{x + dx}/{y}.pbf"


def features(answer) -> list[dict]:
    assert answer.status_code == 200 and answer.headers["content-type"] == MVT
    layers = mapbox_vector_tile.decode(answer.content)
    assert len(layers) == 1
    return next(iter(layers.values()))["features"]


def test_a_grid_tile_decodes_to_every_grid_with_its_counts(gis_client, plans, leader) -> None:
    found = features(gis_client.get(tile_path("grids", 13), headers=leader))
    p = edit_data.plan()
    assert {f["properties"]["code"]: f["properties"]["households"] for f in found} == dict(
        zip(p.grids["grid_code"], p.grids["households"].astype(int)))
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in found)
    assert {f["properties"]["plan_id"] for f in found} == {plans["published"]}


def test_a_building_tile(gis_client, plans, leader) -> None:
    found = features(gis_client.get(tile_path("buildings", 15), headers=leader))
    ids = set(edit_data.plan().buildings["building_id"])
    assert found and {f["properties"]["id"] for f in found} <= ids
    assert {"id", "community_code", "households", "population"} <= set(found[0]["properties"])
    assert gis_client.get(tile_path("buildings", 11), headers=leader).status_code == 204  # below zoom 13


def test_empty_tiles_are_204_and_etags_revalidate(gis_client, plans, leader) -> None:
    assert gis_client.get(tile_path("grids", 14, dx=40), headers=leader).status_code == 204
    first = gis_client.get(tile_path("grids", 14), headers=leader)
    assert first.status_code == 200 and first.headers["ETag"].startswith('"')
    assert "private" in first.headers["Cache-Control"]
    again = gis_client.get(tile_path("grids", 14), headers=leader | {"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""


def test_an_edit_changes_the_draft_tile(gis_client, plans, sign_in) -> None:
    planner = sign_in("planner1", "planner", edit_data.STREET)
    path = tile_path("grids", 14) + f"?plan={plans['draft']}"
    before = gis_client.get(path, headers=planner)
    p = edit_data.plan()
    a, b, _ = edit_data.neighbours(p)[0]
    merged = gis_client.post(f"/api/v1/plans/{plans['draft']}/edits", headers=planner | {"If-Match": '"1"'},
                             json={"op": "merge", "grids": [a, b]})
    assert merged.status_code == 200
    after = gis_client.get(path, headers=planner | {"If-None-Match": before.headers["ETag"]})
    codes = {f["properties"]["code"] for f in features(after)}
    assert a in codes and b not in codes
    published = {f["properties"]["code"] for f in features(gis_client.get(tile_path("grids", 14), headers=planner))}
    assert b in published


@pytest.mark.parametrize("path", ["/tiles/roads/14/0/0.pbf", "/tiles/grids/14/16384/0.pbf", "/tiles/grids/25/0/0.pbf"])
def test_unknown_layers_and_tiles_are_404(gis_client, plans, leader, path) -> None:
    assert gis_client.get(path, headers=leader).status_code == 404


def test_scope(gis_client, plans, sign_in) -> None:
    assert gis_client.get(tile_path("grids", 14)).status_code == 401
    elsewhere = sign_in("leader2", "leader", "360799")
    assert gis_client.get(tile_path("grids", 14), headers=elsewhere).status_code == 204
    code = f"{edit_data.COMMUNITY}-02"
    worker = sign_in("worker1", "grid_worker", code)
    mine = features(gis_client.get(tile_path("grids", 14), headers=worker))
    assert [f["properties"]["code"] for f in mine] == [code]
    draft = gis_client.get(tile_path("grids", 14) + f"?plan={plans['draft']}", headers=worker)
    assert draft.status_code == 403
    assert gis_client.get(tile_path("grids", 14) + "?plan=999", headers=worker).status_code == 404


@pytest.mark.parametrize("layer", ["grids", "buildings"])
def test_tilejson_describes_each_layer_as_its_tiles_hold_it(gis_client, plans, leader, layer) -> None:
    answer = gis_client.get(f"/tiles/{layer}.json", headers=leader)
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["tilejson"] == "3.0.0" and doc["tiles"] == [f"http://testserver/tiles/{layer}/{{z}}/{{x}}/{{y}}.pbf"]
    assert doc["minzoom"] == (0 if layer == "grids" else 13) and doc["maxzoom"] == 24
    minx, miny, maxx, maxy = doc["bounds"]
    lon, lat = edit_data.plan().community.centroid.coords[0]
    assert minx < lon < maxx and miny < lat < maxy
    (described,) = doc["vector_layers"]
    tile = gis_client.get(tile_path(layer, 15), headers=leader)
    held = set().union(*(f["properties"] for f in features(tile)))
    assert described["id"] == layer and held <= set(described["fields"])  # every attribute a tile holds is described
    zipped = gis_client.get(tile_path(layer, 15), headers={**leader, "Accept-Encoding": "gzip"})
    assert zipped.headers.get("content-encoding") == "gzip" and zipped.content == tile.content


def test_tilejson_needs_a_token_and_a_known_layer(gis_client, plans, leader) -> None:
    assert gis_client.get("/tiles/grids.json").status_code == 401
    missing = gis_client.get("/tiles/roads.json", headers=leader)
    assert missing.status_code == 404 and "no tile layer 'roads'" in missing.json()["detail"]

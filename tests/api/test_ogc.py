"""OGC API - Features under /ogc on both stores: documents, links, paging, bbox, errors and scope."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import Engine

from geogrid.db.session import session_scope
from geogrid.partition.rules import Rules
from geogrid.store.imports import import_layer
from geogrid.store.plans import publish, save_partition
from tests import edit_data

from .gis_support import *
from .gis_support import SignIn

GEOJSON = "application/geo+json"


@pytest.fixture
def published(engine: Engine) -> int:
    with session_scope(engine) as session:
        for kind, gdf in edit_data.layers().items():
            import_layer(session, kind, gdf)
        _, _, result = edit_data.partitioned()
        plan = save_partition(session, edit_data.COMMUNITY, result, Rules(), "planner").id
        publish(session, plan, "leader")
        save_partition(session, edit_data.COMMUNITY, result, Rules(), "planner")  # a draft: never served here
    return plan


@pytest.fixture
def leader(sign_in: SignIn) -> dict[str, str]:
    return sign_in("leader1", "leader", edit_data.DISTRICT)


def test_landing_conformance_and_collections(gis_client, published, leader) -> None:
    landing = gis_client.get("/ogc", headers=leader)
    assert landing.status_code == 200
    rels = {link["rel"]: link for link in landing.json()["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["data"]["href"].endswith("/ogc/collections")
    classes = gis_client.get("/ogc/conformance", headers=leader).json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in classes
    found = gis_client.get("/ogc/collections", headers=leader).json()["collections"]
    assert [c["id"] for c in found] == ["grids", "communities", "buildings"]
    grids = gis_client.get("/ogc/collections/grids", headers=leader).json()
    minx, miny, maxx, maxy = grids["extent"]["spatial"]["bbox"][0]
    assert shapely.box(minx, miny, maxx, maxy).contains(shapely.buffer(edit_data.plan().community, -1e-6))
    items = next(link for link in grids["links"] if link["rel"] == "items")
    assert items["type"] == GEOJSON and items["href"].endswith("/ogc/collections/grids/items")


def test_items_page_through_with_next_links(gis_client, published, leader) -> None:
    n_grids = len(edit_data.plan().grids)
    seen, url, pages = [], "/ogc/collections/grids/items?limit=7", 0
    while url:
        answer = gis_client.get(url, headers=leader)
        assert answer.status_code == 200 and answer.headers["content-type"] == GEOJSON
        page = answer.json()
        assert page["type"] == "FeatureCollection" and page["numberMatched"] == n_grids
        assert page["numberReturned"] == len(page["features"]) <= 7
        seen += [f["id"] for f in page["features"]]
        rels = {link["rel"]: link["href"] for link in page["links"]}
        assert pages == 0 or "prev" in rels
        url, pages = rels.get("next"), pages + 1
    assert pages == -(-n_grids // 7) and seen == sorted(seen) and len(set(seen)) == n_grids
    feature = page["features"][-1]
    assert feature["properties"]["plan_id"] == published and shape(feature["geometry"]).is_valid
    assert {"households", "population", "within_limits", "flags", "flag_count"} <= set(feature["properties"])


def test_offset_limit_and_bbox(gis_client, published, leader) -> None:
    whole = gis_client.get("/ogc/collections/buildings/items?limit=10000", headers=leader).json()
    assert whole["numberReturned"] == whole["numberMatched"] == len(edit_data.plan().buildings)
    assert not any(link["rel"] == "next" for link in whole["links"])
    ids = [f["id"] for f in whole["features"]]
    middle = gis_client.get("/ogc/collections/buildings/items?limit=5&offset=20", headers=leader).json()
    assert [f["id"] for f in middle["features"]] == ids[20:25]
    lon, lat = edit_data.plan().community.centroid.coords[0]
    box = shapely.box(lon - 0.0008, lat - 0.0006, lon + 0.0008, lat + 0.0006)
    inside = gis_client.get("/ogc/collections/buildings/items",
                            params={"bbox": ",".join(map(str, box.bounds)), "limit": 1000}, headers=leader).json()
    expected = {f["id"] for f in whole["features"] if shape(f["geometry"]).intersects(box)}
    assert {f["id"] for f in inside["features"]} == expected and 0 < inside["numberMatched"] < len(ids)
    filtered = gis_client.get("/ogc/collections/grids/items", params={"community_code": "nope"}, headers=leader).json()
    assert filtered["numberMatched"] == 0 and filtered["features"] == []


def test_one_feature(gis_client, published, leader) -> None:
    code = f"{edit_data.COMMUNITY}-01"
    answer = gis_client.get(f"/ogc/collections/grids/items/{code}", headers=leader)
    assert answer.status_code == 200 and answer.headers["content-type"] == GEOJSON
    feature = answer.json()
    assert feature["type"] == "Feature" and feature["id"] == code
    assert {link["rel"] for link in feature["links"]} == {"self", "collection"}
    assert gis_client.get("/ogc/collections/grids/items/nope", headers=leader).status_code == 404
    assert gis_client.get("/ogc/collections/nope/items", headers=leader).status_code == 404


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("limit=0", "limit must be at least 1"),
        ("limit=ten", "whole number"),
        ("offset=-1", "offset must be at least 0"),
        (f"offset={2**63}", f"offset must be at most {2**63 - 1}"),
        ("bbox=1,2,3", "four numbers"),
        ("bbox=10,0,-10,1", "antimeridian"),
        ("bbox=0,95,1,96", "longitude/latitude"),
        ("colour=red", "unknown query parameter colour"),
        ("f=html", "f must be json"),
    ],
)
def test_bad_parameters_are_400(gis_client, published, leader, query, words) -> None:
    answer = gis_client.get(f"/ogc/collections/grids/items?{query}", headers=leader)
    assert answer.status_code == 400 and words in answer.json()["detail"]


def test_scope(gis_client, published, sign_in) -> None:
    assert gis_client.get("/ogc/collections/grids/items").status_code == 401
    elsewhere = sign_in("leader2", "leader", "360799")
    assert gis_client.get("/ogc/collections/grids/items", headers=elsewhere).json()["numberMatched"] == 0
    code = f"{edit_data.COMMUNITY}-03"
    worker = sign_in("worker1", "grid_worker", code)
    mine = gis_client.get("/ogc/collections/grids/items", headers=worker).json()
    assert [f["id"] for f in mine["features"]] == [code]
    houses = gis_client.get("/ogc/collections/buildings/items?limit=1000", headers=worker).json()
    expected = edit_data.plan().assignments.query("grid_code == @code")["building_id"]
    assert sorted(f["id"] for f in houses["features"]) == sorted(expected)
    assert gis_client.get("/ogc/collections/communities/items", headers=worker).json()["numberMatched"] == 0
    assert gis_client.get(f"/ogc/collections/grids/items/{edit_data.COMMUNITY}-01", headers=worker).status_code == 404


def test_department_staff_see_no_map(gis_client, published, sign_in) -> None:
    staff = sign_in("staff1", "department_staff", edit_data.DISTRICT)
    for path in ("/ogc/collections/grids/items", "/tiles/grids/14/0/0.pbf"):
        answer = gis_client.get(path, headers=staff)
        assert answer.status_code == 403 and "department staff" in answer.json()["detail"]


def test_a_limit_above_the_maximum_is_capped_not_refused(gis_client, published, leader) -> None:
    answer = gis_client.get("/ogc/collections/buildings/items?limit=50000", headers=leader)
    assert answer.status_code == 200
    page = answer.json()
    assert page["numberReturned"] == min(page["numberMatched"], 10_000)
    default = gis_client.get("/ogc/collections/buildings/items", headers=leader).json()
    assert default["numberReturned"] == 10 and "limit=10" in next(l["href"] for l in default["links"] if l["rel"] == "next")


def test_queryables_list_what_items_filter_by(gis_client, published, leader) -> None:
    grids = gis_client.get("/ogc/collections/grids", headers=leader).json()
    link = next(l for l in grids["links"] if l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/queryables")
    answer = gis_client.get(link["href"], headers=leader)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/schema+json"
    schema = answer.json()
    assert schema["type"] == "object" and schema["$id"] == link["href"]
    assert schema["properties"] == {"community_code": {"title": "community_code", "type": "string"},
                                    "code": {"title": "code", "type": "string"}}
    for name in schema["properties"]:  # each queryable filters the items
        code = f"{edit_data.COMMUNITY}-01" if name == "code" else edit_data.COMMUNITY
        found = gis_client.get("/ogc/collections/grids/items", params={name: code}, headers=leader).json()
        assert found["numberMatched"] >= 1 and all(f["properties"][name] == code for f in found["features"])
    classes = gis_client.get("/ogc/conformance", headers=leader).json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables" in classes
    assert gis_client.get("/ogc/collections/nope/queryables", headers=leader).status_code == 404


def test_extents_are_rounded_outwards_without_float_noise(gis_client, published, leader) -> None:
    for collection in gis_client.get("/ogc/collections", headers=leader).json()["collections"]:
        box = collection["extent"]["spatial"]["bbox"][0]
        assert all(len(repr(v).split(".")[1]) <= 7 for v in box), box
    buildings = edit_data.plan().buildings.to_crs(4326).total_bounds
    minx, miny, maxx, maxy = gis_client.get("/ogc/collections/buildings", headers=leader).json()["extent"]["spatial"]["bbox"][0]
    assert minx <= buildings[0] and miny <= buildings[1] and maxx >= buildings[2] and maxy >= buildings[3]


def test_the_openapi_describes_the_ogc_paths_as_answered(gis_client, published, leader) -> None:
    landing = gis_client.get("/ogc", headers=leader).json()
    desc = next(l for l in landing["links"] if l["rel"] == "service-desc")
    assert desc["type"] == "application/vnd.oai.openapi+json;version=3.0"
    document = gis_client.get(desc["href"]).json()
    items = document["paths"]["/ogc/collections/{collection_id}/items"]["get"]
    parameters = {p["name"]: p for p in items["parameters"]}
    assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 10}
    assert parameters["bbox"]["schema"]["type"] == "array" and parameters["bbox"]["explode"] is False
    assert parameters["offset"]["schema"]["type"] == "integer"
    for path, operations in document["paths"].items():
        if path.startswith("/ogc"):
            answers = operations["get"]["responses"]
            assert "422" not in answers and {"400", "401", "403"} <= set(answers), path
            assert ("404" in answers) == ("{" in path), path
    page = gis_client.get("/ogc/collections/grids/items?limit=ten", headers=leader)
    assert page.status_code == 400  # what the document says


def test_json_and_geojson_are_gzipped_for_clients_that_accept_it(gis_client, published, leader) -> None:
    plain = gis_client.get("/ogc/collections/buildings/items?limit=1000", headers={**leader, "Accept-Encoding": "identity"})
    zipped = gis_client.get("/ogc/collections/buildings/items?limit=1000", headers={**leader, "Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers and zipped.headers["content-encoding"] == "gzip"
    assert zipped.json() == {**plain.json(), "timeStamp": zipped.json()["timeStamp"]}
    assert int(zipped.headers["content-length"]) < len(plain.content) / 3
    assert zipped.headers["content-type"] == GEOJSON

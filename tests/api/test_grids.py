"""Grids as GeoJSON: a community's grids, one grid with its buildings, and who may see them."""

from __future__ import annotations

import json

import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy import select

from geogrid.db.models import Grid
from geogrid.store.plans import published_plan

from .conftest import District

GEOJSON = "application/geo+json"


def geojson(answer) -> dict:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith(GEOJSON)
    return json.loads(answer.content)


def check_feature(feature: dict, kinds: tuple[str, ...]) -> None:
    """An RFC 7946 Feature with a valid lon/lat geometry of one of kinds."""
    assert feature["type"] == "Feature" and isinstance(feature["properties"], dict) and "id" in feature
    assert feature["geometry"]["type"] in kinds
    geom = shape(feature["geometry"])
    assert geom.is_valid and not geom.is_empty
    minx, miny, maxx, maxy = geom.bounds
    assert 73 < minx <= maxx < 136 and 3 < miny <= maxy < 54  # lon/lat, inside China


def test_a_communitys_grids_are_a_valid_feature_collection(reader: TestClient, auth, district: District) -> None:
    code = district.urban()
    body = geojson(reader.get(f"/api/v1/communities/{code}/grids", headers=auth("planner")))
    assert body["type"] == "FeatureCollection" and body["community_code"] == code
    assert body["plan"]["status"] == "published"
    with reader.app.state.sessions() as session:
        plan = published_plan(session, code)
        stored = {g.code: g for g in session.scalars(select(Grid).where(Grid.plan_version_id == plan.id))}
    assert body["plan"]["id"] == plan.id
    assert [f["id"] for f in body["features"]] == sorted(stored)
    for feature in body["features"]:
        check_feature(feature, ("MultiPolygon",))
        grid, props = stored[feature["id"]], feature["properties"]
        assert props["grid_code"] == grid.code and props["community_code"] == code
        assert (props["households"], props["population"], props["building_count"]) == (
            grid.households,
            grid.population,
            grid.building_count,
        )
        assert props["flags"] == grid.flags and props["within_limits"] == grid.within_limits
    outline = shapely.union_all([shape(f["geometry"]) for f in body["features"]])
    community = district.layers["communities"].set_index("community_code").geometry[code]
    assert abs(outline.area - community.area) < 1e-3 * community.area  # the grids tile the community


def test_each_grid_lists_the_grids_it_shares_an_edge_with(reader: TestClient, auth, district: District) -> None:
    code = district.urban()
    features = geojson(reader.get(f"/api/v1/communities/{code}/grids", headers=auth("planner")))["features"]
    shapes = {f["id"]: shape(f["geometry"]) for f in features}
    for feature in features:
        listed = set(feature["properties"]["neighbours"])
        edge = {other for other, geom in shapes.items() if other != feature["id"]
                and shapes[feature["id"]].boundary.intersection(geom.boundary).length > 1e-6}  # ~0.1 m
        assert listed == edge
    assert any(f["properties"]["neighbours"] for f in features)


def test_one_grid_comes_with_the_buildings_assigned_to_it(reader: TestClient, auth, district: District) -> None:
    code = district.urban()
    grids = geojson(reader.get(f"/api/v1/communities/{code}/grids", headers=auth("leader")))["features"]
    first = grids[0]
    body = geojson(reader.get(f"/api/v1/grids/{first['id']}", headers=auth("leader")))
    check_feature(body, ("MultiPolygon",))
    listed = {k: v for k, v in first["properties"].items() if k != "neighbours"}
    assert body["id"] == first["id"] and body["properties"] == listed
    buildings = body["buildings"]
    assert buildings["type"] == "FeatureCollection" and buildings["features"]
    for feature in buildings["features"]:
        check_feature(feature, ("MultiPolygon",))
    assert sum(f["properties"]["households"] for f in buildings["features"]) == first["properties"]["households"]
    assert sum(f["properties"]["population"] for f in buildings["features"]) == first["properties"]["population"]
    footprint = shapely.union_all([shape(f["geometry"]) for f in buildings["features"]])
    assert shape(body["geometry"]).buffer(1e-6).contains(footprint.representative_point())


def test_a_grid_worker_sees_their_own_grid_and_nothing_else(
    reader: TestClient, auth, users: dict, district: District
) -> None:
    own = users["worker"][1]
    body = geojson(reader.get(f"/api/v1/grids/{own}", headers=auth("worker")))
    assert body["id"] == own and body["plan"]["status"] == "published"
    community = own.rsplit("-", 1)[0]
    others = [
        f["id"]
        for f in geojson(reader.get(f"/api/v1/communities/{community}/grids", headers=auth("admin")))["features"]
        if f["id"] != own
    ]
    for path in (
        f"/api/v1/grids/{others[0]}",
        f"/api/v1/communities/{community}/grids",
        f"/api/v1/communities/{community}/plans",
        "/api/v1/hierarchy",
    ):
        answer = reader.get(path, headers=auth("worker"))
        assert answer.status_code == 403, path
        assert answer.json()["detail"]
    plan_id = body["plan"]["id"]
    assert reader.get(f"/api/v1/grids/{own}?plan_id={plan_id}", headers=auth("worker")).status_code == 200


def test_readers_are_held_to_their_scope_and_staff_see_no_grids(
    reader: TestClient, auth, users: dict, district: District
) -> None:
    mine, other = district.urban(), district.other_street_community()
    assert reader.get(f"/api/v1/communities/{mine}/grids", headers=auth("planner")).status_code == 200
    answer = reader.get(f"/api/v1/communities/{other}/grids", headers=auth("planner"))
    assert answer.status_code == 403
    assert answer.json() == {"detail": f"community {other} is outside your scope ({users['planner'][1]})",
                             "code": "access.outside_area", "params": {"area": other}}
    assert reader.get(f"/api/v1/communities/{other}/grids", headers=auth("leader_c")).status_code == 403
    grid = geojson(reader.get(f"/api/v1/communities/{other}/grids", headers=auth("admin")))["features"][0]["id"]
    assert reader.get(f"/api/v1/grids/{grid}", headers=auth("planner")).status_code == 403
    assert reader.get(f"/api/v1/grids/{grid}", headers=auth("planner2")).status_code == 200
    for path in (f"/api/v1/communities/{mine}/grids", f"/api/v1/grids/{grid}"):
        assert reader.get(path, headers=auth("staff")).status_code == 403


def test_unknown_communities_grids_and_plans_are_404(reader: TestClient, auth, district: District) -> None:
    code = district.urban()
    for path, says in (
        ("/api/v1/communities/360702-001-999/grids", "no community"),
        ("/api/v1/grids/360702-001-001-99", "no grid"),
        (f"/api/v1/communities/{code}/grids?plan_id=99999", "no plan version"),
        (f"/api/v1/grids/{code}-01?plan_id=99999", "no grid"),
    ):
        answer = reader.get(path, headers=auth("admin"))
        assert answer.status_code == 404, path
        assert says in answer.json()["detail"]
    other_plan = reader.get("/api/v1/hierarchy", headers=auth("admin")).json()
    plans = {n["code"]: n["published_plan_id"] for s in other_plan["districts"][0]["children"] for n in s["children"]}
    foreign = next(p for c, p in plans.items() if c != code)
    answer = reader.get(f"/api/v1/communities/{code}/grids?plan_id={foreign}", headers=auth("admin"))
    assert answer.status_code == 404 and "belongs to community" in answer.json()["detail"]
    assert reader.get(f"/api/v1/communities/{code}/grids?plan_id=x", headers=auth("admin")).status_code == 422

"""Plan versions: list, view, publish (with If-Match and audit), compare, export, and who may."""

from __future__ import annotations

from pathlib import Path

import pyogrio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from geogrid.db.session import session_scope
from geogrid.partition import partition
from geogrid.partition.rules import Rules
from geogrid.store import audit
from geogrid.store.inputs import community_inputs
from geogrid.store.plans import plan_assignments, published_plan, save_partition

from .conftest import District


def make_draft(store: Engine, code: str, rules: Rules) -> tuple[int, int]:
    """(published plan id, a new draft's id) for the community, partitioned by rules."""
    with session_scope(store) as session:
        inputs = community_inputs(session, code)
        result = partition(
            inputs.communities,
            inputs.buildings,
            roads=inputs.roads,
            villager_groups=inputs.villager_groups,
            rules=rules,
        )
        draft = save_partition(session, code, result, rules, "planner").id
        return published_plan(session, code).id, draft


def published_id(client: TestClient, auth, code: str) -> int:
    tree = client.get("/api/v1/hierarchy", headers=auth("admin")).json()
    return next(
        c["published_plan_id"] for s in tree["districts"][0]["children"] for c in s["children"] if c["code"] == code
    )


def test_publishing_a_draft_archives_the_old_plan_records_who_and_when(
    client: TestClient, auth, district: District, store: Engine
) -> None:
    code, headers = district.urban(), auth("planner")
    old, draft = make_draft(store, code, Rules(min_households=200, max_households=400))
    assert published_id(client, auth, code) == old  # the roll-ups are cached until the next write
    listed = client.get(f"/api/v1/communities/{code}/plans", headers=headers).json()
    assert [(p["id"], p["status"]) for p in listed[:2]] == [(draft, "draft"), (old, "published")]
    read = client.get(f"/api/v1/plans/{draft}", headers=headers)
    assert read.status_code == 200 and read.headers["etag"] == '"1"'
    assert read.json()["rules"]["max_households"] == 400

    stale = client.post(f"/api/v1/plans/{draft}/publish", headers=headers | {"If-Match": '"7"'})
    assert stale.status_code == 412 and "changed since you read it" in stale.json()["detail"]
    unexplained = client.post(f"/api/v1/plans/{draft}/publish", headers=headers | {"If-Match": read.headers["etag"]})
    assert unexplained.status_code == 409 and "with a reason" in unexplained.json()["detail"]  # it breaks limits
    answer = client.post(f"/api/v1/plans/{draft}/publish", headers=headers | {"If-Match": read.headers["etag"]},
                         json={"reason": "试行新规则"})
    assert answer.status_code == 200, answer.text
    plan = answer.json()
    assert plan["status"] == "published" and plan["published_by"] == "planner" and plan["published_at"]
    assert client.get(f"/api/v1/plans/{old}", headers=headers).json()["status"] == "archived"
    assert published_id(client, auth, code) == draft
    grids = client.get(f"/api/v1/communities/{code}/grids", headers=auth("leader")).json()
    assert grids["plan"]["id"] == draft and len(grids["features"]) == plan["grid_count"]
    with session_scope(store) as session:
        rows = audit.entries(session, object_type="plan_version")
        actions = {(r.object_id, r.action, r.username) for r in rows[:2]}
        assert actions == {(str(old), "archive", "planner"), (str(draft), "publish", "planner")}
        publish_row = next(r for r in rows if r.action == "publish")
        assert publish_row.before["status"] == "draft" and publish_row.after["status"] == "published"
        assert publish_row.after["reason"] == "试行新规则" and publish_row.after["cases_moved"] >= 0
    again = client.post(f"/api/v1/plans/{draft}/publish", headers=headers)
    assert again.status_code == 200 and again.json()["status"] == "published"


def test_compare_counts_the_buildings_and_households_that_moved(
    client: TestClient, auth, district: District, store: Engine
) -> None:
    code = district.urban()
    old, draft = make_draft(store, code, Rules(min_households=200, max_households=400))
    answer = client.get(f"/api/v1/plans/compare?a={old}&b={draft}", headers=auth("planner"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    with session_scope(store) as session:
        a, b = plan_assignments(session, old), plan_assignments(session, draft)
    ids = [change["building_id"] for change in body["changes"]]
    assert len(ids) == len(set(ids)) == body["buildings_changed"] > 0  # each building listed once
    assert body["households_moved"] == sum(change["households"] for change in body["changes"])
    whole = a[~a["building_id"].duplicated(keep=False)].merge(b[~b["building_id"].duplicated(keep=False)],
                                                                 on="building_id", suffixes=("_a", "_b"))
    moved = whole[whole["grid_code_a"].fillna("") != whole["grid_code_b"].fillna("")]
    listed = {change["building_id"]: change for change in body["changes"]}
    assert len(moved) > 0
    for row in moved.itertuples():  # a building whole in both plans moved all its households
        assert listed[row.building_id]["households"] == row.households_a == row.households_b
        assert (listed[row.building_id]["grid_a"], listed[row.building_id]["grid_b"]) == (row.grid_code_a,
                                                                                          row.grid_code_b)
    assert not set(whole.loc[whole["grid_code_a"] == whole["grid_code_b"], "building_id"]) & set(listed)
    change = body["changes"][0]
    assert set(change) == {"building_id", "units", "grid_a", "grid_b", "households", "population"}
    same = client.get(f"/api/v1/plans/compare?a={old}&b={old}", headers=auth("planner")).json()
    assert same["buildings_changed"] == 0 and same["changes"] == []
    other = published_id(client, auth, district.other_street_community())
    mixed = client.get(f"/api/v1/plans/compare?a={old}&b={other}", headers=auth("admin"))
    assert mixed.status_code == 422 and "different communities" in mixed.json()["detail"]
    assert client.get(f"/api/v1/plans/compare?a={old}&b={other}", headers=auth("planner")).status_code == 403
    assert client.get(f"/api/v1/plans/compare?a={old}&b=99999", headers=auth("admin")).status_code == 404
    assert client.get(f"/api/v1/plans/compare?a={old}", headers=auth("admin")).status_code == 422


def test_leaders_see_published_plans_only_and_cannot_publish(
    client: TestClient, auth, district: District, store: Engine
) -> None:
    code = district.urban()
    old, draft = make_draft(store, code, Rules(max_households=450))
    listed = client.get(f"/api/v1/communities/{code}/plans", headers=auth("leader")).json()
    assert [p["id"] for p in listed] == [old]
    for path in (
        f"/api/v1/plans/{draft}",
        f"/api/v1/plans/{draft}/export?format=geojson",
        f"/api/v1/plans/compare?a={old}&b={draft}",
        f"/api/v1/communities/{code}/grids?plan_id={draft}",
    ):
        answer = client.get(path, headers=auth("leader"))
        assert answer.status_code == 403, path
        assert "published plans only" in answer.json()["detail"]
    assert client.get(f"/api/v1/plans/{old}", headers=auth("leader")).status_code == 200
    for username in ("leader", "worker", "staff", "planner2"):
        answer = client.post(f"/api/v1/plans/{draft}/publish", headers=auth(username))
        assert answer.status_code == 403, username
    assert client.get(f"/api/v1/plans/{draft}", headers=auth("planner")).json()["status"] == "draft"
    with session_scope(store) as session:
        assert not [r for r in audit.entries(session) if r.action == "publish" and r.object_id == str(draft)]
    assert client.post("/api/v1/plans/99999/publish", headers=auth("admin")).status_code == 404


def test_plans_outside_the_scope_are_forbidden(reader: TestClient, auth, district: District) -> None:
    other = district.other_street_community()
    plan = published_id(reader, auth, other)
    for path in (
        f"/api/v1/communities/{other}/plans",
        f"/api/v1/plans/{plan}",
        f"/api/v1/plans/{plan}/export?format=gpkg",
    ):
        for username in ("planner", "leader_c", "worker", "staff"):
            assert reader.get(path, headers=auth(username)).status_code == 403, (path, username)
        assert reader.get(path, headers=auth("planner2")).status_code == 200, path
    assert reader.get("/api/v1/communities/360702-009-009/plans", headers=auth("admin")).status_code == 404
    assert reader.get("/api/v1/plans/99999", headers=auth("admin")).status_code == 404


@pytest.mark.parametrize(
    ("fmt", "suffix", "layers"),
    [
        ("gpkg", ".gpkg", ["grids", "assignments"]),
        ("geojson", ".geojson", ["grids"]),
        ("shp", ".zip", ["grids", "assignments"]),
        ("kml", ".kml", ["grids"]),
    ],
)
def test_exports_are_readable_gis_files(
    reader: TestClient, auth, district: District, tmp_path: Path, fmt: str, suffix: str, layers: list[str]
) -> None:
    code = district.urban()
    plan = published_id(reader, auth, code)
    detail = reader.get(f"/api/v1/plans/{plan}", headers=auth("leader")).json()
    answer = reader.get(f"/api/v1/plans/{plan}/export?format={fmt}", headers=auth("leader"))
    assert answer.status_code == 200, answer.text
    assert f'filename="{code}-v1{suffix}"' in answer.headers["content-disposition"]
    path = tmp_path / f"plan{suffix}"
    path.write_bytes(answer.content)
    source = f"/vsizip/{path}" if fmt == "shp" else str(path)
    found = sorted(name for name, _ in pyogrio.list_layers(source))
    assert found == sorted(layers)
    grids = pyogrio.read_dataframe(source, layer="grids")
    assert len(grids) == detail["grid_count"] and grids.geometry.is_valid.all()
    bad = reader.get(f"/api/v1/plans/{plan}/export?format=dxf", headers=auth("leader"))
    assert bad.status_code == 422

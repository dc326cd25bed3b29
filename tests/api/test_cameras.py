"""Cameras over HTTP: imported into grids, coverage per grid, the cameras nearest an incident."""

from __future__ import annotations

import json
import math

from pyproj import Geod

from tests.api.test_incidents import grid_point, report

GEOD = Geod(ellps="WGS84")


def camera(camera_id: str, lon: float, lat: float, **props) -> dict:
    return {"type": "Feature", "properties": {"camera_id": camera_id} | props,
            "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def upload(client, headers, features, name="cameras.geojson"):
    body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    return client.post("/api/v1/cameras", files={"file": (name, body, "application/geo+json")}, headers=headers)


def offset(lon: float, lat: float, bearing: float, metres: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, bearing, metres)
    return lon2, lat2


def test_cameras_are_placed_and_the_nearest_ones_found_for_a_case(client, store, auth, users) -> None:
    grid = users["worker"][1]
    lon, lat = grid_point(store, grid)
    features = [
        camera("C-N", *offset(lon, lat, 0, 30), name="北侧", heading=180, fov=90, range_m=60),  # looks at the case
        camera("C-E", *offset(lon, lat, 90, 60), name="东侧", heading=90, fov=60, range_m=80),  # looks away
        camera("C-FAR", *offset(lon, lat, 180, 400), name="远处"),
    ]
    answer = upload(client, auth("admin"), features)
    assert answer.status_code == 201, answer.text
    assert answer.json()["cameras"] == 3 and answer.json()["replaced"] == 0
    case = report(client, auth("worker"), lon, lat)
    near = client.get(f"/api/v1/incidents/{case['id']}/cameras", params={"radius_m": 200}, headers=auth("worker"))
    assert near.status_code == 200, near.text
    found = near.json()["cameras"]
    assert [c["camera_id"] for c in found] == ["C-N", "C-E"]
    assert math.isclose(found[0]["distance_m"], 30, abs_tol=1) and found[0]["sees_point"] is True
    assert found[1]["sees_point"] is False
    listed = client.get("/api/v1/cameras", headers=auth("worker")).json()
    assert "C-N" in {f["id"] for f in listed["features"]}
    again = upload(client, auth("admin"), features[:1])
    assert again.json()["replaced"] == 1


def test_coverage_per_grid_counts_the_union_of_views(client, store, auth, users) -> None:
    grid = users["worker"][1]
    community = users["leader_c"][1]
    lon, lat = grid_point(store, grid)
    twins = [camera("D-1", lon, lat, range_m=20), camera("D-2", lon, lat, range_m=20)]  # the same disc twice
    assert upload(client, auth("admin"), twins).status_code == 201
    answer = client.get(f"/api/v1/areas/{community}/camera-coverage", headers=auth("leader_c"))
    assert answer.status_code == 200, answer.text
    rows = {r["grid_code"]: r for r in answer.json()["grids"]}
    mine = rows[grid]
    assert mine["camera_count"] == 2
    assert math.isclose(mine["covered_m2"], math.pi * 20**2, rel_tol=0.02)  # counted once
    assert math.isclose(mine["covered_share"], mine["covered_m2"] / mine["area_m2"], rel_tol=1e-6)
    assert all(r["camera_count"] == 0 for code, r in rows.items() if code != grid)
    assert client.get(f"/api/v1/areas/{community}/camera-coverage", headers=auth("leader_s2")).status_code == 403


def test_bad_camera_files_are_rejected_whole(client, store, auth, users) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    bad = [camera("X-1", lon, lat, heading=400), camera("X-2", lon, lat, range_m=-5)]
    answer = upload(client, auth("admin"), bad)
    assert answer.status_code == 422
    assert "heading" in answer.json()["detail"] and "range" in answer.json()["detail"]
    assert client.get("/api/v1/cameras", headers=auth("admin")).json()["features"] == []
    csv = f"camera_id,lon,lat\nY-1,{lon},{lat}\n".encode()
    assert client.post("/api/v1/cameras", files={"file": ("c.csv", csv, "text/csv")},
                       headers=auth("worker")).status_code == 403
    far = upload(client, auth("planner2"), [camera("Z-1", lon, lat)])
    assert far.status_code == 422 and "outside your scope" in far.json()["detail"]

"""Partition jobs: start, poll to the new draft, one job per community at a time, failures, who may."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from geogrid.store import partitioning
from geogrid.db.session import session_scope
from geogrid.errors import InputError
from geogrid.store import audit
from geogrid.store.plans import list_versions

from .conftest import District


def start(client: TestClient, headers: dict, code: str, body: dict | None = None):
    return client.post(f"/api/v1/communities/{code}/partition-jobs", json=body, headers=headers)


def wait(client: TestClient, headers: dict, job_id: str, seconds: float = 90) -> dict:
    """Poll the job until it finishes; every answer's progress lies in 0..1 and never goes back."""
    deadline, last = time.monotonic() + seconds, 0.0
    while time.monotonic() < deadline:
        answer = client.get(f"/api/v1/jobs/{job_id}", headers=headers)
        assert answer.status_code == 200, answer.text
        job = answer.json()
        assert 0 <= last <= job["progress"] <= 1
        last = job["progress"]
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {seconds} s")


def test_a_job_makes_a_new_draft_plan_version(client: TestClient, auth, district: District, store: Engine) -> None:
    code, headers = district.urban(), auth("planner")
    before = client.get(f"/api/v1/communities/{code}/plans", headers=headers).json()
    answer = start(client, headers, code, {"min_households": 250, "max_households": 450, "note": "tighter"})
    assert answer.status_code == 202, answer.text
    created = answer.json()
    assert created["status"] in ("queued", "running") and created["community_code"] == code
    assert answer.headers["location"] == created["href"] == f"/api/v1/jobs/{created['job_id']}"
    job = wait(client, headers, created["job_id"])
    assert job["status"] == "succeeded", job["error"]
    assert job["progress"] == 1 and job["created_by"] == "planner" and job["error"] is None
    result = job["result"]
    assert result["report"]["rules"]["max_households"] == 450 and result["report"]["total"]["grid_count"] > 0
    plans = client.get(f"/api/v1/communities/{code}/plans", headers=headers).json()
    assert len(plans) == len(before) + 1
    new = plans[0]
    assert new["id"] == result["plan_id"] and new["status"] == "draft" and new["created_by"] == "planner"
    assert new["rules"]["min_households"] == 250 and new["note"] == "tighter"
    assert new["parent_id"] == before[0]["id"]  # started from the published plan
    detail = client.get(f"/api/v1/plans/{new['id']}", headers=headers).json()
    assert detail["grid_count"] == result["report"]["total"]["grid_count"]
    draft = client.get(f"/api/v1/communities/{code}/grids?plan_id={new['id']}", headers=headers)
    assert len(draft.json()["features"]) == detail["grid_count"]
    with session_scope(store) as session:
        rows = audit.entries(session, object_type="plan_version", object_id=new["id"])
        assert [(r.username, r.action) for r in rows] == [("planner", "create")]


def test_a_second_job_on_the_same_community_is_refused_while_one_runs(
    client: TestClient, auth, district: District, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, entered = threading.Event(), threading.Event()
    real = partitioning.run

    def held(*args, **kwargs):
        entered.set()
        assert release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(partitioning, "run", held)
    code, headers = district.urban(), auth("planner")
    first = start(client, headers, code)
    assert first.status_code == 202
    job_id = first.json()["job_id"]
    assert entered.wait(30)
    assert client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()["status"] == "running"
    for username in ("planner", "admin"):
        second = start(client, auth(username), code, {"max_households": 480})
        assert second.status_code == 409
        detail = second.json()["detail"]
        assert job_id in detail and code in detail and "already under way" in detail
    release.set()
    assert wait(client, headers, job_id)["status"] == "succeeded"
    third = start(client, headers, code)
    assert third.status_code == 202
    assert wait(client, headers, third.json()["job_id"])["status"] == "succeeded"


def test_a_failing_job_reports_why_and_stores_nothing(
    client: TestClient, auth, district: District, monkeypatch: pytest.MonkeyPatch, store: Engine
) -> None:
    def broken(*args, **kwargs):
        raise InputError("community 360702-001-001: no feasible grid count for these rules")

    monkeypatch.setattr(partitioning, "run", broken)
    code, headers = district.urban(), auth("planner")
    with session_scope(store) as session:
        versions = len(list_versions(session, code))
    job = wait(client, headers, start(client, headers, code).json()["job_id"])
    assert job["status"] == "failed" and job["result"] is None
    assert job["error"] == "community 360702-001-001: no feasible grid count for these rules"
    with session_scope(store) as session:
        assert len(list_versions(session, code)) == versions


def test_bad_rules_and_unknown_communities_are_refused(reader: TestClient, auth, district: District) -> None:
    code, headers = district.urban(), auth("planner")
    for body, says in (
        ({"min_households": 600, "max_households": 500}, "min_households"),
        ({"max_population": 0}, "max_population"),
        ({"colour": "red"}, "colour"),
    ):
        answer = start(reader, headers, code, body)
        assert answer.status_code == 422
        assert says in str(answer.json()["detail"])
    answer = start(reader, auth("admin"), "360702-001-999")
    assert answer.status_code == 404 and answer.json() == {"detail": "no community '360702-001-999'"}
    assert reader.get("/api/v1/jobs/nope", headers=headers).status_code == 404


def test_only_planners_and_admins_in_scope_start_and_see_jobs(client: TestClient, auth, district: District) -> None:
    code = district.urban()
    for username in ("leader", "worker", "staff", "planner2", "leader_c"):
        answer = start(client, auth(username), code)
        assert answer.status_code == 403, username
        assert answer.json()["detail"]
    job_id = start(client, auth("planner"), code).json()["job_id"]
    for username in ("planner2", "leader", "worker"):
        assert client.get(f"/api/v1/jobs/{job_id}", headers=auth(username)).status_code == 403, username
    assert client.get(f"/api/v1/jobs/{job_id}", headers=auth("admin")).status_code == 200
    assert wait(client, auth("planner"), job_id)["status"] == "succeeded"


def test_a_village_is_partitioned_again_from_its_published_plan(client: TestClient, auth, district: District) -> None:
    """A village (its grids are unions of villager groups) re-partitioned with nothing changed keeps
    every grid of its published plan, and no household moves."""
    table = district.layers["communities"]
    code, headers = str(min(table.loc[table["kind"] == "rural", "community_code"])), auth("admin")
    published = client.get(f"/api/v1/communities/{code}/grids", headers=headers).json()["features"]
    job = wait(client, headers, start(client, headers, code).json()["job_id"])
    assert job["status"] == "succeeded", job["error"]
    assert job["result"]["report"]["total"]["households_moved_share"] == 0.0
    draft = client.get(f"/api/v1/communities/{code}/grids?plan_id={job['result']['plan_id']}", headers=headers)

    def grids(features: list[dict]) -> list[tuple]:
        return sorted((f["properties"]["grid_code"], f["properties"]["population"]) for f in features)

    assert grids(draft.json()["features"]) == grids(published)

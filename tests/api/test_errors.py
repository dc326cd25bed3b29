"""Failures answer JSON naming the problem: never a traceback, nothing half-written."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError

from api.routers import hierarchy, plans
from geogrid.db.models import AuditLog, PlanVersion
from geogrid.db.session import session_scope

from .conftest import District
from .test_jobs import wait


def test_an_unexpected_error_is_a_plain_500(reader: TestClient, auth, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals at /srv/geogrid/db.py line 12")

    monkeypatch.setattr(hierarchy, "_areas", broken)
    client = TestClient(reader.app, raise_server_exceptions=False)
    answer = client.get("/api/v1/hierarchy", headers=auth("admin"))
    assert answer.status_code == 500
    assert answer.json() == {"detail": "internal server error"}
    assert "secret" not in answer.text and "Traceback" not in answer.text


def test_an_unreachable_database_is_a_503(reader: TestClient, auth, monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused to 10.0.0.5"))

    monkeypatch.setattr(hierarchy, "_areas", down)
    answer = reader.get("/api/v1/hierarchy", headers=auth("admin"))
    assert answer.status_code == 503
    assert answer.json() == {"detail": "the database is unavailable or busy: try again"}


def test_a_publish_that_fails_midway_leaves_the_store_as_it_was(
    client: TestClient, auth, district: District, store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = district.urban()
    published = client.get(f"/api/v1/communities/{code}/plans", headers=auth("admin")).json()[0]["id"]
    job = client.post(f"/api/v1/communities/{code}/partition-jobs", headers=auth("admin")).json()
    draft = wait(client, auth("admin"), job["job_id"])["result"]["plan_id"]
    with session_scope(store) as session:
        audit_rows = session.scalar(select(func.count()).select_from(AuditLog))

    def failing_detail(*args, **kwargs):  # after the status changes and audit rows, before the commit
        raise RuntimeError("disk full")

    monkeypatch.setattr(plans, "_detail", failing_detail)
    answer = TestClient(client.app, raise_server_exceptions=False).post(
        f"/api/v1/plans/{draft}/publish", headers=auth("admin"), json={"reason": "a test"}
    )
    assert answer.status_code == 500
    with session_scope(store) as session:
        assert session.get(PlanVersion, draft).status == "draft"
        assert session.get(PlanVersion, published).status == "published"
        assert session.scalar(select(func.count()).select_from(AuditLog)) == audit_rows

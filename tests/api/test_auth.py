"""Signing in, bearer tokens, and 401 on every endpoint without a valid token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from api import deps
from api.tokens import create_token
from geogrid.db.models import User
from geogrid.db.session import session_scope
from geogrid.store.users import set_active

from .conftest import PASSWORD

DEMO_PASSWORDS = {
    "admin": "admin-demo",
    "planner": "planner-demo",
    "leader": "leader-demo",
    "worker": "worker-demo",
    "staff": "staff-demo",
}
PATH_VALUES = {
    "code": "360702-001-001",
    "grid_code": "360702-001-001-01",
    "plan_id": "1",
    "job_id": "abc",
    "incident_id": "1",
    "area": "360702",
}


def sign_in(client: TestClient, username: str, password: str):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_every_demo_user_signs_in_and_sees_their_role_and_scope(reader: TestClient, users: dict) -> None:
    client = reader
    for username, password in DEMO_PASSWORDS.items():
        answer = sign_in(client, username, password)
        assert answer.status_code == 200, answer.text
        token = answer.json()
        assert token["token_type"] == "bearer" and token["expires_in"] > 0
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"})
        assert me.status_code == 200
        role, scope = users[username]
        assert me.json() | {"display_name": None, "department": None} == {
            "username": username,
            "role": role,
            "scope": scope,
            "display_name": None,
            "department": None,
        }
    assert sign_in(client, "planner2", PASSWORD).status_code == 200


def test_wrong_password_and_unknown_user_get_401_json(reader: TestClient) -> None:
    client = reader
    for username, password in (("admin", "not-the-password"), ("nobody", "admin-demo"), ("admin", "")):
        answer = sign_in(client, username, password)
        assert answer.status_code in (401, 422)
        assert "detail" in answer.json()
    wrong = sign_in(client, "admin", "not-the-password")
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "incorrect username or password"}
    assert wrong.headers["www-authenticate"] == "Bearer"


def test_expired_forged_and_malformed_tokens_get_401(reader: TestClient) -> None:
    client, settings = reader, reader.app.state.settings
    expired = create_token(settings.model_copy(update={"token_minutes": -1}), "admin")
    forged = create_token(settings.model_copy(update={"secret_key": "another-secret-" * 3}), "admin")
    now = datetime.now(UTC)
    no_expiry = jwt.encode({"sub": "admin", "iat": now}, str(settings.secret_key), algorithm="HS256")
    ghost = jwt.encode({"sub": "ghost", "exp": now + timedelta(minutes=5)}, str(settings.secret_key), algorithm="HS256")
    for token, says in (
        (expired, "expired"),
        (forged, "not valid"),
        ("garbage", "not valid"),
        (no_expiry, "not valid"),
        (ghost, "unknown or disabled"),
    ):
        answer = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, token
        assert says in answer.json()["detail"]


def test_a_disabled_account_is_refused_at_once(client: TestClient, auth, store: Engine) -> None:
    headers = auth("planner")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    with session_scope(store) as session:
        set_active(session, "planner", False)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert sign_in(client, "planner", "planner-demo").status_code == 401
    with session_scope(store) as session:
        set_active(session, "planner", True)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401  # tokens from before stay refused
    token = sign_in(client, "planner", "planner-demo").json()["access_token"]
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_an_account_disabled_in_the_database_by_hand_is_refused_once_rechecked(
    client: TestClient, auth, store: Engine, monkeypatch
) -> None:
    headers = auth("planner")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    with session_scope(store) as session:  # no audit row, so no new data version
        session.execute(update(User).where(User.username == "planner").values(active=False))
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200  # still remembered
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + deps.USER_RECHECK_SECONDS + 1)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_every_endpoint_answers_401_without_a_token(reader: TestClient) -> None:
    client = reader
    paths = client.get("/openapi.json").json()["paths"]
    checked = 0
    for template, operations in paths.items():
        if not template.startswith("/api/v1") or template == "/api/v1/auth/token":
            continue
        path = template.format(**PATH_VALUES) + "?a=1&b=2"
        for method in operations:
            answer = client.request(method, path)
            assert answer.status_code == 401, f"{method} {template}: {answer.status_code}"
            assert answer.json()["detail"].startswith("not signed in")
            assert answer.headers["www-authenticate"] == "Bearer"
            checked += 1
    assert checked >= 12


def test_docs_and_openapi_are_public_and_tagged(reader: TestClient) -> None:
    client = reader
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "geogrid"
    tags = {t["name"] for t in spec["tags"]}
    assert {"Accounts", "Hierarchy", "Grids", "Partition jobs", "Plans", "Imports"} <= tags
    for path, operations in spec["paths"].items():
        if path.startswith("/api/v1"):
            assert all(op.get("tags") and op.get("summary") for op in operations.values()), path

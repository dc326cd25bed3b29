"""Issue 17, defect 6: sign-in throttling, token versions, the HttpOnly page cookie, security headers on every
answer, a private SQLite file, real scopes for new users, and demo mode only for the sample store, said loudly."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from api import demo
from api.app import create_app
from api.security import LoginThrottle, page_policy
from geogrid.db.engine import make_engine
from geogrid.db.session import session_scope
from geogrid.store.users import set_active, set_password
from maps.pages import TEMPLATES
from tests.api.conftest import make_settings

JS = Path(__file__).resolve().parents[2] / "maps" / "static" / "js"


def sign_in(client: TestClient, username: str, password: str):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(client) -> Clock:
    """The app's sign-in throttle on a clock the test moves."""
    clock, settings = Clock(), client.app.state.settings
    client.app.state.login_throttle = LoginThrottle(settings.login_account_failures, settings.login_address_failures,
                                                    settings.login_lock_seconds, settings.login_window_seconds, clock)
    return clock


def test_repeated_wrong_passwords_wait_a_short_while_then_the_real_user_gets_in(client, clock) -> None:
    for _ in range(5):
        assert sign_in(client, "leader", "wrong-password").status_code == 401
    locked = sign_in(client, "leader", "leader-demo")  # even the right password waits
    assert locked.status_code == 429 and locked.headers["retry-after"] == "30"
    assert "try again in 30 s" in locked.json()["detail"]
    assert sign_in(client, "planner", "planner-demo").status_code == 200  # other accounts are not locked
    clock.now += 12
    assert sign_in(client, "leader", "leader-demo").headers["retry-after"] == "18"
    clock.now += 18
    assert sign_in(client, "leader", "leader-demo").status_code == 200  # a short lock, then the real user
    assert sign_in(client, "leader", "wrong-password").status_code == 401  # its count started again


def test_one_client_address_guessing_many_accounts_is_slowed(client, clock) -> None:
    for i in range(20):
        assert sign_in(client, f"guess{i}", "password1").status_code == 401
    assert sign_in(client, "admin", "admin-demo").status_code == 429  # the address waits, whatever the account
    clock.now += 31
    assert sign_in(client, "admin", "admin-demo").status_code == 200


def test_failures_older_than_the_window_are_forgotten() -> None:
    clock = Clock()
    throttle = LoginThrottle(3, 100, 30, 300, clock)
    for _ in range(2):
        throttle.failed("Zhang", "10.0.0.1")
    clock.now += 301
    throttle.failed("zhang ", "10.0.0.1")
    assert throttle.wait("ZHANG", "10.0.0.2") == 0
    throttle.failed("zhang", "10.0.0.3")
    throttle.failed("zhang", "10.0.0.4")
    assert throttle.wait("zhang", "10.0.0.9") == 30


def test_disabling_revokes_every_token_issued_before_also_after_enabling(client, store) -> None:
    old = sign_in(client, "planner", "planner-demo").json()["access_token"]
    headers = {"Authorization": f"Bearer {old}"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    with session_scope(store) as session:
        set_active(session, "planner", False)
    with session_scope(store) as session:
        set_active(session, "planner", True)
    refused = client.get("/api/v1/auth/me", headers=headers)
    assert refused.status_code == 401 and "sign in again" in refused.json()["detail"]
    new = sign_in(client, "planner", "planner-demo").json()["access_token"]
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    with session_scope(store) as session:
        set_password(session, "planner", "another-password")
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {new}"}).status_code == 401


def test_the_page_token_is_an_httponly_samesite_cookie(client) -> None:
    answer = client.post("/maps/session", data={"username": "leader", "password": "leader-demo"})
    assert answer.status_code == 200
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("geogrid_token=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/" in cookie and "access_token" not in answer.text
    assert client.get("/api/v1/auth/me").json()["username"] == "leader"  # the cookie signs the API in
    assert client.get("/maps/leader").status_code == 200
    forged = client.post("/api/v1/incidents", json={"category": "city_management", "address": "x"})
    assert forged.status_code == 403 and "x-requested-with" in forged.json()["detail"]  # no cross-site writes
    assert client.post("/maps/logout").status_code == 204
    client.cookies.clear()
    assert client.get("/api/v1/auth/me").status_code == 401


def test_no_script_keeps_the_token() -> None:
    scripts = "".join(p.read_text() for p in JS.glob("*.js"))
    assert "localStorage" not in scripts and "document.cookie" not in scripts and "Bearer" not in scripts


def test_templates_and_pages_hold_no_inline_script_of_ours() -> None:
    for template in TEMPLATES.glob("*.html"):
        page = template.read_text()
        assert not re.search(r"\son[a-z]+\s*=", page), template.name
        assert "<script" not in page, template.name


@pytest.mark.parametrize("path", ["/maps/login", "/api/v1/auth/me", "/openapi.json", "/open311/v2/services.json",
                                  "/static/js/geogrid.js", "/nowhere"])
def test_every_answer_has_the_security_headers(reader, path) -> None:
    answer = reader.get(path)
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy.split("script-src")[-1].split(";")[0]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin" and answer.headers["x-frame-options"] == "DENY"


def test_a_map_page_allows_exactly_its_own_inline_scripts(reader, auth) -> None:
    answer = reader.get("/maps/planner", cookies={"geogrid_token": auth("planner")["Authorization"][7:]})
    assert answer.status_code == 200
    policy = answer.headers["content-security-policy"]
    assert policy == page_policy(answer.text) and "'sha256-" in policy
    assert "script-src 'self' 'sha256-" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    injected = answer.text.replace("</body>", "<script>alert(1)</script></body>")
    assert page_policy(injected) != policy  # a script not in the page as served would not run


def test_a_new_sqlite_store_is_readable_by_its_owner_only(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'store.sqlite'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (a INTEGER)"))
    engine.dispose()
    assert os.stat(tmp_path / "data" / "store.sqlite").st_mode & 0o777 == 0o600
    assert os.stat(tmp_path / "data").st_mode & 0o777 == 0o700


def test_user_add_refuses_a_scope_that_is_no_area(store_url, users) -> None:
    import typer

    from cli.store import user_add_command

    app = typer.Typer()
    app.command()(user_add_command)
    for role, scope in (("planner", "360702-999"), ("grid_worker", "360702-001-001"), ("leader", "36070")):
        answer = CliRunner().invoke(app, ["wang", "--role", role, "--scope", scope, "--password", "s3cret-pass",
                                          "--database-url", store_url])
        assert answer.exit_code == 2 and "is no" in answer.output and "Traceback" not in answer.output, answer.output
    grid = users["worker"][1]
    for role, scope in (("planner", users["planner"][1]), ("grid_worker", grid)):
        answer = CliRunner().invoke(app, [f"u-{role}", "--role", role, "--scope", scope, "--password", "s3cret-pass",
                                          "--database-url", store_url])
        assert answer.exit_code == 0, answer.output


def test_demo_mode_is_said_on_every_page_of_the_sample_store(store_url, tmp_path) -> None:
    settings = make_settings(store_url, tmp_path).model_copy(update={"demo": True})
    with TestClient(create_app(settings)) as client:
        assert client.app.state.settings.demo  # the seeded store was made by demo.load
        assert "geogrid-demo-banner" in client.get("/maps/login").text and "演示模式" in client.get("/maps/login").text
        discovery = client.get("/open311/discovery.json").json()
        assert "open311-demo-key" in discovery["key_service"]


def test_demo_mode_never_serves_a_store_not_made_from_the_sample(store_url, tmp_path) -> None:
    engine = make_engine(store_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE username = :u"), {"u": demo.ACTOR})
    engine.dispose()
    settings = make_settings(store_url, tmp_path).model_copy(update={"demo": True})
    with TestClient(create_app(settings)) as client:
        assert not client.app.state.settings.demo
        assert "geogrid-demo-banner" not in client.get("/maps/login").text
        posted = client.post("/open311/v2/requests.json", data={"api_key": "open311-demo-key",
                                                                 "service_code": "city_management", "lat": 25.8,
                                                                 "long": 114.9})
        assert posted.status_code == 403

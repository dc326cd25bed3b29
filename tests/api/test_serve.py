"""`geogrid serve`: migrations, the demo district on an empty embedded store (once), then uvicorn."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from api import demo
from cli import serve as serve_cli
from geogrid.db.engine import make_engine
from geogrid.db.models import Community, PlanVersion, User
from geogrid.db.session import session_scope
from api.settings import Settings
from geogrid.store.users import authenticate

from .conftest import District


@pytest.fixture
def small_sample(monkeypatch: pytest.MonkeyPatch, district: District) -> None:
    monkeypatch.setattr(demo, "sample_layers", lambda: district.layers)
    for name in ("GEOGRID_DATABASE_URL", "GEOGRID_DEMO", "GEOGRID_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)


def counts(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return tuple(  # type: ignore[return-value]
                session.scalar(select(func.count()).select_from(m)) or 0 for m in (Community, PlanVersion, User)
            )
    finally:
        engine.dispose()


def test_an_empty_embedded_store_gets_the_demo_district_once(small_sample: None, tmp_path: Path,
                                                              district: District) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.embedded and settings.demo
    serve_cli.prepare(settings)
    communities, plans, users = counts(str(settings.database_url))
    assert communities == len(district.communities) == plans and users == 5
    engine = make_engine(str(settings.database_url))
    with session_scope(engine) as session:
        published = session.scalar(select(func.count()).where(PlanVersion.status == "published"))
        assert published == communities
        for username, password in (("admin", "admin-demo"), ("planner", "planner-demo"), ("leader", "leader-demo"),
                                   ("worker", "worker-demo"), ("staff", "staff-demo")):
            assert authenticate(session, username, password) is not None, username
    engine.dispose()
    serve_cli.prepare(settings)  # a second start changes nothing
    assert counts(str(settings.database_url)) == (communities, plans, users)


def test_a_store_named_by_url_is_migrated_but_not_filled(small_sample: None, tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'prod.sqlite'}", data_dir=tmp_path)
    assert not settings.demo
    serve_cli.prepare(settings)
    assert counts(str(settings.database_url)) == (0, 0, 0)


def test_serve_is_a_typer_command_that_runs_uvicorn(small_sample: None, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ran = {}
    monkeypatch.setattr("uvicorn.run", lambda app, host, port, **options: ran.update(app=app, host=host, port=port,
                                                                                      options=options))
    app = typer.Typer()
    app.command()(serve_cli.serve)
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    result = CliRunner().invoke(app, ["--port", "8123", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert ran["host"] == "127.0.0.1" and ran["port"] == 8123
    assert ran["options"] == {"loop": "uvloop", "http": "httptools"}  # never a silent fall-back to asyncio and h11
    assert ran["app"].state.settings.database_url == url
    bad = CliRunner().invoke(app, ["--database-url", "nosuchdb://x"])
    assert bad.exit_code == 2 and "error" in bad.output


def test_the_served_app_freezes_what_its_start_made_and_the_tests_app_does_not(small_sample: None,
                                                                              tmp_path: Path) -> None:
    import gc

    from fastapi.testclient import TestClient

    from api.app import create_app, served_app

    settings = Settings(data_dir=tmp_path, demo=False)
    serve_cli.prepare(settings)
    gc.unfreeze()
    with TestClient(create_app(settings)):
        assert gc.get_freeze_count() == 0
    try:
        with TestClient(served_app(settings)) as client:
            assert gc.get_freeze_count() > 10_000  # modules, routes, models: out of the collector's passes
            assert client.get("/api/v1/auth/me").status_code == 401
    finally:
        gc.unfreeze()

"""Fixtures of the GIS API tests (editing, OGC features, tiles): the app over a store on each backend, and users."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from api.tokens import create_token
from geogrid.db.session import session_scope
from api.settings import Settings
from geogrid.store.users import add_user
from tests.store.conftest import (
    backend,
    db_url,
    engine,
    postgis_url,
    spatialite_template,
)

SignIn = Callable[[str, str, str], dict[str, str]]
# fixtures a test module takes with "from .gis_support import *"
__all__ = ["SignIn", "backend", "db_url", "engine", "gis_client", "gis_settings", "postgis_url", "sign_in",
           "spatialite_template"]


@pytest.fixture
def gis_settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="gis-tests-" + "k" * 32, demo=False,
                    warm_statistics=False)


@pytest.fixture
def gis_client(gis_settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """The whole API over the test's store (created after the store is migrated)."""
    with TestClient(create_app(gis_settings)) as client:
        yield client


@pytest.fixture
def sign_in(gis_settings: Settings, engine: Engine) -> SignIn:
    """Create a user and answer the Authorization header of their bearer token."""

    def create(username: str, role: str, scope: str) -> dict[str, str]:
        with session_scope(engine) as session:
            department = "urban_management" if role == "department_staff" else None
            add_user(session, username, "a-long-password", role, scope, department=department)
        return {"Authorization": f"Bearer {create_token(gis_settings, username)}"}

    return create

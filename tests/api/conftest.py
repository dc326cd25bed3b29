"""API fixtures: the app over a seeded store (a small sample district, partitioned, published) on both backends.

The district is seeded once per backend (a SpatiaLite file, a PostGIS template database); each test
gets its own copy, so tests may write freely.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from api import demo
from api.app import create_app
from api.tokens import create_token
from geogrid.db.engine import make_engine
from geogrid.db.session import session_scope
from geogrid.sample.district import build
from api.settings import Settings
from geogrid.store.users import add_user
from tests.store.conftest import PG_ADMIN_URL, _admin_conninfo, fresh_postgis_database, migrate_or_fail

SECRET = "api-tests-" + "s" * 40
PASSWORD = "a-long-password"
BACKENDS = ("spatialite", "postgis")


@dataclass(frozen=True)
class District:
    """What the seeded store holds, for tests to refer to."""

    layers: dict[str, gpd.GeoDataFrame]
    streets: list[str]
    communities: dict[str, str]  # community code -> street code

    def urban(self) -> str:
        """An urban community of the first street (the demo planner's scope)."""
        table = self.layers["communities"]
        rows = table[(table["kind"] == "urban") & (table["street_code"] == self.streets[0])]
        return str(min(rows["community_code"]))

    def other_street_community(self) -> str:
        """A community outside the first street."""
        return next(c for c, s in sorted(self.communities.items()) if s != self.streets[0])


def extra_users(streets: list[str], first_community: str) -> list[tuple[str, str, str]]:
    """Users beside the demo ones: a planner of another street, a leader of one community."""
    return [
        ("planner2", "planner", streets[1]),
        ("leader_c", "leader", first_community),
        ("leader_s", "leader", streets[0]),
        ("leader_s2", "leader", streets[1]),
    ]


@pytest.fixture(scope="session")
def district() -> District:
    layers = build(households=8000, seed=0, incidents=10, cameras=5)
    kinds = {kind: layers[name] for kind, name in demo.SAMPLE_FILES.items()}
    streets = sorted(kinds["streets"]["street_code"].astype(str))
    communities = dict(zip(kinds["communities"]["community_code"], kinds["communities"]["street_code"], strict=True))
    return District(kinds, streets, communities)


def seed(url: str, district: District) -> dict[str, tuple[str, str]]:
    """Migrate, load the demo district and users, and add the extra users; answers every user's (role, scope)."""
    migrate_or_fail(url)
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            users = {u.username: (u.role, u.scope) for u in demo.load(session, district.layers)}
            first = min(c for c, s in district.communities.items() if s == district.streets[0])
            for username, role, scope in extra_users(district.streets, first):
                add_user(session, username, PASSWORD, role, scope)
                users[username] = (role, scope)
    finally:
        engine.dispose()
    return users


@pytest.fixture(scope="session")
def seeded_spatialite(tmp_path_factory: pytest.TempPathFactory, district: District) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("seeded") / "store.sqlite"
    users = seed(f"sqlite:///{path}", district)
    return path, users


@pytest.fixture(scope="session")
def seeded_postgis(district: District) -> Iterator[tuple[str, dict]]:
    """A seeded PostGIS database used as the template of each test's database."""
    with fresh_postgis_database() as url:
        users = seed(url, district)
        yield make_url(url).database, users


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@contextmanager
def store_copy(backend: str, request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    """A private copy of the seeded store: a copied file, or a database made from the template."""
    if backend == "spatialite":
        template, _ = request.getfixturevalue("seeded_spatialite")
        shutil.copy(template, folder / "store.sqlite")
        yield f"sqlite:///{folder / 'store.sqlite'}"
        return
    template, _ = request.getfixturevalue("seeded_postgis")
    name = f"geogrid_api_{secrets.token_hex(4)}"
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_settings(url: str, folder: Path) -> Settings:
    return Settings(database_url=url, data_dir=folder, secret_key=SECRET, demo=False, max_upload_mb=1,
                    warm_statistics=False)


@pytest.fixture(scope="module")
def users(backend: str, request: pytest.FixtureRequest) -> dict[str, tuple[str, str]]:
    """Every seeded user's (role, scope)."""
    return request.getfixturevalue(f"seeded_{backend}")[1]


@pytest.fixture(scope="module")
def reader(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The app over a store shared by the module's tests: for tests that write nothing."""
    folder = tmp_path_factory.mktemp("shared")
    with store_copy(backend, request, folder) as url, TestClient(create_app(make_settings(url, folder))) as client:
        yield client


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The test's own copy of the seeded store."""
    with store_copy(backend, request, tmp_path) as url:
        yield url


@pytest.fixture
def settings(store_url: str, tmp_path: Path) -> Settings:
    return make_settings(store_url, tmp_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app over the test's own store: for tests that write."""
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def store(store_url: str) -> Iterator[Engine]:
    """An engine on the test's store, for checking what the API wrote."""
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


def bearer(username: str, settings: Settings | None = None) -> dict[str, str]:
    """The Authorization header of a user's bearer token (signing in with a password is tested apart)."""
    settings = settings or Settings(database_url="sqlite://", secret_key=SECRET, demo=False)
    return {"Authorization": f"Bearer {create_token(settings, username)}"}


@pytest.fixture(scope="session")
def auth() -> Callable[[str], dict[str, str]]:
    return bearer

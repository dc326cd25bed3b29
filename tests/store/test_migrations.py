"""Migrations create the whole schema, with spatial indexes, on SpatiaLite and PostGIS."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from geogrid.db.engine import make_engine
from geogrid.db.migrate import is_current, upgrade
from geogrid.db.models import Base

from .conftest import fresh_postgis_database

SPATIAL_TABLES = {
    "districts", "streets", "communities", "buildings", "roads", "villager_groups", "grids", "incidents", "cameras"
}


def _spatial_indexes(engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT f_table_name FROM geometry_columns WHERE spatial_index_enabled = 1"))
        else:
            rows = conn.execute(text("SELECT tablename FROM pg_indexes WHERE indexdef LIKE '%USING gist%'"))
        return {r[0] for r in rows}


def _check_schema(url: str) -> None:
    upgrade(url)
    upgrade(url)  # a second run is a no-op
    engine = make_engine(url)
    try:
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        assert _spatial_indexes(engine) == SPATIAL_TABLES
        assert is_current(engine)
    finally:
        engine.dispose()


def test_spatialite_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the scripts are found from any working directory
    _check_schema(f"sqlite:///{tmp_path / 'new' / 'store.sqlite'}")


def test_postgis_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with fresh_postgis_database() as url:
        _check_schema(url)


def test_fresh_database_is_not_current(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert not is_current(engine)
    engine.dispose()

"""Exports of a plan version read back with GDAL in every format."""

from __future__ import annotations

from pathlib import Path

import pyogrio
import pytest
from sqlalchemy import Engine

from geogrid.db.session import session_scope
from geogrid.errors import InputError
from geogrid.partition.rules import Rules
from geogrid.store.exports import export_plan
from geogrid.store.plans import save_partition

from .test_plans import URBAN, hand_made_result


@pytest.fixture
def plan_id(loaded: Engine) -> int:
    with session_scope(loaded) as session:
        return save_partition(session, URBAN, hand_made_result(), Rules(), "planner1").id


def _layers(path: str) -> dict[str, int]:
    return {name: len(pyogrio.read_dataframe(path, layer=name)) for name, _ in pyogrio.list_layers(path)}


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp", "kml"])
def test_export_reads_back(loaded: Engine, plan_id: int, fmt: str, tmp_path: Path) -> None:
    with session_scope(loaded) as session:
        export = export_plan(session, plan_id, fmt)
    path = tmp_path / export.filename
    path.write_bytes(export.content)
    assert export.filename.startswith(f"{URBAN}-v1")
    if fmt == "shp":
        assert export.media_type == "application/zip"
        grids = pyogrio.read_dataframe(f"/vsizip/{path}/grids.shp")
        assignments = pyogrio.read_dataframe(f"/vsizip/{path}/assignments.shp")
        assert len(assignments) == 7 and "bldg_id" in assignments
        assert list(grids["in_limits"]) == [1, 0]
    else:
        grids = pyogrio.read_dataframe(path, layer="grids")
        expected = {"grids": 2, "assignments": 7} if fmt == "gpkg" else {"grids": 2}
        assert _layers(str(path)) == expected
    assert len(grids) == 2 and grids.crs.to_epsg() == 4326
    name = "Name" if fmt == "kml" else "grid_code"
    assert sorted(grids[name]) == ["360702-001-001-01", "360702-001-001-02"]


def test_export_one_layer_and_bad_format(loaded: Engine, plan_id: int, tmp_path: Path) -> None:
    with session_scope(loaded) as session:
        export = export_plan(session, plan_id, "geojson", layer="assignments")
        with pytest.raises(InputError, match="unknown export format"):
            export_plan(session, plan_id, "dwg")
    path = tmp_path / export.filename
    path.write_bytes(export.content)
    assignments = pyogrio.read_dataframe(path)
    assert len(assignments) == 7 and assignments.geometry.notna().all()

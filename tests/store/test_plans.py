"""Plan versions: saving a partition, publishing, listing and comparing."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from geogrid.db.models import AuditLog, PlanVersion
from geogrid.db.session import session_scope
from geogrid.errors import InputError
from geogrid.partition.engine import PartitionResult
from geogrid.partition.rules import Rules
from geogrid.store.plans import (
    Conflict,
    NotFound,
    compare,
    list_versions,
    plan_assignments,
    plan_grids,
    publish,
    save_partition,
)

from .conftest import _cell

URBAN = "360702001001"


def hand_made_result(moved: bool = False) -> PartitionResult:
    """Two grids over the urban community; U0 is a tower split between them by units."""
    codes = [f"{URBAN[:6]}-001-001-01", f"{URBAN[:6]}-001-001-02"]
    grids = gpd.GeoDataFrame(
        {
            "grid_code": codes,
            "community_code": [URBAN, URBAN],
            "households": [310, 330],
            "population": [800, 770],
            "building_count": [4, 3],
            "compactness": [0.71, 0.64],
            "within_limits": [True, False],
            "flags": ["[]", json.dumps([{"rule": "max_population", "reason": "超过上限"}], ensure_ascii=False)],
        },
        geometry=[_cell(0, 0, 2, 1), _cell(0, 1, 2, 1)],
        crs="EPSG:4326",
    )
    a, b = codes
    rows = [
        ("U0", "1-3", a, 60, 150),
        ("U0", "4-6", b, 60, 150),
        ("U1", "", a, 80, 200),
        ("U2", "", a, 60, 150),
        ("U3", "", b if not moved else a, 150, 380),
        ("U4", "", b, 40, 100),
        ("U5", "", a if not moved else b, 90, 220),
        ("X9", "", None, 5, 10),  # outside every community: not this plan's
    ]
    assignments = pd.DataFrame(rows, columns=["building_id", "units", "grid_code", "households", "population"])
    assignments.insert(1, "community_code", [URBAN] * 7 + [None])
    return PartitionResult(grids=grids, assignments=assignments, report={"total": {"grids": 2}})


def _save(engine: Engine, moved: bool = False) -> int:
    with session_scope(engine) as session:
        return save_partition(session, URBAN, hand_made_result(moved), Rules(), "planner1").id


def test_save_partition(loaded: Engine) -> None:
    plan_id = _save(loaded)
    with session_scope(loaded) as session:
        plan = session.get(PlanVersion, plan_id)
        assert (plan.status, plan.number, plan.created_by, plan.revision) == ("draft", 1, "planner1", 1)
        assert plan.rules["max_households"] == Rules().max_households
        assert plan.created_at.tzinfo is not None
        grids = plan_grids(session, plan_id)
        assignments = plan_assignments(session, plan_id)
    assert list(grids["grid_code"]) == ["360702-001-001-01", "360702-001-001-02"]
    assert grids.crs.to_epsg() == 4326 and grids.geometry.iloc[0].geom_type == "MultiPolygon"
    assert json.loads(grids["flags"].iloc[1])[0]["reason"] == "超过上限"
    assert list(grids["within_limits"]) == [True, False]
    assert len(assignments) == 7 and set(assignments[assignments.building_id == "U0"]["units"]) == {"1-3", "4-6"}


def test_save_rejects_unknown_community(loaded: Engine) -> None:
    with session_scope(loaded) as session, pytest.raises(InputError, match="unknown community"):
        save_partition(session, "nowhere", hand_made_result(), Rules(), "planner1")
    with session_scope(loaded) as session, pytest.raises(InputError, match="no grids"):
        save_partition(session, "360702002001", hand_made_result(), Rules(), "planner1")


def test_publish_archives_previous(loaded: Engine) -> None:
    first, second = _save(loaded), _save(loaded, moved=True)
    with session_scope(loaded) as session:
        assert publish(session, first, "leader1").status == "published"
    with session_scope(loaded) as session:
        plan = publish(session, second, "leader1", expected_revision=1)
        assert (plan.published_by, plan.revision) == ("leader1", 2)
    with session_scope(loaded) as session:
        versions = list_versions(session, URBAN)
        assert [(v.number, v.status) for v in versions] == [(2, "published"), (1, "archived")]
        assert versions[0].published_at is not None
        actions = session.scalars(select(AuditLog.action).where(AuditLog.object_type == "plan_version")).all()
        assert sorted(actions) == ["archive", "create", "create", "publish", "publish"]


def test_publish_checks_revision_and_existence(loaded: Engine) -> None:
    plan_id = _save(loaded)
    with session_scope(loaded) as session, pytest.raises(Conflict):
        publish(session, plan_id, "leader1", expected_revision=7)
    with session_scope(loaded) as session, pytest.raises(NotFound):
        publish(session, 999, "leader1")


def test_one_published_version_per_community(loaded: Engine) -> None:
    first, second = _save(loaded), _save(loaded)
    with session_scope(loaded) as session:
        publish(session, first, "leader1")
    with pytest.raises(IntegrityError), session_scope(loaded) as session:
        session.execute(update(PlanVersion).where(PlanVersion.id == second).values(status="published"))


def test_compare(loaded: Engine) -> None:
    first, second = _save(loaded), _save(loaded, moved=True)
    with session_scope(loaded) as session:
        diff = compare(session, first, second)
    assert sorted(diff.changes["building_id"]) == ["U3", "U5"]
    assert (diff.buildings_changed, diff.households_moved, diff.population_moved) == (2, 240, 600)
    as_json = diff.to_dict()
    assert json.dumps(as_json) and as_json["households_moved"] == 240
    with session_scope(loaded) as session:
        assert compare(session, first, first).buildings_changed == 0

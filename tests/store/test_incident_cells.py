"""The statistics' H3 cells of each case, cached per resolution: a case added after the cells were made gets its
cell, and the cells already made stay exact (64-bit H3 cells do not survive a trip through float64)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Engine, insert

from geogrid.db.models import Incident
from geogrid.db.session import session_scope
from geogrid.incidents.density import h3_cells
from geogrid.store.incident_columns import IncidentColumns


def _case(lon: float, lat: float) -> dict:
    return {"external_id": str(uuid.uuid4()), "token": str(uuid.uuid4()), "category": "environment_sanitation",
            "channel": "app", "status": "reported", "reported_at": datetime(2025, 6, 1, tzinfo=UTC),
            "grid_code": "360702-001-001-01", "community_code": "360702-001-001", "street_code": "360702-001",
            "district_code": "360702", "lon": lon, "lat": lat}


def test_a_new_case_gets_its_cell_and_the_cached_cells_stay_exact(engine: Engine) -> None:
    points = [(115.9001, 28.6001), (115.9102, 28.6053)]
    columns = IncidentColumns()
    with session_scope(engine) as session:
        session.execute(insert(Incident), [_case(*points[0])])
    with session_scope(engine) as session:
        first = columns.cells(session, 9)
    with session_scope(engine) as session:
        session.execute(insert(Incident), [_case(*points[1])])
    with session_scope(engine) as session:
        both = columns.cells(session, 9)
    lon, lat = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    expected = h3_cells(lon, lat, 9)
    assert first.dtype == both.dtype == np.uint64
    assert first.to_numpy().tolist() == expected[:1].tolist()
    assert both.to_numpy().tolist() == expected.tolist()  # the first case's cell unchanged, to the last bit

"""Placing reports by the published grids: the boundary rule of geogrid.geo.locate, following every published plan at once."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import Engine, func, select, update

from geogrid.db.models import SRID, AuditLog, Incident, IncidentEvent, PlanVersion
from geogrid.db.session import session_scope
from geogrid.partition.engine import PartitionResult
from geogrid.partition.rules import Rules
from geogrid.store import placement
from geogrid.store.placement import community_at, grids_near
from geogrid.store.incidents import Report, create_incident
from geogrid.store.plans import publish, save_partition
from geogrid.incidents.taxonomy import load_taxonomy

from .conftest import STEP, X0, Y0, _cell

URBAN, RURAL = "360702001001", "360702002001"
# The upper urban grid has the smaller code, so a point on the urban grids' shared edge goes up; the rural
# community keeps a corner (3..4, 1..2) in no grid.
LAYOUT = {
    URBAN: {"360702-001-001-02": _cell(0, 0, 2, 1), "360702-001-001-01": _cell(0, 1, 2, 1)},
    RURAL: {"360702-002-001-01": _cell(2, 0, 1, 2), "360702-002-001-02": _cell(3, 0, 1, 1)},
}


def plan_of(cells: dict[str, shapely.Geometry], community: str) -> PartitionResult:
    """A partition result with these grids (code: polygon) and no buildings."""
    codes = list(cells)
    grids = gpd.GeoDataFrame(
        {"grid_code": codes, "community_code": [community] * len(codes), "households": [100] * len(codes),
         "population": [250] * len(codes), "building_count": [1] * len(codes), "compactness": [0.7] * len(codes),
         "within_limits": [True] * len(codes), "flags": ["[]"] * len(codes)},
        geometry=list(cells.values()), crs="EPSG:4326",
    )
    columns = ["building_id", "community_code", "units", "grid_code", "households", "population"]
    return PartitionResult(grids=grids, assignments=pd.DataFrame(columns=columns), report={})


def publish_plan(engine: Engine, community: str, cells: dict[str, shapely.Geometry]) -> int:
    """Save these grids as a new plan version of community and publish it, each in its own transaction."""
    with session_scope(engine) as session:
        plan_id = save_partition(session, community, plan_of(cells, community), Rules(), "planner1").id
    with session_scope(engine) as session:
        publish(session, plan_id, "leader1")
    return plan_id


@pytest.fixture
def published(loaded: Engine) -> Engine:
    for community, cells in LAYOUT.items():
        publish_plan(loaded, community, cells)
    return loaded


def probe_points() -> list[tuple[float, float]]:
    """Every grid vertex, the midpoint of every edge (on the edge: the edges are level or upright),
    random points over the district and around it, and points well outside it."""
    cells = [cell for cells in LAYOUT.values() for cell in cells.values()]
    points = []
    for cell in cells:
        ring = shapely.get_coordinates(cell.exterior)
        points += [tuple(p) for p in ring]
        points += [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2) for a, b in zip(ring[:-1], ring[1:], strict=True)]
    rng = np.random.default_rng(7)
    points += [(X0 + x * STEP, Y0 + y * STEP) for x, y in rng.uniform(-0.5, 4.5, (200, 2))]
    points += [(X0 - STEP, Y0), (X0 + 9 * STEP, Y0 + 9 * STEP), (X0 + 3.5 * STEP, Y0 + 1.5 * STEP)]
    return points


def expected_grid(lon: float, lat: float) -> tuple[str, str] | None:
    """By hand: the grid with the smallest code among those whose closed square covers the point."""
    covering = sorted((code, community) for community, cells in LAYOUT.items() for code, cell in cells.items()
                      if cell.covers(shapely.Point(lon, lat)))
    return covering[0] if covering else None


def test_the_layout_places_every_point_by_the_boundary_rule(published: Engine) -> None:
    points = probe_points()
    cells = [cell for cells in LAYOUT.values() for cell in cells.values()]
    on_shared_edges = [p for p in points if sum(c.covers(shapely.Point(p)) for c in cells) > 1]
    assert len(on_shared_edges) >= 10  # edges inside a community and across the street boundary
    in_no_grid = [p for p in points if not any(c.covers(shapely.Point(p)) for c in cells)]
    assert len(in_no_grid) >= 10
    with session_scope(published) as session:
        for lon, lat in points:
            assert placement.grid_at(session, lon, lat) == expected_grid(lon, lat), (lon, lat)
    with session_scope(published) as session:
        edge = (X0 + 0.5 * STEP, Y0 + STEP)  # between the two urban grids: the smaller code, the upper one
        assert placement.grid_at(session, *edge) == ("360702-001-001-01", URBAN)
        corner = (X0 + 2 * STEP, Y0 + STEP)  # three grids of two communities meet here
        assert placement.grid_at(session, *corner) == ("360702-001-001-01", URBAN)


def test_a_point_in_no_grid_gets_its_community_and_the_grids_near_it(published: Engine) -> None:
    with session_scope(published) as session:
        corner = community_at(session, X0 + 3.5 * STEP, Y0 + 1.5 * STEP)  # the rural corner no grid covers
        assert (corner.grid_code, corner.community_code, corner.street_code, corner.district_code) == (
            None, RURAL, "360702002", "360702")
        border = community_at(session, X0 + 2 * STEP, Y0 + 0.5 * STEP)  # on both communities: the smaller code
        assert border.community_code == URBAN
        outside = community_at(session, X0 + 4 * STEP + 0.0003, Y0 + 0.5 * STEP)
        assert (outside.community_code, outside.district_code) == (None, None)
        near = grids_near(session, X0 + 3.5 * STEP, Y0 + 1.5 * STEP, within_m=1000.0)
        assert [s["grid_code"] for s in near] == ["360702-002-001-01", "360702-002-001-02"]  # half a cell west, south
        assert 480 < near[0]["distance_m"] < 500 < 545 < near[1]["distance_m"] < 560  # 0.005 deg of lon, of lat
        east = grids_near(session, X0 + 4 * STEP + 0.0003, Y0 + 0.5 * STEP)  # about 29 m east of the district
        assert [(s["grid_code"], s["community_code"]) for s in east] == [("360702-002-001-02", RURAL)]
        assert 25 <= east[0]["distance_m"] <= 35
        assert grids_near(session, X0 + 4 * STEP + 0.002, Y0 + 0.5 * STEP) == []  # about 200 m: none within 100


def test_a_grid_stored_invalid_does_not_stop_placement(loaded: Engine) -> None:
    s = STEP
    touching = shapely.Polygon([(X0, Y0), (X0 + s, Y0), (X0 + s, Y0 + s), (X0 + 2 * s, Y0 + s), (X0 + 2 * s, Y0 + 2 * s),
                                (X0 + s, Y0 + 2 * s), (X0 + s, Y0 + s), (X0, Y0 + s)])  # two squares, one ring, one vertex
    assert not touching.is_valid
    publish_plan(loaded, URBAN, {"360702-001-001-01": touching})
    with session_scope(loaded) as session:
        assert placement.grid_at(session, X0 + 0.5 * s, Y0 + 0.5 * s) == ("360702-001-001-01", URBAN)
        assert placement.grid_at(session, X0 + 1.5 * s, Y0 + 1.5 * s) == ("360702-001-001-01", URBAN)
        assert placement.grid_at(session, X0 + s, Y0 + s) == ("360702-001-001-01", URBAN)  # the touching vertex
        assert placement.grid_at(session, X0 + 1.5 * s, Y0 + 0.5 * s) is None


def report_at(lon: float, lat: float, external_id: str | None = None) -> Report:
    return Report(category="city_management", channel="grid_patrol", description="占道经营", x=lon, y=lat,
                  crs="wgs84", external_id=external_id)


def test_reports_are_stored_in_the_areas_the_database_finds(published: Engine) -> None:
    taxonomy = load_taxonomy()
    points = {
        "shared edge": (X0 + 2 * STEP, Y0 + 0.5 * STEP),  # urban -02 and rural -01, across streets
        "inside": (X0 + 3.5 * STEP, Y0 + 0.5 * STEP),
        "community, no grid": (X0 + 3.5 * STEP, Y0 + 1.5 * STEP),
        "outside the district": (X0 + 4 * STEP + 0.0003, Y0 + 0.5 * STEP),  # about 30 m east
    }
    areas = {  # grid, community, street; every one in district 360702 (just outside: the nearest grid's)
        "shared edge": ("360702-001-001-02", URBAN, "360702001"),
        "inside": ("360702-002-001-02", RURAL, "360702002"),
        "community, no grid": (None, RURAL, "360702002"),
        "outside the district": (None, None, None),
    }
    for name, (lon, lat) in points.items():
        with session_scope(published) as session:
            incident, created = create_incident(session, report_at(lon, lat), "worker1", taxonomy)
            case_id = incident.id
            near = grids_near(session, lon, lat)
        with session_scope(published) as session:
            stored = session.get(Incident, case_id)
            assert created, name
            assert (stored.grid_code, stored.community_code, stored.street_code) == areas[name], name
            assert stored.district_code == "360702", name
            assert stored.suggestions == ([] if areas[name][0] else near), name
            assert (stored.lon, stored.lat, stored.located_by) == (lon, lat, "point"), name
            assert (to_shape(stored.geom).x, to_shape(stored.geom).y) == (lon, lat), name
            assert session.scalar(select(func.ST_SRID(Incident.geom)).where(Incident.id == case_id)) == SRID
            events = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == case_id)).all()
            assert [(e.action, e.to_status, e.to_level, e.data) for e in events] == [
                ("report", "reported", 1, {"located_by": "point"})]
    assert near  # the last point fell outside, near a grid


def stored_areas(engine: Engine, case_id: int) -> tuple:
    with session_scope(engine) as session:
        case = session.get(Incident, case_id)
        return case.grid_code, case.community_code, case.street_code, case.district_code, case.suggestions


def test_placement_follows_a_newly_published_plan_at_once(published: Engine) -> None:
    top = (X0 + STEP, Y0 + 1.5 * STEP)
    taxonomy = load_taxonomy()
    with session_scope(published) as session:
        assert placement.grid_at(session, *top) == ("360702-001-001-01", URBAN)
        kept = placement.layout(session)
    publish_plan(published, URBAN, {"360702-001-001-09": _cell(0, 0, 2, 2)})
    with session_scope(published) as session:  # the kept layout is stale now: the INSERT's stamp says so
        assert placement.kept(session) is kept
        incident, _ = create_incident(session, report_at(*top), "worker1", taxonomy)
        assert (incident.grid_code, incident.street_code, incident.district_code) == (
            "360702-001-001-09", "360702001", "360702")
        assert placement.kept(session) is not kept
    assert stored_areas(published, incident.id) == ("360702-001-001-09", URBAN, "360702001", "360702", [])
    with session_scope(published) as session:
        assert placement.grid_at(session, *top) == ("360702-001-001-09", URBAN)


def test_placement_follows_plans_changed_without_an_audit_row(published: Engine) -> None:
    top = (X0 + 1.99 * STEP, Y0 + 1.5 * STEP)  # about 10 m from the rural grid across the street boundary
    with session_scope(published) as session:
        assert placement.grid_at(session, *top) == ("360702-001-001-01", URBAN)
        audited = session.scalar(select(func.max(AuditLog.id)))
    with session_scope(published) as session:  # by hand, as a bulk load would: no audit row
        session.execute(update(PlanVersion).where(PlanVersion.community_code == URBAN).values(status="archived"))
    with session_scope(published) as session:
        assert session.scalar(select(func.max(AuditLog.id))) == audited
        incident, _ = create_incident(session, report_at(*top), "worker1", load_taxonomy())
        place, near = community_at(session, *top), grids_near(session, *top)
        assert placement.grid_at(session, *top) is None and place.community_code == URBAN and near
    assert stored_areas(published, incident.id) == (None, URBAN, "360702001", "360702", near)
    with session_scope(published) as session:
        assert placement.grid_at(session, *top) is None


def test_a_stored_external_id_answers_the_stored_case(published: Engine) -> None:
    taxonomy = load_taxonomy()
    lon, lat = X0 + 0.5 * STEP, Y0 + 0.5 * STEP
    with session_scope(published) as session:
        first, created = create_incident(session, report_at(lon, lat, "12345-0001"), "worker1", taxonomy)
        first.matched_building_id = "U1"  # the ORM object is the session's: a change to it is saved
        assert created and first in session
    with session_scope(published) as session:
        again, created = create_incident(session, report_at(lon + 0.001, lat, "12345-0001"), "worker1", taxonomy)
        assert not created and again.id == first.id and again.matched_building_id == "U1"
        swapped, created = create_incident(session, report_at(lat, lon, "12345-0001"), "worker1", taxonomy)
        assert not created and swapped.id == first.id  # as before: a stored case, whatever the location
        count = select(func.count()).select_from(Incident).where(Incident.external_id == "12345-0001")
        assert session.scalar(count) == 1
        assert session.scalar(select(func.count()).select_from(IncidentEvent)) == 1


def test_a_new_case_is_answered_without_reading_it_back(published: Engine) -> None:
    """Every column of the new case is known from its INSERT: answering it reads nothing more from the store."""
    from sqlalchemy import event, inspect

    taxonomy = load_taxonomy()
    statements: list[str] = []
    with session_scope(published) as session:
        incident, created = create_incident(session, report_at(X0 + 0.5 * STEP, Y0 + 0.5 * STEP), "worker1",
                                            taxonomy)
        assert created and inspect(incident).unloaded == set()

        def executed(connection, cursor, statement, *args) -> None:
            statements.append(statement)

        event.listen(session.get_bind(), "before_cursor_execute", executed)
        try:
            columns = {c.key: getattr(incident, c.key) for c in Incident.__mapper__.column_attrs}
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", executed)
        assert statements == [] and columns["department_rating"] is None and columns["status"]
    with session_scope(published) as session:  # its 'report' event went in with it (one statement on PostGIS)
        (event,) = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == columns["id"])).all()
        assert (event.action, event.username, event.from_status, event.to_status, event.to_level) == (
            "report", "worker1", None, columns["status"], columns["level"])
        assert event.data == {"located_by": "point"} and event.at is not None


def test_a_change_to_the_new_case_is_written(published: Engine) -> None:
    """The new case stands in the session as if loaded: a change made to it later is flushed, and only that."""
    taxonomy = load_taxonomy()
    with session_scope(published) as session:
        incident, created = create_incident(session, report_at(X0 + 0.5 * STEP, Y0 + 0.5 * STEP, "changed-1"),
                                            "worker1", taxonomy)
        assert created and not session.dirty
        incident.description = "changed after filing"
        assert list(session.dirty) == [incident]
    with session_scope(published) as session:
        stored = session.scalar(select(Incident).where(Incident.external_id == "changed-1"))
        assert stored.description == "changed after filing" and stored.grid_code == incident.grid_code

"""Reports written from the event loop (PostgreSQL): the same stored case as create_incident, or nothing at all."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DataError, OperationalError

from geogrid.db.loop_pool import loop_pool
from geogrid.db.models import Incident, IncidentEvent
from geogrid.db.session import session_scope
from geogrid.incidents.taxonomy import load_taxonomy
from geogrid.store import placement
from geogrid.store.incidents import Report, create_incident, loop_report_case, report_on_loop

from .conftest import STEP, X0, Y0, _cell
from .test_placement import URBAN, publish_plan, published, report_at, stored_areas  # noqa: F401 (a fixture)

T = TypeVar("T")
pytestmark = pytest.mark.parametrize("backend", ["postgis"], indirect=True)  # the event-loop path is PostgreSQL's
# columns that differ between two reports of the same thing: who they are and when they came
OWN = {"id", "external_id", "token", "reported_at", "level_since", "deadline_at", "updated_at", "geom"}


def in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """The coroutine's result, run to the end on a new event loop in a thread of its own (the browser tests keep
    a loop running in the main thread, where asyncio.run refuses to start another)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def on_loop(engine: Engine, *reports: Report) -> list:
    """report_on_loop for each report in turn, over a pool opened and closed on one event loop."""

    async def run() -> list:
        pool = loop_pool(engine.url.render_as_string(hide_password=False), 2)
        await pool.open()
        try:
            return [await report_on_loop(pool, placement.store_key(engine), r, "worker1", load_taxonomy()) for r in reports]
        finally:
            await pool.close()

    return in_own_loop(run())


def keep_layout(engine: Engine) -> placement.GridLayout:
    with session_scope(engine) as session:
        return placement.layout(session)


def stored(engine: Engine, external_id: str) -> tuple[dict, list]:
    """The stored case's columns (but its own) and its events' (but their time and case)."""
    with session_scope(engine) as session:
        case = session.scalar(select(Incident).where(Incident.external_id == external_id))
        columns = {c.key: getattr(case, c.key) for c in Incident.__mapper__.column_attrs if c.key not in OWN}
        point = session.scalar(select(func.ST_AsEWKT(Incident.geom)).where(Incident.id == case.id))
        events = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == case.id)).all()
        steps = [(e.username, e.action, e.from_status, e.to_status, e.from_level, e.to_level, e.note, e.data)
                 for e in events]
    return columns | {"point": point}, steps


def test_the_loop_stores_what_create_incident_stores(published: Engine, backend: str) -> None:
    taxonomy = load_taxonomy()
    keep_layout(published)
    points = [(X0 + 0.5 * STEP, Y0 + 0.5 * STEP), (X0 + 2.5 * STEP, Y0 + 1.5 * STEP), (X0 + STEP, Y0 + STEP)]
    for k, (lon, lat) in enumerate(points):
        (answer,) = on_loop(published, report_at(lon, lat, f"loop-{k}"))
        values, location, stale = answer
        assert not stale and values["grid_code"] is not None
        with session_scope(published) as session:
            create_incident(session, report_at(lon, lat, f"session-{k}"), "worker1", taxonomy)
        assert stored(published, f"loop-{k}") == stored(published, f"session-{k}")
        case = loop_report_case(None, values, location)  # the answer: the stored case's every column
        with session_scope(published) as session:
            again = session.scalar(select(Incident).where(Incident.external_id == f"loop-{k}"))
            for column in Incident.__mapper__.column_attrs:
                if column.key != "geom":
                    assert getattr(case, column.key) == getattr(again, column.key), column.key


def test_the_loop_leaves_to_create_incident_what_needs_the_store(published: Engine, backend: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(placement, "_layouts", type(placement._layouts)())  # a process that kept none yet
    lon, lat = X0 + 0.5 * STEP, Y0 + 0.5 * STEP
    assert on_loop(published, report_at(lon, lat, "before-any-layout")) == [None]  # no layout kept yet
    keep_layout(published)
    with session_scope(published) as session:
        create_incident(session, report_at(lon, lat, "taken"), "worker1", load_taxonomy())
    address = Report(category="city_management", channel="grid_patrol", description="x", address="洪城路1号")
    unknown = Report(category="no-such-category", channel="grid_patrol", description="x", x=lon, y=lat,
                     crs="wgs84", external_id="refused")
    answers = on_loop(published, report_at(lon, lat, "taken"),  # an external id already stored
                      report_at(X0 + 3.5 * STEP, Y0 + 1.5 * STEP, "in-no-grid"), address, unknown)
    assert answers == [None, None, None, None]
    with session_scope(published) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
        assert session.scalar(select(func.count()).select_from(IncidentEvent)) == 1


def test_a_case_stored_by_a_stale_layout_is_placed_again(published: Engine, backend: str) -> None:
    top = (X0 + STEP, Y0 + 1.5 * STEP)
    assert keep_layout(published).grid_at(*top) == ("360702-001-001-01", URBAN)
    publish_plan(published, URBAN, {"360702-001-001-09": _cell(0, 0, 2, 2)})
    ((values, location, stale),) = on_loop(published, report_at(*top, "after-publishing"))
    assert stale and values["grid_code"] == "360702-001-001-01"  # as the kept layout said, until placed again
    with session_scope(published) as session:
        case = loop_report_case(session, values, location)
    assert (case.grid_code, case.street_code, case.district_code) == ("360702-001-001-09", "360702001", "360702")
    assert stored_areas(published, case.id) == ("360702-001-001-09", URBAN, "360702001", "360702", [])


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it(engine: Engine, backend: str) -> None:
    """The API's error handlers know SQLAlchemy's exceptions: a value the database refuses is a DataError (422),
    a database that cannot be reached an OperationalError (503), never psycopg's own (a 500)."""
    from sqlalchemy import Integer, cast, literal

    from geogrid.db.loop_pool import DriverStatement

    async def run(url: str, statement: DriverStatement) -> None:
        pool = loop_pool(url, 1, timeout=1.0)
        await pool.open(wait=False)
        try:
            await statement.first(pool, {})
        finally:
            await pool.close()

    with pytest.raises(DataError):
        in_own_loop(run(engine.url.render_as_string(hide_password=False), DriverStatement(select(cast(literal("not a number"), Integer)))))
    unreachable = str(engine.url.set(port=1))
    with pytest.raises(OperationalError):
        in_own_loop(run(unreachable, DriverStatement(select(literal(1)))))

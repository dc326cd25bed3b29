"""A report's write: on PostgreSQL one statement from the event loop committing on its own, on SQLite a writing transaction; stored when answered."""

from __future__ import annotations

from sqlalchemy import event, func, select

from geogrid.db.engine import WRITE
from geogrid.db.models import Incident, IncidentEvent
from geogrid.db.session import session_scope
from tests.api.test_incidents import grid_point, report


def test_a_report_is_one_write_statement_committed_before_the_answer(client, store, auth, users, backend) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    report(client, auth("worker"), lon, lat, external_id="warm-up")  # the grid layout is read once, not measured
    seen: list[tuple[str, bool, bool]] = []

    def statement(conn, cursor, text, params, context, executemany) -> None:
        dbapi = conn.connection.dbapi_connection
        autocommit = bool(getattr(dbapi, "autocommit", False)) if backend == "postgis" else False
        seen.append((text.lstrip().split()[0].upper(), autocommit, bool(conn.get_execution_options().get(WRITE))))

    engine = client.app.state.engine
    event.listen(engine, "before_cursor_execute", statement)
    try:
        case = report(client, auth("worker"), lon, lat, external_id="intake-1")
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    writes = [s for s in seen if s[0] in ("INSERT", "WITH", "UPDATE", "DELETE")]
    if backend == "postgis":  # written from the event loop over its own autocommitting pool (one statement, see
        assert writes == [] and not client.app.state.loop_pool.closed  # tests/store/test_report_on_loop.py)
    else:  # SQLite: the case's INSERT and its event's, in a transaction that took the write lock first
        assert [(kind, write) for kind, _, write in writes] == [("INSERT", True), ("INSERT", True)]
    with session_scope(store) as session:  # another connection sees it as soon as it is answered
        stored = session.scalar(select(Incident).where(Incident.external_id == "intake-1"))
        events = session.scalar(select(func.count()).select_from(IncidentEvent)
                                .where(IncidentEvent.incident_id == case["id"], IncidentEvent.action == "report"))
    assert stored is not None and stored.id == case["id"] and stored.grid_code == case["grid_code"]
    assert events == 1


def test_a_refused_report_stores_nothing(client, store, auth, users) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    body = {"category": "city_management", "description": "x", "external_id": "refused-1",
            "location": {"lon": lon, "lat": lat, "crs": "wgs84"}, "media_urls": ["/media/no-such-photo.jpg"]}
    answer = client.post("/api/v1/incidents", json=body, headers=auth("worker"))
    assert answer.status_code == 422, answer.text
    with session_scope(store) as session:
        assert session.scalar(select(Incident.id).where(Incident.external_id == "refused-1")) is None

"""Incidents in the store: report (located into a grid), act along the workflow, place, list and trace."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import (
    ColumnElement,
    Insert,
    ScalarSelect,
    Select,
    Update,
    and_,
    bindparam,
    false,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached

from geogrid import access
from geogrid.incidents import deadlines, filing, open311, workflow
from geogrid.db.loop_pool import DriverStatement
from geogrid.db.models import PUBLISHED, SRID, Community, Grid, Incident, IncidentEvent, PlanVersion, Street, utcnow
from geogrid.errors import InputError
from geogrid.store import audit, placement
from geogrid.store.plans import Conflict, NotFound
from geogrid.store.spatial import Scope
from geogrid.geo.locate import box_around, distances_m
from geogrid.incidents.reports import Location, Report
from geogrid.incidents.taxonomy import Taxonomy


NEARBY_M = 250.0  # how far a new report looks for open cases it may repeat (FixMyStreet's default)


# --- the published grids (a case is placed by geogrid.store.placement) -------------------------------------


def _published_grids() -> Select:
    """Published grids with their community, street and district codes (to place a case in a named grid)."""
    return (
        select(Grid.code, Grid.geom, PlanVersion.community_code, Community.street_code, Street.district_code)
        .join(PlanVersion, PlanVersion.id == Grid.plan_version_id)
        .join(Community, Community.code == PlanVersion.community_code)
        .join(Street, Street.code == Community.street_code)
        .where(PlanVersion.status == PUBLISHED)
    )


# --- reporting -------------------------------------------------------------------------------------


def create_incident(
    session: Session,
    report: Report,
    username: str,
    taxonomy: Taxonomy,
    geocoder: filing.Geocoder | None = None,
) -> tuple[Incident, bool]:
    """Store a report, located into its grid (or unlocated with nearby grids suggested).

    The domain decides the case (geogrid.incidents.filing: category and channel, location, deadline,
    level); the store places it in its grid and writes it. A report whose external id is already stored
    is not stored again: (the stored incident, False). The incident and its 'report' event go in by plain
    INSERTs, one statement on PostgreSQL; the incident's INSERT skips a stored external id (ON CONFLICT DO
    NOTHING), and only then is the stored case read.
    """
    category = filing.check(report, taxonomy)
    if report.external_id and filing.needs_geocoding(report):  # geocoding costs: a case already stored skips it
        existing = stored_case(session, report.external_id)
        if existing is not None:
            return existing, False
    try:
        case = filing.decide(report, category, username, utcnow(), geocoder)
    except InputError:  # as before: a stored external id answers with its case, whatever the location
        existing = stored_case(session, report.external_id) if report.external_id else None
        if existing is None:
            raise
        return existing, False
    return _write(session, case)


def _write(session: Session, case: filing.NewCase) -> tuple[Incident, bool]:
    """Place the decided case in its grid and insert it with its 'report' event; (the stored case, False)
    when its external id is already stored."""
    location, values = case.location, _columns(case)
    layout = placement.kept(session) or placement.layout(session)  # its stamp is checked by the INSERT
    inserted = _insert(session, values, _place(session, values, location, layout), location)
    if inserted is None:
        existing = stored_case(session, values["external_id"] or "")
        if existing is None:
            raise RuntimeError(f"external id {values['external_id']!r} conflicted but no case holds it")
        return existing, False
    values["id"], values["street_code"], values["district_code"], stamp = inserted
    if stamp != layout.stamp and location.lon is not None:  # plans were published since: place the case again
        _place_again(session, values, location)
    return _persistent(session, values), True


async def report_on_loop(pool: AsyncConnectionPool, store_key: str, report: Report, username: str,
                         taxonomy: Taxonomy) -> tuple[dict[str, Any], Location, bool] | None:
    """create_incident for the usual report, on the event loop over pool (PostgreSQL; autocommit: its one
    statement commits on its own): a point in a grid of the published plans' layout kept in memory. Answers the
    stored case's columns, its location and whether plans were published since that layout was built (then
    loop_report_case places it again); None, storing nothing, when create_incident must decide: an address to
    geocode, a point in no grid, no layout kept yet, a refused report, or an external id already stored."""
    layout = placement.kept_at(store_key)
    if layout is None or report.x is None:
        return None
    try:
        case = filing.decide(report, filing.check(report, taxonomy), username, utcnow())
    except InputError:
        return None
    values = _columns(case)
    if not _in_grid(values, case.location, layout):
        return None
    row = await CASE_AND_EVENT_ON_LOOP.first(pool, _case_and_event(values, True, case.location))
    if row is None:
        return None
    values["id"], values["street_code"], values["district_code"], stamp = row
    return values, case.location, stamp != layout.stamp


def loop_report_case(session: Session | None, values: dict[str, Any], location: Location) -> Incident:
    """The case report_on_loop stored, as a detached ORM object; placed again by the published grids as they are
    now when a session is given (report_on_loop found plans published since its layout)."""
    if session is not None:
        _place_again(session, values, location)
    return _loaded(values)


class IdTaken(Conflict):
    """An external id already held by a case the caller may not see (409, and nothing of that case shown)."""


def report_as(
    session: Session,
    report: Report,
    user: access.User,
    taxonomy: Taxonomy,
    geocoder: Any | None = None,
) -> tuple[Incident, bool]:
    """create_incident for a signed-in user: a replayed external id answers the stored case only when the user
    may see it (visible_to), else IdTaken, so that a guessed id reveals no case outside the caller's scope."""
    incident, created = create_incident(session, report, user.username, taxonomy, geocoder)
    if not created and not is_visible(session, incident.id, user):
        raise IdTaken(f"external_id {report.external_id!r} is already taken by another case; "
                      "use another id for a new report")
    return incident, created


def stored_case(session: Session, external_id: str) -> Incident | None:
    """The incident stored under external_id, if any."""
    return session.scalar(select(Incident).where(Incident.external_id == external_id))


def _columns(case: filing.NewCase) -> dict[str, Any]:
    """The decided case's columns, its point as a geometry value among them."""
    return case.columns | {"geom": _point(case.location)}


def _point(location: Location) -> Any:
    """The located point as a geometry column value (None while unlocated)."""
    return None if location.lon is None else from_shape(shapely.Point(location.lon, location.lat), srid=SRID)


def _place(session: Session, values: dict[str, Any], location: Location, layout: placement.GridLayout) -> bool:
    """Write into values the areas the location falls in by layout (or suggestions when it falls in no grid);
    True when it fell in a published grid, whose street and district the INSERT reads itself."""
    if _in_grid(values, location, layout):
        return True
    if location.lon is None:
        return False
    place = placement.community_at(session, location.lon, location.lat)
    values["community_code"], values["street_code"], values["district_code"] = (
        place.community_code, place.street_code, place.district_code)
    values["suggestions"] = layout.grids_near(location.lon, location.lat)
    if values["district_code"] is None and values["suggestions"]:  # just outside the district: its leaders see it
        values["district_code"] = _district_of(session, values["suggestions"][0]["community_code"])
    return False


def _in_grid(values: dict[str, Any], location: Location, layout: placement.GridLayout) -> bool:
    """Write into values the published grid holding the location by layout, and True; else clear its areas."""
    values["grid_code"] = values["community_code"] = values["street_code"] = values["district_code"] = None
    values["suggestions"] = []
    found = None if location.lon is None else layout.grid_at(location.lon, location.lat)
    if found is not None:
        values["grid_code"], values["community_code"] = found
    return found is not None


def _areas_of_community() -> dict[str, ScalarSelect[Any]]:
    """The street and district of the community bound as placed_community, as columns of one statement."""
    community = Community.code == bindparam("placed_community")
    return {
        "street_code": select(Community.street_code).where(community).scalar_subquery(),
        "district_code": select(Street.district_code).join(Community, Community.street_code == Street.code)
        .where(community).scalar_subquery(),
    }


def _insert_case(dialect: str, in_grid: bool) -> Insert:
    """INSERT of an incident that skips a stored external id, answering (id, street_code, district_code, the
    published plans' stamp); for a case in a grid the street and district are read from its community."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Incident.__table__)
    if in_grid:
        statement = statement.values(**_areas_of_community())
    return statement.on_conflict_do_nothing(index_elements=["external_id"]).returning(
        Incident.id, Incident.street_code, Incident.district_code, placement.STAMP_OF[dialect].label("stamp"))


EVENT_COLUMNS = ("at", "username", "action", "from_status", "to_status", "from_level", "to_level", "note", "data")


def _insert_case_and_event(in_grid: bool) -> Select[Any]:
    """PostgreSQL: the case's INSERT and, from its new id, its 'report' event's, in one statement (a data-modifying
    WITH: one round trip); answering as _insert_case. A stored external id inserts neither."""
    table = Incident.__table__  # inside a WITH, every value is bound by name (a plain INSERT takes them from params)
    named = {c.name: bindparam(c.name, type_=c.type) for c in table.columns if c.name != "id"}
    case = (postgresql.insert(table).values(**(named | (_areas_of_community() if in_grid else {})))
            .on_conflict_do_nothing(index_elements=["external_id"])
            .returning(Incident.id, Incident.street_code, Incident.district_code,
                       placement.STAMP_OF["postgresql"].label("stamp"))
            .cte("new_case"))
    events = IncidentEvent.__table__
    event = insert(events).from_select(
        ["incident_id", *EVENT_COLUMNS],
        select(case.c.id, *(bindparam(f"event_{name}", type_=events.c[name].type) for name in EVENT_COLUMNS)))
    return select(case.c.id, case.c.street_code, case.c.district_code, case.c.stamp).add_cte(event.cte("new_event"))


def _update_areas(in_grid: bool) -> Update:
    """UPDATE of a stored case's areas and suggestions, answering its street and district."""
    table = Incident.__table__
    areas: dict[str, Any] = {name: bindparam(name) for name in ("grid_code", "community_code", "suggestions")}
    if in_grid:
        areas |= _areas_of_community()
    else:
        areas |= {name: bindparam(name) for name in ("street_code", "district_code")}
    return update(table).where(table.c.id == bindparam("case_id")).values(**areas).returning(
        table.c.street_code, table.c.district_code)


INSERT_CASE = {(d, g): _insert_case(d, g) for d in ("postgresql", "sqlite") for g in (True, False)}
INSERT_CASE_AND_EVENT = {g: _insert_case_and_event(g) for g in (True, False)}
UPDATE_AREAS = {g: _update_areas(g) for g in (True, False)}
INSERT_EVENT = insert(IncidentEvent.__table__)
CASE_AND_EVENT_ON_LOOP = DriverStatement(INSERT_CASE_AND_EVENT[True])  # a report in a grid, from the event loop
AREAS = ("grid_code", "community_code", "street_code", "district_code", "suggestions")


def _insert(session: Session, values: dict[str, Any], in_grid: bool,
            location: Location) -> tuple[int, str | None, str | None, str] | None:
    """Insert the case and its 'report' event (on PostgreSQL in one statement, on SQLite in two); (id, street
    code, district code, the plans' stamp), or None when its external id is stored (and nothing is inserted)."""
    connection = session.connection()
    params = _with_community(values) if in_grid else values
    if connection.dialect.name == "postgresql":
        row = connection.execute(INSERT_CASE_AND_EVENT[in_grid], _case_and_event(values, in_grid, location)).first()
        return None if row is None else (row[0], row[1], row[2], row[3])
    row = connection.execute(INSERT_CASE[connection.dialect.name, in_grid], params).first()
    if row is None:
        return None
    connection.execute(INSERT_EVENT, {"incident_id": row[0]} | _report_event(values, location))
    return row[0], row[1], row[2], row[3]


def _case_and_event(values: dict[str, Any], in_grid: bool, location: Location) -> dict[str, Any]:
    """The parameters of INSERT_CASE_AND_EVENT[in_grid] for the case's values."""
    event = {f"event_{name}": value for name, value in _report_event(values, location).items()}
    return (_with_community(values) if in_grid else values) | event


def _with_community(values: dict[str, Any]) -> dict[str, Any]:
    """values for a statement that reads street and district from the placed community."""
    params = {k: v for k, v in values.items() if k not in ("street_code", "district_code")}
    params["placed_community"] = values["community_code"]
    return params


def _place_again(session: Session, values: dict[str, Any], location: Location) -> None:
    """Place the stored case by the published grids as they are now, and store its areas (rare: once after
    each publishing, per process). In the API's report session on PostgreSQL, which autocommits (one statement
    per report), this UPDATE commits on its own just after the case: until it does, the case stands as placed
    by the plans published a moment before, as a case reported a moment earlier would."""
    in_grid = _place(session, values, location, placement.layout(session))
    areas = {name: values[name] for name in AREAS} | {"case_id": values["id"]}
    params = _with_community(areas) if in_grid else areas
    values["street_code"], values["district_code"] = session.connection().execute(UPDATE_AREAS[in_grid], params).one()


def _report_event(values: dict[str, Any], location: Location) -> dict[str, Any]:
    """The 'report' step of the new case's trace (its EVENT_COLUMNS; the case's id is added by its INSERT)."""
    return {
        "at": utcnow(),
        "username": values["reported_by"],
        "action": "report",
        "from_status": None,
        "to_status": values["status"],
        "from_level": None,
        "to_level": values["level"],
        "note": location.note,
        "data": {"located_by": location.located_by},
    }


def _persistent(session: Session, values: dict[str, Any]) -> Incident:
    """The inserted case as an ORM object in the session, as if loaded: later changes to it are flushed."""
    incident = _loaded(values)
    session.add(incident)
    return incident


def _loaded(values: dict[str, Any]) -> Incident:
    """The inserted case as a detached ORM object, as if loaded. Built as the ORM builds a row it loads, its
    columns set straight into the instance's dictionary: no change event per attribute (39 of them), for values
    that are no change (they are what the INSERT stored)."""
    incident = Incident.__mapper__.class_manager.new_instance()
    incident.__dict__.update(values)
    make_transient_to_detached(incident)
    return incident


def _district_of(session: Session, community_code: str) -> str | None:
    """The district a community lies in."""
    query = select(Street.district_code).join(Community, Community.street_code == Street.code)
    return session.scalar(query.where(Community.code == community_code))


# --- acting ------------------------------------------------------------------------------------------


def get_incident(session: Session, incident_id: int, *, for_update: bool = False) -> Incident:
    """The incident with that id, or NotFound."""
    query = select(Incident).where(Incident.id == incident_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    incident = session.scalar(query)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    return incident


def act(
    session: Session,
    incident_id: int,
    user: workflow.Actor,
    action: str,
    taxonomy: Taxonomy,
    *,
    note: str | None = None,
    department: str | None = None,
    rating: int | None = None,
    media_urls: Sequence[str] = (),
    duplicate_of: int | None = None,
    deadline_at: datetime | None = None,
) -> Incident:
    """Apply a workflow action (with photos of the step, kept in its event); raises workflow.NotAllowedNow (409) or
    NotYourStep (403) with the reason. mark_duplicate names the case it repeats (duplicate_of), whose trace
    records it too."""
    incident = get_incident(session, incident_id, for_update=True)
    move = workflow.plan_move(user, incident, action)
    now = utcnow()
    given_deadline = workflow.checked_deadline(action, deadline_at, now)
    data: dict[str, Any] = {"media_urls": list(media_urls)} if media_urls else {}
    if action == workflow.DUPLICATE:
        original = _original_of(session, incident, user, duplicate_of)
        data["duplicate_of"] = original.id
        _event(session, original, user.username, workflow.ATTACH, (original.status, original.level), note,
               {"duplicate": incident.id})
    if action == "dispatch":
        incident.department = data["department"] = workflow.department_for(taxonomy, incident.category, department)
    if action == "rate":
        incident.rating = data["rating"] = workflow.checked_rating(rating)
    if action == "assess":
        incident.department_rating = data["rating"] = workflow.checked_rating(rating)
        data["department"] = incident.department
    previous = (incident.status, incident.level)
    workflow.apply(incident, move, lambda level, start: taxonomy.category(incident.category).deadline(level, start),
                   now)
    if given_deadline is not None:  # the street's deadline for the department
        incident.deadline_at = data["deadline_at"] = given_deadline
    _event(session, incident, user.username, action, previous, note, data)
    return incident


def _original_of(session: Session, incident: Incident, user: access.User, duplicate_of: int | None) -> Incident:
    """The case a duplicate repeats: one the user may see, other than the duplicate, not itself a duplicate."""
    if duplicate_of is None:
        raise InputError("mark_duplicate needs duplicate_of: the id of the case this one repeats",
                         code="workflow.duplicate_needs_original")
    if duplicate_of == incident.id:
        raise InputError("a case cannot be a duplicate of itself", code="workflow.duplicate_of_itself")
    if not is_visible(session, duplicate_of, user):
        raise NotFound(f"no incident {duplicate_of}")
    if session.scalar(select(IncidentEvent.id).where(IncidentEvent.incident_id == duplicate_of,
                                                     IncidentEvent.action == workflow.DUPLICATE)) is not None:
        raise workflow.NotAllowedNow(f"case {duplicate_of} is itself a duplicate: name the case it repeats",
                                     code="workflow.original_is_duplicate", params={"case": duplicate_of})
    return get_incident(session, duplicate_of)


def attach(session: Session, incident_id: int, user: access.User, *, note: str | None = None,
           media_urls: Sequence[str] = (), lon: float | None = None, lat: float | None = None) -> Incident:
    """"Me too": a report added to an open case the user may see, as a step of its trace (who, when, note, photos,
    where), instead of a second case. NotAllowedNow (409) for a closed case."""
    if not is_visible(session, incident_id, user):
        raise NotFound(f"no incident {incident_id}")
    incident = get_incident(session, incident_id, for_update=True)
    if incident.status not in workflow.ATTACHABLE_STATES:
        raise workflow.NotAllowedNow(f"case {incident_id} is {incident.status}: report a new case instead",
                                     code="workflow.attach_closed",
                                     params={"case": incident_id, "status": incident.status})
    data: dict[str, Any] = {"media_urls": list(media_urls)} if media_urls else {}
    if lon is not None and lat is not None:
        data |= {"lon": lon, "lat": lat}
    _event(session, incident, user.username, workflow.ATTACH, (incident.status, incident.level), note, data)
    incident.updated_at = utcnow()
    return incident


def nearby_open(session: Session, user: access.User, lon: float, lat: float, category: str,
                radius_m: float = NEARBY_M, limit: int = 20) -> list[tuple[Incident, float]]:
    """The open cases of category within radius_m metres of (lon, lat) that user may see, nearest first, with
    their distances: the ones a new report may repeat (FixMyStreet's 250 m by default)."""
    minlon, minlat, maxlon, maxlat = box_around(lon, lat, radius_m)
    query = select(Incident).where(
        visible_to(user), Incident.category == category, Incident.status.in_(workflow.OPEN_STATES),
        Incident.lon.between(minlon, maxlon), Incident.lat.between(minlat, maxlat))
    cases = session.scalars(query).all()
    if not cases:
        return []
    distance = distances_m(lon, lat, [c.lon for c in cases], [c.lat for c in cases])
    order = [i for i in np.lexsort(([c.id for c in cases], distance)) if distance[i] <= radius_m][:limit]
    return [(cases[i], float(distance[i])) for i in order]


def place(session: Session, incident_id: int, grid_code: str, user: workflow.Actor, note: str | None = None) -> Incident:
    """Put an unlocated incident into a published grid by hand (a planner's or leader's decision)."""
    incident = get_incident(session, incident_id, for_update=True)
    if incident.grid_code is not None:
        raise workflow.NotAllowedNow(f"the case is already in grid {incident.grid_code}", code="workflow.already_placed",
                                     params={"grid": incident.grid_code})
    row = session.execute(_published_grids().where(Grid.code == grid_code)).first()
    if row is None:
        raise InputError(f"no published grid {grid_code!r}")
    if not access.acts_on(user, grid_code):
        raise workflow.NotYourStep(f"grid {grid_code} is outside your scope ({user.scope})",
                                   code="workflow.grid_not_yours", params={"grid": grid_code})
    before = {"grid_code": None, "lon": incident.lon, "lat": incident.lat}
    incident.grid_code, incident.community_code = row.code, row.community_code
    incident.street_code, incident.district_code = row.street_code, row.district_code
    if incident.lon is None:  # an address nobody could find: the grid's centre stands in for the point
        centre = to_shape(row.geom).representative_point()
        incident.lon, incident.lat = centre.x, centre.y
        incident.geom = from_shape(centre, srid=SRID)
    incident.located_by, incident.location_confidence = "manual", 1.0
    incident.suggestions = []
    incident.updated_at = utcnow()
    _event(session, incident, user.username, "place", (incident.status, incident.level), note, {"grid_code": grid_code})
    audit.record(session, user.username, "place", "incident", incident.id, before, {"grid_code": grid_code})
    return incident


def _event(
    session: Session,
    incident: Incident,
    username: str,
    action: str,
    previous: tuple[str, int] | None,
    note: str | None,
    data: dict[str, Any],
) -> IncidentEvent:
    """Keep one step of the trace."""
    from_status, from_level = previous if previous else (None, None)
    event = IncidentEvent(
        incident_id=incident.id,
        at=utcnow(),
        username=username,
        action=action,
        from_status=from_status,
        to_status=incident.status,
        from_level=from_level,
        to_level=incident.level,
        note=note,
        data=audit.jsonable(data) or {},
    )
    session.add(event)
    return event


def trace(session: Session, incident_id: int) -> Sequence[IncidentEvent]:
    """Every step of the case, oldest first."""
    get_incident(session, incident_id)
    query = select(IncidentEvent).where(IncidentEvent.incident_id == incident_id).order_by(IncidentEvent.id)
    return session.scalars(query).all()


# --- reading ---------------------------------------------------------------------------------------------


def visible_to(user: access.User) -> ColumnElement[bool]:
    """The incidents user may see (geogrid.access.incident_view) as SQL."""
    view = access.incident_view(user)
    if view.everything:
        return true()
    if view.grid is not None:
        return Incident.grid_code == view.grid
    if view.department is not None:
        return Incident.department == view.department
    if view.area is None:
        return false()
    area = Scope(area=view.area)
    return or_(area.communities(Incident.community_code), area.communities(Incident.street_code),
               area.communities(Incident.district_code))


@dataclass(frozen=True)
class Filters:
    """What a list of incidents is narrowed to."""

    area: str | None = None
    status: Sequence[str] = ()
    category: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None
    located: bool | None = None
    overdue: bool | None = None
    ids: Sequence[int] = ()
    bbox: tuple[float, float, float, float] | None = None
    shown_categories: Sequence[str] | None = None  # None: every category; else only these (none when empty)
    shown_channels: Sequence[str] | None = None  # None: every channel; else only these (none when empty)


def is_overdue(incident: Incident, now: datetime) -> bool:
    """Whether the incident passed a deadline (geogrid.incidents.deadlines.is_overdue)."""
    return deadlines.is_overdue(incident.was_overdue, incident.status, incident.deadline_at, now)


def overdue_now(now: datetime) -> ColumnElement[bool]:
    """Incidents that passed a deadline, as SQL (geogrid.incidents.deadlines.overdue_clause)."""
    return deadlines.overdue_clause(Incident.was_overdue, Incident.status, Incident.deadline_at, now)


def filtered(query: Select, filters: Filters, now: datetime | None = None) -> Select:
    """query narrowed by filters."""
    conditions: list[ColumnElement[bool]] = []
    if filters.area:
        area = Scope(area=filters.area)
        conditions.append(or_(Incident.grid_code == filters.area, area.communities(Incident.community_code),
                              area.communities(Incident.street_code), area.communities(Incident.district_code)))
    if filters.status:
        conditions.append(Incident.status.in_(list(filters.status)))
    if filters.category:
        conditions.append(Incident.category.in_(list(filters.category)))
    if filters.shown_categories is not None:
        conditions.append(Incident.category.in_(list(filters.shown_categories)) if filters.shown_categories else false())
    if filters.shown_channels is not None:
        conditions.append(Incident.channel.in_(list(filters.shown_channels)) if filters.shown_channels else false())
    if filters.since:
        conditions.append(Incident.reported_at >= filters.since)
    if filters.until:
        conditions.append(Incident.reported_at < filters.until)
    if filters.located is not None:
        conditions.append(Incident.grid_code.is_not(None) if filters.located else Incident.grid_code.is_(None))
    if filters.overdue is not None:
        late = overdue_now(now or utcnow())
        conditions.append(late if filters.overdue else ~late)
    if filters.ids:
        conditions.append(Incident.id.in_(list(filters.ids)))
    if filters.bbox:
        minx, miny, maxx, maxy = filters.bbox
        conditions.append(and_(Incident.lon >= minx, Incident.lon <= maxx, Incident.lat >= miny, Incident.lat <= maxy))
    return query.where(*conditions)


def list_incidents(
    session: Session, user: access.User, filters: Filters, *, limit: int = 100, offset: int = 0
) -> tuple[Sequence[Incident], int]:
    """The incidents user may see that match filters, newest first, and how many match in all."""
    base = filtered(select(Incident).where(visible_to(user)), filters)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(base.order_by(Incident.reported_at.desc(), Incident.id.desc()).limit(limit).offset(offset))
    return rows.all(), total


# --- buildings for geocoding --------------------------------------------------------------------------------


def buildings_version(session: Session) -> tuple[int, str | None]:
    """A cheap fingerprint of the buildings table: row count and greatest id."""
    from geogrid.db.models import Building

    return tuple(session.execute(select(func.count(), func.max(Building.id))).one())  # type: ignore[return-value]


def building_addresses(session: Session) -> Any:
    """Every building with an address or compound: building_id, address, compound, community_code, geometry."""
    import geopandas as gpd

    from geogrid.db.models import Building

    query = select(Building.id, Building.address, Building.compound, Building.community_code, Building.geom)
    rows = session.execute(query.where(or_(Building.address.is_not(None), Building.compound.is_not(None)))).all()
    return gpd.GeoDataFrame(
        {
            "building_id": [r.id for r in rows],
            "address": [r.address for r in rows],
            "compound": [r.compound for r in rows],
            "community_code": [r.community_code for r in rows],
        },
        geometry=[to_shape(r.geom) for r in rows],
        crs=SRID,
    )


def is_visible(session: Session, incident_id: int, user: access.User) -> bool:
    """Whether user may see the incident (False also when there is none)."""
    return session.scalar(select(Incident.id).where(Incident.id == incident_id, visible_to(user))) is not None


# --- reading cases by id, token and batch (Open311) ------------------------------------------------------------


def find_incident(session: Session, incident_id: int) -> Incident | None:
    """The incident with that id, or None."""
    return session.get(Incident, incident_id)


def incident_id_of_token(session: Session, token: str) -> int | None:
    """The id of the incident a token names, or None."""
    return session.scalar(select(Incident.id).where(Incident.token == token))


def newest(session: Session, filters: Filters, limit: int) -> Sequence[Incident]:
    """The first limit incidents matching filters, newest first (whoever asks: no scope applies)."""
    query = filtered(select(Incident), filters).order_by(Incident.reported_at.desc(), Incident.id.desc())
    return session.scalars(query.limit(limit)).all()


def names_for(session: Session, incidents: Sequence[Incident]) -> open311.Names:
    """The last staff note of each incident (not the report's own geocoding note), and its areas' names."""
    ids = [i.id for i in incidents]
    notes = session.execute(
        select(IncidentEvent.incident_id, IncidentEvent.note)
        .where(IncidentEvent.incident_id.in_(ids), IncidentEvent.note.is_not(None), IncidentEvent.note != "",
               IncidentEvent.action != "report")
        .order_by(IncidentEvent.id)
    ).all() if ids else []
    community_codes = {i.community_code for i in incidents if i.community_code}
    street_codes = {i.street_code for i in incidents if i.street_code}
    communities = session.execute(select(Community.code, Community.name).where(Community.code.in_(community_codes)))
    streets = session.execute(select(Street.code, Street.name).where(Street.code.in_(street_codes)))
    return open311.Names({n.incident_id: n.note for n in notes}, {c.code: c.name for c in communities},
                         {s.code: s.name for s in streets})


def building_point(session: Session, building_id: str) -> tuple[float, float, str | None] | None:
    """A point inside the building (lon, lat) and its address; None when no building has that id."""
    from geogrid.db.models import Building

    row = session.execute(select(Building.geom, Building.address).where(Building.id == building_id)).first()
    if row is None:
        return None
    point = to_shape(row.geom).representative_point()
    return point.x, point.y, row.address


# --- sample history -------------------------------------------------------------------------------------------


def insert_sample_history(session: Session, incidents: Any, taxonomy: Taxonomy, now: datetime, seed: int = 0) -> int:
    """Store the sample incidents (a WGS-84 point GeoDataFrame with incident_id, category, channel,
    description, address, reported_at) with simulated workflow histories; answers how many were stored."""

    from geogrid.sample.history import simulate

    index = placement.layout(session).index
    grids = index.grids
    points = np.asarray(incidents.geometry.values)
    first = index.locate(shapely.get_x(points), shapely.get_y(points))
    cases, events = simulate(incidents, taxonomy, now, seed)
    rows = []
    for i, (record, point, case) in enumerate(zip(incidents.to_dict("records"), points, cases, strict=True)):
        grid = grids.iloc[first[i]] if first[i] >= 0 else None
        rows.append(case | {
            "external_id": f"sample-{record['incident_id']}",
            "token": str(uuid.UUID(int=int(np.random.default_rng([seed, i]).integers(0, 2**63)))),
            "category": record["category"],
            "description": record.get("description") or "",
            "channel": record["channel"],
            "media_urls": [],
            "attributes": {},
            "address": record.get("address"),
            "input_crs": "wgs84",
            "input_x": point.x,
            "input_y": point.y,
            "lon": point.x,
            "lat": point.y,
            "located_by": "point",
            "location_confidence": 1.0,
            "suggestions": [],
            "grid_code": None if grid is None else grid["grid_code"],
            "community_code": None if grid is None else grid["community_code"],
            "street_code": None if grid is None else grid["street_code"],
            "district_code": None if grid is None else grid["district_code"],
            "reported_by": "sample-reporter",
            "reopen_count": 0,
            "geom": from_shape(point, srid=SRID),
        })
    ids = session.scalars(insert(Incident).returning(Incident.id, sort_by_parameter_order=True), rows).all()
    for event in events:
        event["incident_id"] = ids[event.pop("position")]
    session.execute(insert(IncidentEvent), events)
    return len(ids)

"""Incidents: report, list, trace, act along the escalation workflow, place unlocated ones, import hotline exports."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, File, Query, Request, Response, UploadFile, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.ids import Id, Offset
from api.notify import announce
from api.deps import (CurrentUser, DataVersion, GeocoderDep, PhotoStoreDep, Principal, SessionDep,
                      SettingsDep, StoreGeocoder, TaxonomyDep, committed, report_session, require_role)
from api.params import TimeWindowDep, parse_bbox, visible_incident
from api.schemas import ActionIn, AttachIn, IncidentIn, PlaceIn
from api.uploads import saved_upload
from geogrid import access
from geogrid.db.models import Incident, utcnow
from geogrid.incidents import deadlines, workflow
from geogrid.errors import InputError
from geogrid.incidents.china_time import maybe_in_china
from geogrid.incidents.hotline import read_export
from geogrid.incidents.reports import Location, check_media_url
from geogrid.store import desk as desk_store
from geogrid.store import incidents as store
from geogrid.store import media
from geogrid.incidents.taxonomy import Taxonomy

router = APIRouter(prefix="/api/v1", tags=["Incidents"])
Reporter = Annotated[Principal, Depends(require_role(*access.REPORTERS))]
Placer = Annotated[Principal, Depends(require_role(*access.PLACERS))]
MAX_PAGE = 1000


@router.get("/taxonomy", summary="Categories, channels, departments and workflow states")
def taxonomy(user: CurrentUser, taxonomy: TaxonomyDep) -> dict[str, Any]:
    """What a report may name, the deadlines per level, and the workflow's states and actions."""
    return taxonomy.model_dump() | {
        "states": {k: {"zh": zh, "en": en} for k, (zh, en) in workflow.STATE_LABELS.items()},
        "actions": list(workflow.ACTIONS),
    }


@router.post("/incidents", status_code=status.HTTP_201_CREATED, summary="Report an incident")
async def report_incident(
    body: IncidentIn,
    user: Reporter,
    taxonomy: TaxonomyDep,
    photos: PhotoStoreDep,
    request: Request,
    response: Response,
) -> dict[str, Any]:
    """Store a report and place it in its grid: by its point (converted from its CRS), else by its address.
    A point in no grid is kept as unlocated, with the grids within 100 m suggested. A report whose
    external_id is already stored answers 200 with the stored case and creates nothing, or 409 when that
    case is outside what the caller may see. Photos of ours (/media/...) must be kept in the photo store."""

    state, report = request.app.state, _report(body)
    if state.loop_pool is not None and not state.loop_pool.closed and not body.media_urls:
        stored = await store.report_on_loop(state.loop_pool, state.store_key, report, user.username, taxonomy)
        if stored is not None:  # the usual report, written from the event loop: no worker thread, no session
            return incident_json(await _stored_case(request, *stored), user, taxonomy)
    async with report_session(request) as session:

        def work() -> tuple[dict[str, Any], bool]:
            media.require_kept(photos, body.media_urls)
            geocoder = StoreGeocoder(request, session)  # over the report's own session
            incident, created = store.report_as(session, report, user, taxonomy, geocoder)
            return incident_json(incident, user, taxonomy), created

        answer, created = await committed(session, work)  # one worker thread does it all
    if not created:
        response.status_code = status.HTTP_200_OK
    return answer


async def _stored_case(request: Request, values: dict[str, Any], location: Location, stale: bool) -> Incident:
    """The case report_on_loop stored; placed again, in a worker thread, when plans were published since."""
    if not stale:
        return store.loop_report_case(None, values, location)
    async with report_session(request) as session:
        return await committed(session, lambda: store.loop_report_case(session, values, location))


@router.get("/incidents", summary="Incidents you may see, filtered")
def list_incidents(
    user: CurrentUser,
    session: SessionDep,
    taxonomy: TaxonomyDep,
    window: TimeWindowDep,
    area: str | None = Query(None, description="An area code: district, street, community or grid"),
    status_: list[str] = Query([], alias="status"),
    category: list[str] = Query([]),
    located: bool | None = None,
    overdue: bool | None = None,
    bbox: str | None = Query(None, description="minlon,minlat,maxlon,maxlat"),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    offset: Offset = 0,
    format_: str = Query("json", alias="format", pattern="^(json|geojson)$"),
) -> dict[str, Any]:
    """Newest first; `format=geojson` answers a FeatureCollection for a map."""
    filters = store.Filters(area, status_, category, window.since, window.until, located, overdue,
                            bbox=parse_bbox(bbox) if bbox else None)
    rows, total = store.list_incidents(session, user, filters, limit=limit, offset=offset)
    items = [incident_json(i, user, taxonomy) for i in rows]
    if format_ == "geojson":
        return {"type": "FeatureCollection", "numberMatched": total, "features": [_feature(i) for i in items]}
    return {"total": total, "limit": limit, "offset": offset, "items": items}


@router.get("/incidents/nearby", summary="Open cases of a category near a point (before reporting it again)")
def nearby_incidents(
    user: Reporter,
    session: SessionDep,
    taxonomy: TaxonomyDep,
    lon: float = Query(ge=-180, le=180, description="WGS-84 longitude"),
    lat: float = Query(ge=-90, le=90, description="WGS-84 latitude"),
    category: str = Query(description="A category code of GET /api/v1/taxonomy"),
    radius_m: float = Query(store.NEARBY_M, gt=0, le=2000, description="how far to look (FixMyStreet's 250 m)"),
) -> dict[str, Any]:
    """The open cases of the category within radius_m of the point that the caller may see, nearest first, each
    with its distance: a report there may be the same problem, to attach to (POST /incidents/{id}/attach)."""
    taxonomy.category(category)
    found = store.nearby_open(session, user, lon, lat, category, radius_m)
    items = [incident_json(i, user, taxonomy) | {"distance_m": round(d, 1)} for i, d in found]
    return {"radius_m": radius_m, "category": category, "items": items}


@router.post("/incidents/{incident_id}/attach", summary="Me too: add a report to an open case")
def attach(
    incident_id: Id, body: AttachIn, user: Reporter, session: SessionDep, taxonomy: TaxonomyDep, photos: PhotoStoreDep
) -> dict[str, Any]:
    """Instead of reporting the same problem twice: the note, photos and place go into the open case's trace as an
    'attach' step by the caller. 409 for a closed case."""
    for url in body.media_urls:
        check_media_url(url)
    media.require_kept(photos, body.media_urls)
    point = body.location
    incident = store.attach(session, incident_id, user, note=body.note, media_urls=body.media_urls,
                            lon=point.lon if point else None, lat=point.lat if point else None)
    return incident_json(incident, user, taxonomy)


@router.get("/incidents/{incident_id}", summary="One incident with its whole trace")
def get_incident(incident_id: Id, user: CurrentUser, session: SessionDep, taxonomy: TaxonomyDep) -> dict[str, Any]:
    """The case, what the signed-in user may do with it now, and every step it went through."""
    incident = visible_incident(session, incident_id, user)
    return incident_json(incident, user, taxonomy) | {"trace": [_event_json(e) for e in store.trace(session, incident_id)]}


@router.post("/incidents/{incident_id}/actions", summary="Act on an incident (accept, escalate, close, …)")
def act(
    incident_id: Id, body: ActionIn, user: CurrentUser, session: SessionDep, taxonomy: TaxonomyDep,
    request: Request, background: BackgroundTasks, photos: PhotoStoreDep,
) -> dict[str, Any]:
    """Move the case along the workflow. 409 says why the action is impossible in the case's state;
    403 says whose step it is. The webhooks of the case's department and areas hear of it after the answer."""
    visible_incident(session, incident_id, user)
    for url in body.media_urls:
        check_media_url(url)
    media.require_kept(photos, body.media_urls)
    incident = store.act(session, incident_id, user, body.action, taxonomy, note=body.note,
                         department=body.department, rating=body.rating, media_urls=body.media_urls,
                         duplicate_of=body.duplicate_of, deadline_at=maybe_in_china(body.deadline_at))
    announce(request, background, incident, body.action, user.username, body.note, taxonomy)
    return incident_json(incident, user, taxonomy)


@router.post("/incidents/{incident_id}/place", summary="Place an unlocated incident in a grid")
def place(incident_id: Id, body: PlaceIn, user: Placer, session: SessionDep, taxonomy: TaxonomyDep) -> dict[str, Any]:
    """For a case whose point fell in no grid (or whose address was not found): put it in a published grid."""
    incident = store.place(session, incident_id, body.grid_code, user, body.note)
    return incident_json(incident, user, taxonomy)


@router.post("/incidents/imports", summary="Import a hotline export (CSV or Excel)")
def import_hotline(
    user: Placer,
    session: SessionDep,
    settings: SettingsDep,
    taxonomy: TaxonomyDep,
    geocoder: GeocoderDep,
    file: UploadFile = File(description="CSV or .xlsx with a header row"),
) -> dict[str, Any]:
    """One result per row (created, existing or error). Rows carry their external id (工单编号); a row
    without one gets a stable id from its content, so importing the same file twice stores nothing twice."""
    with saved_upload(file, settings, "export.csv") as path:
        rows = read_export(path, taxonomy)
    results = [_import_row(session, row, user, taxonomy, geocoder) for row in rows]
    counts = {k: sum(r["result"] == k for r in results) for k in ("created", "existing", "error")}
    return {"rows": len(results), **counts, "results": results}


def _import_row(session: Any, row: Any, user: Principal, taxonomy: Taxonomy, geocoder: Any) -> dict[str, Any]:
    """Store one row in its own savepoint: a bad row is reported and the others still go in."""
    if row.report is None:
        return {"row": row.number, "result": "error", "error": row.error}
    try:
        with session.begin_nested():
            incident, created = store.report_as(session, row.report, user, taxonomy, geocoder)
    except (InputError, store.IdTaken) as exc:
        return {"row": row.number, "result": "error", "error": str(exc), "external_id": row.report.external_id}
    return {
        "row": row.number,
        "result": "created" if created else "existing",
        "incident_id": incident.id,
        "external_id": incident.external_id,
        "grid_code": incident.grid_code,
        "located_by": incident.located_by,
    }


# --- the case desk ----------------------------------------------------------------------------------


@router.get("/desk", summary="The case desk: cases awaiting your step, most urgent first")
async def desk(
    user: CurrentUser,
    version: DataVersion,
    session: SessionDep,
    taxonomy: TaxonomyDep,
    window: TimeWindowDep,
    category: list[str] = Query([], description="Category codes of GET /api/v1/taxonomy"),
    area: str | None = Query(None, description="A street, community or grid code inside your scope"),
    status_: list[str] = Query([], alias="status", description="Workflow states (open ones)"),
    level: list[int] = Query([], description="Levels: 1 grid, 2 community, 3 street"),
    overdue: bool | None = Query(None, description="true: only cases past their deadline now; false: none of them"),
    limit: int = Query(desk_store.QUEUE_PAGE, ge=1, le=desk_store.QUEUE_LIMIT),
    offset: Offset = 0,
) -> dict[str, Any]:
    """The open cases waiting for a step the signed-in user owns now (workflow.awaits: a grid worker their grid's,
    a community or street leader their level's, department staff what was dispatched to their department, a district
    leader the street's steps over the district), those past their deadline first, then by deadline. `counts` is
    the number per state with every filter but the state. Each case is listed in short (where, what, state, level,
    deadline), saying whether it is `late_now` (past its current deadline) or `due_soon` (its deadline within the
    hour); GET /incidents/{id} gives the whole case with its trace and the actions the user may take. `offset` pages
    through a long queue (the next page starts at offset + limit while that is below `total`)."""
    for code in category:
        taxonomy.category(code)
    for state in status_:
        if state not in workflow.OPEN_STATES:
            raise InputError(f"status {state!r} is not an open state; one of: {', '.join(workflow.OPEN_STATES)}")
    for value in level:
        if value not in workflow.LEVEL_NAMES:
            raise InputError(f"level {value} is not a level; one of: 1, 2, 3")
    if area and not user.covers(area):
        raise InputError(f"area {area!r} is outside your scope ({user.scope})")
    now = utcnow()
    filters = desk_store.DeskFilters(category, area, status_, level, window.since, window.until, overdue)
    found = await committed(session, lambda: desk_store.queue(session, user, filters, now, limit=limit,
                                                              offset=offset, version=version))
    items = _queued_json(found.cases, taxonomy, now)
    return {"tier": found.tier, "total": found.total, "limit": limit, "offset": offset, "counts": found.counts,
            "items": items,
            "states": {k: {"zh": zh, "en": en} for k, (zh, en) in workflow.STATE_LABELS.items()}}


@router.get("/desk/events", summary="Live desk: server-sent events when a case reaches or leaves your step",
            response_class=StreamingResponse)
async def desk_events(
    request: Request,
    user: CurrentUser,
    seconds: float = Query(600, gt=0, le=3600, description="how long the stream lasts (the browser reconnects)"),
    every: float = Query(2.0, ge=0.2, le=30, description="seconds between looks at the store"),
) -> StreamingResponse:
    """`text/event-stream`: `arrived` when a case comes to await your step, `left` when it no longer does (someone
    acted, or it moved on), `changed` when a case in your queue changed; each with `{"id", "status", "level"}`.
    The store is read every few seconds for cases changed since the last look, so every worker process of the
    service sees every change. A comment line is sent on each look to keep the connection open."""
    sessions = request.app.state.read_sessions

    def start() -> tuple[str | None, set[int], desk_store.Cursor]:
        with sessions() as session:
            desk = desk_store.desk_of(session, user)
            cursor = desk_store.latest_change(session, utcnow())  # read first: a change meanwhile is seen again
            return desk.tier, desk_store.queue_ids(session, user, desk), cursor

    tier, members, cursor = await run_in_threadpool(start)

    def look(cursor: desk_store.Cursor) -> list[tuple[int, datetime, str, int, bool]]:
        with sessions() as session:
            return [(c.id, c.updated_at, c.status, c.level, workflow.awaits(user, c, tier))
                    for c in desk_store.changed_after(session, user, cursor)]

    async def stream() -> AsyncIterator[str]:
        nonlocal cursor
        yield "retry: 3000\n\n" + _sse("ready", {"tier": tier, "count": len(members)})
        end = time.monotonic() + seconds
        while time.monotonic() < end and not await request.is_disconnected():
            await asyncio.sleep(every)
            changes = await run_in_threadpool(look, cursor)
            for case_id, _, state, level, waits in changes:
                kind = ("arrived" if case_id not in members else "changed") if waits else (
                    "left" if case_id in members else None)
                (members.add if waits else members.discard)(case_id)
                if kind:
                    yield _sse(kind, {"id": case_id, "status": state, "level": level})
            if changes:
                cursor = (changes[-1][1], changes[-1][0])
            yield ": look\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _queued_json(rows: list[Any], taxonomy: Taxonomy, now: datetime) -> list[dict[str, Any]]:
    """The cases as a desk lists them (GET /incidents/{id} gives the whole case, its trace and allowed actions): rows
    of desk_store.QUEUE_COLUMNS, unpacked in that order."""
    names = {code: category.zh for code, category in taxonomy.categories.items()}
    states, levels = workflow.STATE_LABELS, workflow.LEVEL_NAMES
    return [{
        "id": id_, "category": category, "category_name": names.get(category), "description": description,
        "address": address, "status": status, "status_name": states[status][0], "level": level,
        "level_name": levels[level], "department": department, "grid_code": grid_code,
        "community_code": community_code, "street_code": street_code, "location": {"lon": lon, "lat": lat},
        "reported_at": reported_at, "deadline_at": deadline_at, "updated_at": updated_at,
        "overdue": deadlines.is_overdue(was_overdue, status, deadline_at, now),
        "late_now": deadlines.late_now(status, deadline_at, now),
        "due_soon": deadlines.due_soon(status, deadline_at, now),
    } for (id_, category, description, address, status, level, department, grid_code, community_code, street_code,
           lon, lat, reported_at, deadline_at, was_overdue, updated_at) in rows]


def _sse(kind: str, data: dict[str, Any]) -> str:
    """One server-sent event."""
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n"


# --- answers --------------------------------------------------------------------------------------


def incident_json(incident: Incident, user: Principal, taxonomy: Taxonomy) -> dict[str, Any]:
    """The case as the API shows it (reporter contact only to staff who may act on it)."""
    return {
        "id": incident.id,
        "external_id": incident.external_id,
        "token": incident.token,
        "category": incident.category,
        "category_name": taxonomy.categories[incident.category].zh if incident.category in taxonomy.categories else None,
        "channel": incident.channel,
        "description": incident.description,
        "address": incident.address,
        "media_urls": incident.media_urls,
        "attributes": incident.attributes,
        "reporter": {"name": incident.reporter_name, "contact": incident.reporter_contact}
        if access.sees_reporter(user, incident)
        else None,
        "location": {
            "lon": incident.lon,
            "lat": incident.lat,
            "located_by": incident.located_by,
            "confidence": incident.location_confidence,
            "building_id": incident.matched_building_id,
            "input": {"x": incident.input_x, "y": incident.input_y, "crs": incident.input_crs}
            if incident.input_x is not None
            else None,
        },
        "located": incident.grid_code is not None,
        "grid_code": incident.grid_code,
        "community_code": incident.community_code,
        "street_code": incident.street_code,
        "district_code": incident.district_code,
        "suggested_grids": incident.suggestions,
        "status": incident.status,
        "status_name": workflow.STATE_LABELS[incident.status][0],
        "level": incident.level,
        "level_name": workflow.LEVEL_NAMES[incident.level],
        "department": incident.department,
        "reported_at": incident.reported_at,
        "reported_by": incident.reported_by,
        "deadline_at": incident.deadline_at,
        "overdue": store.is_overdue(incident, utcnow()),
        "closed_at": incident.closed_at,
        "hours_to_close": incident.hours_to_close,
        "rating": incident.rating,
        "department_rating": incident.department_rating,
        "reopen_count": incident.reopen_count,
        "updated_at": incident.updated_at,
        "allowed_actions": workflow.allowed_actions(user, incident),
    }


def _event_json(event: Any) -> dict[str, Any]:
    """One step of the trace."""
    return {
        "at": event.at,
        "username": event.username,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "from_level": event.from_level,
        "to_level": event.to_level,
        "note": event.note,
        "data": event.data,
    }


def _feature(item: dict[str, Any]) -> dict[str, Any]:
    """A case as a GeoJSON feature (no geometry while unlocated)."""
    lon, lat = item["location"]["lon"], item["location"]["lat"]
    geometry = {"type": "Point", "coordinates": [lon, lat]} if lon is not None else None
    properties = {k: v for k, v in item.items() if k != "location"} | {"located_by": item["location"]["located_by"]}
    return {"type": "Feature", "id": item["id"], "geometry": geometry, "properties": properties}


def _report(body: IncidentIn) -> store.Report:
    """The request body as the store's Report."""
    point = body.location
    return store.Report(
        category=body.category,
        channel=body.channel,
        description=body.description,
        x=point.lon if point else None,
        y=point.lat if point else None,
        crs=point.crs if point else None,
        address=body.address,
        reporter_name=body.reporter.name if body.reporter else None,
        reporter_contact=body.reporter.contact if body.reporter else None,
        media_urls=body.media_urls,
        external_id=body.external_id,
        answers=dict(body.attributes or {}),
    )


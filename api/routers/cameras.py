"""Cameras: import camera points, list them for a map, coverage per grid, the cameras nearest an incident."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile, status

from api.ids import Id
from api.deps import CurrentUser, Planner, Reader, SessionDep, SettingsDep, check_area
from api.params import parse_bbox, visible_incident
from api.scopes import scope_of
from api.uploads import saved_upload
from geogrid import access
from geogrid.cameras.layer import read_cameras
from geogrid.errors import InputError
from geogrid.store import camera_records as store
from geogrid.store.spatial import Scope

router = APIRouter(prefix="/api/v1", tags=["Cameras"])
SUFFIXES = (".csv", ".geojson", ".json", ".gpkg", ".zip")


@router.post("/cameras", status_code=status.HTTP_201_CREATED, summary="Import camera points")
def import_cameras(
    user: Planner,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="CSV with lon/lat, GeoJSON, GeoPackage or zipped Shapefile")],
    input_crs: Annotated[str | None, Form(description="e.g. gcj02, bd09, EPSG:4490")] = None,
) -> dict[str, Any]:
    """Cameras with camera_id and optional name, heading (degrees from north), fov (degrees) and range_m.
    Each is placed in its published grid; an id already stored is replaced. One bad row rejects the file."""
    name = Path(file.filename or "cameras.csv").name
    if Path(name).suffix.lower() not in SUFFIXES:
        raise InputError(f"{name}: cameras come as {', '.join(SUFFIXES)}")
    with saved_upload(file, settings, name) as path:
        cameras = read_cameras(path, input_crs)
    if not access.acts_everywhere(user):
        outside = store.outside_scope(session, cameras, user.scope)
        if outside:
            raise InputError(f"cameras outside your scope ({user.scope}): {', '.join(outside[:20])}")
    return store.import_cameras(session, cameras, user.username)


@router.get("/cameras", summary="Cameras you may see, as GeoJSON")
def list_cameras(
    session: SessionDep,
    user: CurrentUser,
    bbox: str | None = None,
    near_m: float | None = Query(None, gt=0, le=store.MAX_REACH_M,
                                 description="Grid workers: also the cameras within this many metres of their grid"),
) -> dict[str, Any]:
    """Admins, planners and leaders see their area's cameras; a grid worker those in their grid, and with
    `near_m` also those near it (each camera says its distance_m to the grid, 0 inside); `bbox`
    (minlon,minlat,maxlon,maxlat) narrows it."""
    scope: Scope = scope_of(user)
    if near_m is not None and scope.grid is not None:
        frame = store.cameras_near_grid(session, scope.grid, near_m)
    else:
        frame = store.cameras_frame(session, store.visible_cameras(scope))
    if bbox:
        minx, miny, maxx, maxy = parse_bbox(bbox)
        frame = frame.cx[minx:maxx, miny:maxy]
    return store.cameras_geojson(frame)


@router.get("/areas/{area}/camera-coverage", summary="Cameras and covered share per grid")
def camera_coverage(
    area: str,
    user: Reader,
    session: SessionDep,
    default_radius_m: float = Query(store.DEFAULT_RADIUS_M, gt=0, le=1000,
                                    description="What a camera without heading is taken to see"),
) -> dict[str, Any]:
    """For every published grid in the area (a community, street or district code): the cameras in it and
    the share of its area that the union of all camera views covers (cameras outside it may see in)."""
    check_area(user, area, "area")
    table = store.coverage(session, area, default_radius_m)
    rows = store.plain_rows(table)
    return {"area": area, "default_radius_m": default_radius_m, "grids": rows}


@router.get("/incidents/{incident_id}/cameras", summary="Cameras nearest an incident")
def incident_cameras(
    incident_id: Id,
    user: CurrentUser,
    session: SessionDep,
    radius_m: float = Query(200.0, gt=0, le=2000),
    limit: int = Query(10, ge=1, le=100),
) -> dict[str, Any]:
    """Cameras within radius_m of the case, nearest first, and whether each one's view covers it, so that
    video can be pulled."""
    incident = visible_incident(session, incident_id, user)
    if incident.lon is None:
        raise InputError(f"incident {incident_id} has no point yet: place it first")
    found = store.cameras_near(session, incident.lon, incident.lat, radius_m, limit)
    return {"incident_id": incident_id, "radius_m": radius_m, "cameras": found}

"""Mapbox vector tiles of grids and buildings at /tiles/{layer}/{z}/{x}/{y}.pbf, with ETags for revalidation.

A tile with no feature answers 204 No Content (MapLibre, Mapbox GL and OpenLayers draw nothing
for it). Every tile carries a strong ETag (a hash of its bytes) and Cache-Control "private,
no-cache": a browser keeps it and revalidates with If-None-Match, answered 304 when unchanged.
Rendered tiles are kept in each worker's memory (``app.state.answers``) until the next write to the store.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.ids import MAX_ID
from api.deps import CurrentUser, DataVersion, Principal, SessionDep, check_plan, kept_answer
from api.scopes import MapScope
from geogrid.store import tiles
from geogrid.store.tilejson import tilejson
from geogrid.store.plans import get_plan
from geogrid.store.spatial import Scope

router = APIRouter(prefix="/tiles", tags=["vector tiles"])

MVT = "application/vnd.mapbox-vector-tile"
CACHE = {"Cache-Control": "private, no-cache", "Vary": "Authorization"}


@router.get("/{layer}.json", summary="TileJSON of a tile layer", responses={404: {"description": "no such layer"}})
def layer_tilejson(
    request: Request,
    layer: Annotated[str, Path(description="grids or buildings")],
    session: SessionDep,
    scope: Annotated[Scope, MapScope],
) -> dict:
    """TileJSON 3.0: the tile URL template, zoom range, bounds of what the caller may see, and the layer's
    fields, so that MapLibre or QGIS add the layer from this one URL. Tiles need the same bearer token."""
    if layer not in tiles.MIN_ZOOM:
        raise HTTPException(404, f"no tile layer {layer!r}: there are {', '.join(tiles.MIN_ZOOM)}")
    template = str(request.base_url).rstrip("/") + f"{router.prefix}/{layer}/{{z}}/{{x}}/{{y}}.pbf"
    return tilejson(session, layer, scope, template)


@router.get(
    "/{layer}/{z}/{x}/{y}.pbf",
    response_class=Response,
    responses={200: {"content": {MVT: {}}, "description": "the tile"}, 204: {"description": "no feature in this tile"},
               304: {"description": "unchanged since the ETag sent in If-None-Match"}},
)
async def tile(
    request: Request,
    layer: Annotated[str, Path(description="grids or buildings")],
    z: Annotated[int, Path(ge=0, le=MAX_ID)],
    x: Annotated[int, Path(ge=0, le=MAX_ID)],
    y: Annotated[int, Path(ge=0, le=MAX_ID)],
    session: SessionDep,
    scope: Annotated[Scope, MapScope],
    user: CurrentUser,
    version: DataVersion,
    plan: Annotated[int | None, Query(ge=1, le=MAX_ID, description="a plan version's grids (e.g. a draft) instead of the published ones")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """One tile. Layer grids: code, community_code, plan_id, households, population, building_count,
    within_limits, flag_count, flags (rule names). Layer buildings (zoom 13 and up): id, community_code,
    households, population, floors.

    async: a tile kept in memory is answered on the event loop; rendering one runs in a worker thread."""
    if layer not in tiles.MIN_ZOOM:
        raise HTTPException(404, f"no tile layer {layer!r}: there are {', '.join(tiles.MIN_ZOOM)}")
    address = tiles.Tile(z, x, y)
    if not address.valid():
        raise HTTPException(404, f"no tile {z}/{x}/{y}: zoom 0-{tiles.MAX_ZOOM}, x and y below 2^zoom")
    if plan is not None:
        await run_in_threadpool(_may_read_plan, session, user, plan, layer)
    key = ("tile", layer, z, x, y, plan, scope, version)
    data, etag = await kept_answer(request, key, lambda: tiles.render(session, layer, address, scope, plan))
    headers = {**CACHE, "ETag": etag}
    if if_none_match is not None and etag in [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    if not data:
        return Response(status_code=204, headers=headers)
    return Response(data, media_type=MVT, headers=headers)


def _may_read_plan(session: SessionDep, user: Principal, plan_id: int, layer: str) -> None:
    if layer != "grids":
        raise HTTPException(400, "plan= selects a plan version's grids: it applies to the grids layer only")
    check_plan(user, get_plan(session, plan_id))

"""OGC API - Features Part 1 (Core, GeoJSON) under /ogc: grids of published plans, communities and buildings.

GIS clients (QGIS "WFS / OGC API - Features" connections, GDAL's OAPIF driver) read the
landing page, follow its links and page through items with limit/offset and the next links.
Requests carry the same bearer token as the rest of the API and see only their scope. In QGIS:
an authentication configuration of type OAuth2, grant flow "Resource Owner", token URL
<server>/api/v1/auth/token with the user's name and password (or, where QGIS offers it, type
"API Header" with Authorization: Bearer <token>), chosen on the connection whose URL is <server>/ogc.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from api import geojson
from api.deps import SessionDep
from api.params import BboxParam, Page, paging
from api.docs import DOCS
from api.scopes import MapScope
from geogrid.store import features
from geogrid.store.spatial import Scope

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"])

GEOJSON = geojson.MEDIA_TYPE
JSON = "application/json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]
# what OWSLib's api() and GDAL look for (the document itself is the service's OpenAPI, as TiPg serves it)
OPENAPI_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
COMMON_PARAMS = {"f"}
ITEMS_PARAMS = {"bbox", "limit", "offset", "datetime", "f"}


@router.get("", name="ogc_landing", summary="Landing page")
def landing(request: Request, _: Annotated[Scope, MapScope]) -> JSONResponse:
    """The service's title and links to its API definition, conformance and collections."""
    _only(request, COMMON_PARAMS)
    links = [
        _link(request, "ogc_landing", "self", JSON, "This document"),
        {"href": _absolute(request, request.app.openapi_url), "rel": "service-desc",
         "type": OPENAPI_MEDIA_TYPE, "title": "The API definition"},
        {"href": _absolute(request, DOCS), "rel": "service-doc", "type": "text/html",
         "title": "The API documentation"},
        _link(request, "ogc_conformance", "conformance", JSON, "Conformance classes"),
        _link(request, "ogc_collections", "data", JSON, "Feature collections"),
    ]
    return JSONResponse({"title": "geogrid", "description": "Grid-management features: grids (网格), communities and buildings.",
                         "links": links})


@router.get("/conformance", name="ogc_conformance", summary="Conformance classes")
def conformance(request: Request, _: Annotated[Scope, MapScope]) -> JSONResponse:
    """The conformance classes this API implements."""
    _only(request, COMMON_PARAMS)
    return JSONResponse({"conformsTo": CONFORMANCE})


@router.get("/collections", name="ogc_collections", summary="Feature collections")
def collections(
    request: Request,
    session: SessionDep,
    scope: Annotated[Scope, MapScope],
) -> JSONResponse:
    """Every collection with its extent and links."""
    _only(request, COMMON_PARAMS)
    found = [_collection(request, session, c, scope) for c in features.COLLECTIONS.values()]
    return JSONResponse({"links": [_link(request, "ogc_collections", "self", JSON, "This document")],
                         "collections": found})


@router.get("/collections/{collection_id}", name="ogc_collection", summary="One feature collection")
def collection(
    collection_id: str,
    request: Request,
    session: SessionDep,
    scope: Annotated[Scope, MapScope],
) -> JSONResponse:
    """The collection's description, extent and links."""
    _only(request, COMMON_PARAMS)
    return JSONResponse(_collection(request, session, _find(collection_id), scope))


@router.get("/collections/{collection_id}/items", name="ogc_items", summary="Features of a collection",
            response_class=geojson.GeoJSONResponse, responses=geojson.OPENAPI)
def items(
    collection_id: str,
    request: Request,
    session: SessionDep,
    scope: Annotated[Scope, MapScope],
    bbox: BboxParam,
    paged: Annotated[Page, Depends(paging(DEFAULT_LIMIT, MAX_LIMIT, cap=True))],
    when: Annotated[str | None, Query(alias="datetime", description="accepted; these features have no time")] = None,
) -> JSONResponse:
    """One page of features as GeoJSON, in id order, with next/prev links.

    bbox: minLon,minLat,maxLon,maxLat (WGS 84). limit: default 10; above 10,000 it is served as 10,000.
    Also filters by equality on the collection's queryables (e.g. community_code=...).
    """
    found = _find(collection_id)
    filters = _filters(request, found)
    size, start = paged.limit, paged.offset
    matched, page = features.page(session, found, scope, bbox=bbox, filters=filters, limit=size, offset=start)
    links = [
        {"href": str(request.url), "rel": "self", "type": GEOJSON, "title": "This page"},
        _link(request, "ogc_collection", "collection", JSON, "The collection", collection_id=found.id),
    ]
    if start + len(page) < matched:
        links.append(_page(request, "next", start + size, size))
    if start > 0:
        links.append(_page(request, "prev", max(start - size, 0), size))
    encoded = (geojson.feature(f.id, f.geometry, f.properties, links=[_item_link(request, found.id, f.id, "self")])
               for f in page)
    return geojson.GeoJSONResponse(geojson.collection(encoded, numberMatched=matched, numberReturned=len(page),
                                                      timeStamp=_now(), links=links))


@router.get("/collections/{collection_id}/queryables", name="ogc_queryables", summary="Queryables of a collection",
            responses={200: {"content": {SCHEMA_JSON: {}}, "description": "a JSON Schema of the queryables"}})
def queryables(collection_id: str, request: Request, _: Annotated[Scope, MapScope]) -> JSONResponse:
    """The properties items may be filtered by (name=value), as a JSON Schema (OGC API - Features Part 3)."""
    found = _find(collection_id)
    _only(request, COMMON_PARAMS)
    schema = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": str(request.url_for("ogc_queryables", collection_id=found.id)),
        "type": "object",
        "title": found.title,
        "properties": {name: {"title": name, "type": kind} for name, kind in features.queryables(found).items()},
        "additionalProperties": False,
    }
    return JSONResponse(schema, media_type=SCHEMA_JSON)


@router.get("/collections/{collection_id}/items/{feature_id}", name="ogc_item", summary="One feature",
            response_class=geojson.GeoJSONResponse, responses=geojson.OPENAPI)
def item(
    collection_id: str,
    feature_id: str,
    request: Request,
    session: SessionDep,
    scope: Annotated[Scope, MapScope],
) -> JSONResponse:
    """One feature as GeoJSON."""
    found = _find(collection_id)
    _only(request, COMMON_PARAMS)
    feature = features.feature(session, found, scope, feature_id)
    if feature is None:
        raise HTTPException(404, f"collection {collection_id!r} has no feature {feature_id!r} that you may see")
    links = [
        _item_link(request, found.id, feature_id, "self"),
        _link(request, "ogc_collection", "collection", JSON, "The collection", collection_id=found.id),
    ]
    return geojson.GeoJSONResponse(geojson.feature(feature.id, feature.geometry, feature.properties, links=links))


# --- documents ---------------------------------------------------------------------------------


def _collection(request: Request, session: SessionDep, found: features.Collection, scope: Scope) -> dict[str, Any]:
    box = features.extent(session, found, scope)
    doc: dict[str, Any] = {
        "id": found.id,
        "title": found.title,
        "description": found.description,
        "itemType": "feature",
        "crs": [CRS84],
        "links": [
            _link(request, "ogc_collection", "self", JSON, "This collection", collection_id=found.id),
            _link(request, "ogc_items", "items", GEOJSON, "Its features", collection_id=found.id),
            _link(request, "ogc_queryables", REL_QUERYABLES, SCHEMA_JSON, "What its features filter by",
                  collection_id=found.id),
        ],
    }
    if box is not None:
        doc["extent"] = {"spatial": {"bbox": [list(box)], "crs": CRS84}}
    return doc


def _link(request: Request, name: str, rel: str, media: str, title: str, **params: Any) -> dict[str, str]:
    return {"href": str(request.url_for(name, **params)), "rel": rel, "type": media, "title": title}


def _absolute(request: Request, path: str | None) -> str:
    return str(request.base_url).rstrip("/") + (path or "")


def _item_link(request: Request, collection_id: str, feature_id: Any, rel: str) -> dict[str, str]:
    href = request.url_for("ogc_item", collection_id=collection_id, feature_id=str(feature_id))
    return {"href": str(href), "rel": rel, "type": GEOJSON, "title": "This feature"}


def _page(request: Request, rel: str, offset: int, limit: int) -> dict[str, str]:
    href = request.url.include_query_params(offset=offset, limit=limit)
    return {"href": str(href), "rel": rel, "type": GEOJSON, "title": f"The {rel} page"}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- parameters (400 naming the problem, as the standard asks) ---------------------------------


def _find(collection_id: str) -> features.Collection:
    found = features.COLLECTIONS.get(collection_id)
    if found is None:
        raise HTTPException(404, f"no collection {collection_id!r}: there are {', '.join(features.COLLECTIONS)}")
    return found


def _only(request: Request, allowed: set[str]) -> None:
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise HTTPException(400, f"unknown query parameter {', '.join(unknown)}: this path takes {', '.join(sorted(allowed)) or 'none'}")
    if request.query_params.get("f", "json") not in ("json", "geojson"):
        raise HTTPException(400, "f must be json or geojson: no other format is served")


def _filters(request: Request, found: features.Collection) -> dict[str, str]:
    _only(request, ITEMS_PARAMS | set(found.filters))
    return {name: request.query_params[name] for name in found.filters if name in request.query_params}

"""The OpenAPI document as GIS clients read it: OGC API - Features parameters and the answers the server gives.

GDAL's OAPIF driver takes its page size from the items path's `limit` schema (maximum, default); OWSLib and
QGIS read the same document. FastAPI would describe these query parameters as free strings (the router reads
them itself, to answer 400 naming the problem) and list a 422 the OGC paths never answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api.routers.ogc import DEFAULT_LIMIT, MAX_LIMIT

ERROR = {"application/json": {"schema": {"type": "object", "properties": {"detail": {"type": "string"}}}}}
ANSWERS = {
    "400": "a query parameter is unknown or malformed (the detail names it)",
    "401": "not signed in: send Authorization: Bearer <token> (POST /api/v1/auth/token)",
    "403": "the signed-in role may not see maps (department staff)",
    "404": "no such collection, feature, layer or tile",
}
OGC_PARAMETERS: dict[str, dict[str, Any]] = {
    "limit": {
        "description": f"features per page: default {DEFAULT_LIMIT}; more than {MAX_LIMIT:,} are served as {MAX_LIMIT:,}",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        "style": "form", "explode": False,
    },
    "offset": {
        "description": "features to skip (the next links carry it)",
        "schema": {"type": "integer", "minimum": 0, "default": 0},
        "style": "form", "explode": False,
    },
    "bbox": {
        "description": "minLon,minLat,maxLon,maxLat (or with heights, six numbers) in WGS 84 (CRS84)",
        "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        "style": "form", "explode": False,
    },
    "datetime": {
        "description": "accepted for clients that always send it; these features have no time",
        "schema": {"type": "string"}, "style": "form", "explode": False,
    },
}


def use_gis_conventions(app: FastAPI) -> None:
    """Make app.openapi() return the document with the OGC paths described as the server answers them."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            describe_ogc(generate())
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def describe_ogc(document: dict[str, Any]) -> dict[str, Any]:
    """Rewrite the /ogc and /tiles operations of an OpenAPI document in place (and return it)."""
    for path, operations in document.get("paths", {}).items():
        if not path.startswith(("/ogc", "/tiles")):
            continue
        for operation in operations.values():
            _describe(path, operation, ogc=path.startswith("/ogc"))
    return document


def _describe(path: str, operation: dict[str, Any], *, ogc: bool) -> None:
    parameters = operation.get("parameters", [])
    for parameter in parameters:
        if ogc and parameter["name"] in OGC_PARAMETERS and parameter["in"] == "query":
            parameter.update(OGC_PARAMETERS[parameter["name"]])
    responses = operation.setdefault("responses", {})
    if ogc:
        responses.pop("422", None)  # every OGC parameter is read by the router, which answers 400
    wanted = ["401", "403"] + (["400"] if ogc else []) + (["404"] if "{" in path else [])
    for code in wanted:
        responses.setdefault(code, {"description": ANSWERS[code], "content": ERROR})

"""GeoJSON bodies assembled from the database's own GeoJSON text (``geogrid.store.grids.geojson_text``), so
geometries are never parsed in Python."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fastapi.responses import Response

MEDIA_TYPE = "application/geo+json"
OPENAPI: dict[int | str, dict[str, Any]] = {  # the 200 response, for the API's documentation
    200: {"content": {MEDIA_TYPE: {"schema": {"type": "object"}}}, "description": "GeoJSON (RFC 7946)"}
}


class Raw(str):
    """Text that is already JSON."""


class GeoJSONResponse(Response):
    """A response whose body is GeoJSON text."""

    media_type = MEDIA_TYPE


def dumps(value: Any) -> str:
    """Compact JSON, Chinese text kept readable."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def feature(feature_id: str, geometry_text: str | None, properties: dict[str, Any], **members: Any) -> str:
    """One Feature; members are added as foreign members (already-encoded GeoJSON text is kept as is)."""
    extra = "".join(f",{dumps(k)}:{v if isinstance(v, Raw) else dumps(v)}" for k, v in members.items())
    return (
        f'{{"type":"Feature","id":{dumps(feature_id)},"geometry":{geometry_text or "null"},'
        f'"properties":{dumps(properties)}{extra}}}'
    )


def collection(features: Iterable[str], **members: Any) -> str:
    """A FeatureCollection of encoded features, with foreign members."""
    extra = "".join(f",{dumps(k)}:{dumps(v)}" for k, v in members.items())
    return f'{{"type":"FeatureCollection","features":[{",".join(features)}]{extra}}}'

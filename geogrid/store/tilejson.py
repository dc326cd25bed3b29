"""TileJSON 3.0 of the vector tile layers: URL template, zoom range, bounds and each layer's fields.

MapLibre, Mapbox GL and QGIS add a layer from this one document. FIELDS is the twin of the columns
geogrid.store.tiles puts in each tile (tests/store/test_tilejson.py checks that they agree).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from geogrid.store import features, tiles
from geogrid.store.spatial import Scope

VERSION = "3.0.0"
FIELDS: dict[str, dict[str, str]] = {
    "grids": {"code": "String", "community_code": "String", "plan_id": "Number", "households": "Number",
              "population": "Number", "building_count": "Number", "within_limits": "Boolean",
              "flag_count": "Number", "flags": "String"},
    "buildings": {"id": "String", "community_code": "String", "households": "Number", "population": "Number",
                  "floors": "Number"},
}
DESCRIPTIONS = {
    "grids": "Second-level grids (网格) of the published plans: counts and the rules each breaks (flags)",
    "buildings": "Building footprints with their households and residents",
}
WORLD_BOUNDS = [-180.0, -85.05112878, 180.0, 85.05112878]
DIGITS = features.GEOJSON_DIGITS


def tilejson(session: Session, layer: str, scope: Scope, tiles_url: str) -> dict[str, Any]:
    """The layer's TileJSON; tiles_url is the absolute template ending in {z}/{x}/{y}.pbf."""
    box = features.extent(session, features.COLLECTIONS[layer], scope)
    bounds = WORLD_BOUNDS if box is None else list(box)
    minzoom = tiles.MIN_ZOOM[layer]
    doc: dict[str, Any] = {
        "tilejson": VERSION,
        "name": layer,
        "description": DESCRIPTIONS[layer],
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": minzoom,
        "maxzoom": tiles.MAX_ZOOM,
        "bounds": bounds,
        "vector_layers": [{"id": layer, "description": DESCRIPTIONS[layer], "minzoom": minzoom,
                           "maxzoom": tiles.MAX_ZOOM, "fields": FIELDS[layer]}],
    }
    if box is not None:
        doc["center"] = [round((bounds[0] + bounds[2]) / 2, DIGITS), round((bounds[1] + bounds[3]) / 2, DIGITS),
                         max(minzoom, 14 if layer == "grids" else 16)]
    return doc


"""MVT encoding of a polygon layer: geometry commands computed with numpy, written into mapbox-vector-tile's protobuf.

The mapbox-vector-tile package's own encoder walks coordinates one by one in Python (several
microseconds each: most of a city-wide tile's time); here every ring's MoveTo/LineTo/ClosePath
commands and zig-zag deltas come from whole-array operations, and the package's protobuf
classes hold the result, so ``mapbox_vector_tile.decode`` reads it as any other tile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from mapbox_vector_tile.Mapbox import vector_tile_pb2
from mapbox_vector_tile.utils import (
    CMD_BITS,
    CMD_LINE_TO,
    CMD_MOVE_TO,
    CMD_SEG_END,
    POLYGON,
)

MOVE_TO_ONE = (1 << CMD_BITS) | CMD_MOVE_TO
CLOSE_PATH = (1 << CMD_BITS) | CMD_SEG_END


def encode_polygons(
    name: str,
    shapes: np.ndarray,
    properties: Sequence[dict[str, Any]],
    ids: Sequence[int] | None = None,
    extent: int = 4096,
) -> bytes:
    """One layer of polygon features as MVT bytes.

    shapes are (Multi)Polygons already in integer tile coordinates (y down), valid, exterior rings
    with a positive surveyor's area; empty ones are left out. Properties with a None value are left out.
    """
    tile = vector_tile_pb2.tile()
    layer = tile.layers.add()
    layer.name, layer.version, layer.extent = name, 2, extent
    commands, bounds = _commands(shapes)
    keys: dict[str, int] = {}
    values: dict[tuple[type, Any], int] = {}
    for f, (start, stop) in enumerate(bounds):
        if start == stop:
            continue
        feature = layer.features.add()
        feature.type = POLYGON
        if ids is not None:
            feature.id = int(ids[f])
        feature.tags.extend(_tags(layer, properties[f], keys, values))
        feature.geometry.extend(commands[start:stop].tolist())
    return tile.SerializeToString() if len(layer.features) else b""


def _commands(shapes: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """All features' geometry commands in one array, and each feature's (start, stop) in it."""
    polygons, feature_of_polygon = shapely.get_parts(shapes, return_index=True)
    rings, polygon_of_ring = shapely.get_rings(polygons, return_index=True)
    xy, ring_of_point = shapely.get_coordinates(rings, return_index=True)
    xy = np.rint(xy).astype(np.int64)
    last = np.r_[ring_of_point[1:] != ring_of_point[:-1], True]  # the closing point of each ring
    repeated = np.r_[False, (np.diff(xy, axis=0) == 0).all(axis=1) & (ring_of_point[1:] == ring_of_point[:-1])]
    keep = ~last & ~repeated
    xy, ring_of_point = xy[keep], ring_of_point[keep]
    feature_of_point = feature_of_polygon[polygon_of_ring[ring_of_point]]
    first_of_feature = np.r_[True, feature_of_point[1:] != feature_of_point[:-1]]
    previous = np.vstack([[0, 0], xy[:-1]])
    previous[first_of_feature] = 0  # the cursor starts at the origin in each feature
    delta = xy - previous
    zigzag = (delta << 1) ^ (delta >> 63)

    n_rings = len(rings)
    points = np.bincount(ring_of_point, minlength=n_rings)
    size = np.where(points >= 3, 2 * points + 3, 0)  # MoveTo, x, y, LineTo, 2(n-1) numbers, ClosePath
    start = np.r_[0, np.cumsum(size)[:-1]]
    out = np.zeros(int(size.sum()), dtype=np.int64)
    whole = points >= 3
    out[start[whole]] = MOVE_TO_ONE
    out[start[whole] + 3] = ((points[whole] - 1) << CMD_BITS) | CMD_LINE_TO
    out[start[whole] + size[whole] - 1] = CLOSE_PATH
    k = np.arange(len(xy)) - np.r_[0, np.cumsum(points)[:-1]][ring_of_point]  # index within its ring
    used = whole[ring_of_point]
    at = start[ring_of_point] + np.where(k == 0, 1, 2 * k + 2)
    out[at[used]] = zigzag[used, 0]
    out[at[used] + 1] = zigzag[used, 1]

    feature_of_ring = feature_of_polygon[polygon_of_ring]  # ascending: rings come feature by feature
    features = np.arange(len(shapes))
    lo = np.searchsorted(feature_of_ring, features, "left")
    hi = np.searchsorted(feature_of_ring, features, "right")
    ends = np.r_[0, np.cumsum(size)]
    return out, list(zip(ends[lo].tolist(), ends[hi].tolist(), strict=True))


def _tags(layer: Any, properties: dict[str, Any], keys: dict[str, int], values: dict[tuple[type, Any], int]) -> list[int]:
    """The feature's key/value index pairs, adding new keys and values to the layer."""
    tags = []
    for key, value in properties.items():
        if value is None:
            continue
        if key not in keys:
            keys[key] = len(keys)
            layer.keys.append(key)
        slot = (type(value), value)
        if slot not in values:
            values[slot] = len(values)
            _value(layer.values.add(), value)
        tags += [keys[key], values[slot]]
    return tags


def _value(message: Any, value: Any) -> None:
    if isinstance(value, bool):
        message.bool_value = value
    elif isinstance(value, int):
        message.int_value = value
    elif isinstance(value, float):
        message.double_value = value
    else:
        message.string_value = str(value)

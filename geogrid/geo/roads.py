"""Street classes: OSM ``highway`` values and Chinese road grades read as major, minor or footway/service."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geogrid.errors import InputError

MAJOR = "major"  # arterials: boundaries follow these first
MINOR = "minor"  # local streets
FOOTWAY = "footway_service"  # footways, paths, service and compound roads: they do not cut blocks
UNKNOWN = "street"  # a line of a layer without classes, or of a class not recognised: a street, as before
CLASSES = (MAJOR, MINOR, FOOTWAY, UNKNOWN)
CUTTING = (MAJOR, MINOR, UNKNOWN)  # classes that cut a community into blocks

# Columns read for a class when none is named, in this order.
CLASS_COLUMNS = ("highway", "fclass", "road_class", "roadclass", "道路等级", "道路类别", "道路类型", "等级", "class",
                 "grade")

_OSM = {
    MAJOR: ("motorway", "trunk", "primary", "secondary", "tertiary", "expressway"),
    MINOR: ("residential", "unclassified", "living_street", "road", "busway", "street", "local"),
    FOOTWAY: ("service", "footway", "path", "cycleway", "pedestrian", "steps", "track", "bridleway", "corridor",
              "sidewalk", "crossing", "platform", "elevator", "construction", "proposed", "abandoned", "disused",
              "escape", "raceway", "via_ferrata", "alley", "driveway", "parking_aisle"),
}
# Chinese grades, matched as parts of the value (主干路, 城市主干道, 一级公路 ...); the first match wins,
# so footway words come before the words of grades they contain (小区道路 before 道路).
_CHINESE = (
    (FOOTWAY, ("人行", "步行", "小区", "内部", "绿道", "自行车", "非机动车", "小路", "小径", "机耕", "游步道", "栈道",
               "台阶", "服务", "停车场", "施工", "规划")),
    (MAJOR, ("高速", "快速", "主干", "次干", "国道", "省道", "县道", "一级", "二级", "干线")),
    (MINOR, ("支路", "街巷", "胡同", "巷", "乡道", "村道", "三级", "四级", "城市道路", "街道", "道路")),
)


def road_classes(roads: gpd.GeoDataFrame, column: str | None = None) -> NDArray[np.str_] | None:
    """Each line's class (``MAJOR``, ``MINOR``, ``FOOTWAY`` or ``UNKNOWN``), or None for a layer without one.

    ``column`` names the class column (an InputError if it is missing); without it the first of
    ``CLASS_COLUMNS`` present is read. Values not recognised are ``UNKNOWN``: streets, as every line
    of a layer without classes.
    """
    if column is not None and column not in roads.columns:
        present = ", ".join(str(c) for c in roads.columns if c != roads.geometry.name) or "none"
        raise InputError(f"roads: no road class column {column!r} (columns: {present})")
    column = column or next((c for c in CLASS_COLUMNS if c in roads.columns), None)
    if column is None:
        return None
    return classify(roads[column])


def classify(values: pd.Series) -> NDArray[np.str_]:
    """Street classes of raw class values (OSM ``highway``/Geofabrik ``fclass`` names or Chinese grades)."""
    text = values.astype("string").fillna("").str.strip().str.lower()
    distinct = pd.unique(text.to_numpy())
    known = {value: _class_of(value) for value in distinct}
    return text.map(known).to_numpy(dtype=str)


def _class_of(value: str) -> str:
    word = value.removesuffix("_link").split(";")[0].strip()  # motorway_link; "primary;secondary" takes the first
    if word.startswith("track_grade"):  # Geofabrik's track_grade1..5
        return FOOTWAY
    for kind, names in _OSM.items():
        if word in names:
            return kind
    for kind, parts in _CHINESE:
        if any(part in value for part in parts):
            return kind
    return UNKNOWN

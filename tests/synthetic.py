"""Small synthetic communities for the engine's tests, built in a metric CRS and given in lon/lat."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

METRIC = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
ORIGIN = (593_000.0, 2_858_000.0)  # near Ganzhou, Jiangxi


def community(
    rng: np.random.Generator,
    *,
    code: str = "360702-001-001",
    width: float = 600.0,
    height: float = 500.0,
    spacing: float = 40.0,
    households: tuple[int, int] = (12, 36),
    people_per_household: float = 2.7,
    towers: list[tuple[int, int | None]] | None = None,
    kind: str = "urban",
    with_roads: bool = True,
):
    """One community with walk-up buildings on a jittered lattice, optional towers and roads.

    towers: (households, units or None) for each tower replacing a lattice building.
    Returns (communities, buildings, roads) GeoDataFrames in EPSG:4326.
    """
    x0, y0 = ORIGIN
    outline = shapely.Polygon(
        [(x0, y0), (x0 + width, y0 + rng.uniform(-30, 30)), (x0 + width, y0 + height), (x0, y0 + height)]
    )
    gx, gy = np.meshgrid(np.arange(x0 + 20, x0 + width - 40, spacing), np.arange(y0 + 40, y0 + height - 30, spacing * 0.7))
    x = gx.ravel() + rng.uniform(-3, 3, gx.size)
    y = gy.ravel() + rng.uniform(-2, 2, gy.size)
    footprints = shapely.box(x, y, x + spacing * 0.55, y + 10)
    lines = []
    if with_roads:
        lines = [shapely.LineString([(x0 + width / 2 + 1, y0 - 50), (x0 + width / 2 + 1, y0 + height + 50)]),
                 shapely.LineString([(x0 - 50, y0 + height / 2 + 1), (x0 + width + 50, y0 + height / 2 + 1)])]
    clear = shapely.buffer(shapely.union_all(lines), 3) if lines else shapely.Polygon()
    inside = shapely.contains(outline, footprints) & ~shapely.intersects(clear, footprints)
    footprints = footprints[inside]
    n = len(footprints)
    hh = rng.integers(households[0], households[1] + 1, n)
    units = np.full(n, None, dtype=object)
    for t, (tower_households, tower_units) in enumerate(towers or []):
        hh[t * 7 % n] = tower_households
        units[t * 7 % n] = tower_units
    pop = np.maximum(hh, np.round(hh * rng.normal(people_per_household, 0.15, n))).astype(int)
    buildings = gpd.GeoDataFrame(
        {
            "building_id": [f"B{i:05d}" for i in range(n)],
            "households": hh,
            "population": pop,
            "compound": [f"小区{int(cx)}-{int(cy)}" for cx, cy in zip((x[inside] - x0) // 130, (y[inside] - y0) // 110)],
            "address": [f"解放路{i}号" for i in range(n)],
            "units": units,
        },
        geometry=footprints,
        crs=METRIC,
    )
    communities = gpd.GeoDataFrame({"community_code": [code], "name": ["测试社区"], "kind": [kind]},
                                   geometry=[outline], crs=METRIC)
    roads = gpd.GeoDataFrame({"name": ["路"] * len(lines)}, geometry=lines, crs=METRIC)
    return communities.to_crs(4326), buildings.to_crs(4326), roads.to_crs(4326)

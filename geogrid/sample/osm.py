"""Real-data cases: OpenStreetMap footprints and streets shipped inside PyPI packages, with estimated counts."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geogrid.geo.crs import metric_crs

WGS84 = "EPSG:4326"
SQM_PER_HOUSEHOLD = 80.0  # floor area of one household
PEOPLE_PER_HOUSEHOLD = 2.6  # China's 2020 census: 2.62
STOREY_M = 3.0  # storeys from a height tag
SMALLEST_HOME_M2 = 40.0  # footprints under this (sheds, garages, kiosks) hold no households
# Storeys of a footprint with neither levels nor height: (largest area in m², storeys), by area.
STOREYS_BY_AREA = ((120.0, 1), (300.0, 2), (800.0, 4), (2000.0, 5), (np.inf, 6))
# OSM building values that are not homes (`yes` and unknown values are taken as homes).
NOT_HOMES = frozenset({
    "barn", "boathouse", "bridge", "bunker", "cabin", "carport", "cathedral", "chapel", "church", "civic", "college",
    "commercial", "construction", "fire_station", "garage", "garages", "government", "greenhouse", "hospital",
    "hotel", "hut", "industrial", "kindergarten", "kiosk", "manufacture", "mosque", "museum", "office", "parking",
    "public", "religious", "retail", "roof", "ruins", "school", "service", "shed", "sports_centre", "sports_hall",
    "stadium", "supermarket", "synagogue", "temple", "theatre", "toilets", "train_station", "transformer_tower",
    "transportation", "university", "warehouse", "water_tower",
})
# OSM highway values that do not bound a block (paths, service lanes, steps, ...).
MINOR_STREETS = frozenset({
    "bridleway", "construction", "corridor", "cycleway", "elevator", "footway", "path", "pedestrian", "platform",
    "proposed", "service", "steps", "track", "trail", "via_ferrata",
})
# Major streets: boundaries along these are what a planner wants most.
MAJOR_STREETS = frozenset({
    "motorway", "motorway_link", "primary", "primary_link", "secondary", "secondary_link", "tertiary",
    "tertiary_link", "trunk", "trunk_link",
})
COMMUNITY_HOUSEHOLDS = (1500, 2500, 4000)  # a community of whole blocks: fewest, aimed at, most
MIN_SHARED_EDGE_M = 1.0  # blocks sharing less than this do not neighbour each other
FRAME_M = 30.0  # the study area: the buildings' convex hull, this far out
RIM_CELL_M = 300.0  # the rim that the streets leave open is cut into squares of this side


@dataclass(frozen=True)
class RealCase:
    """One real place: communities made of whole street blocks, buildings with estimated counts, streets.

    All in EPSG:4326. buildings: building_id, households, population, storeys, osm_building,
    compound (''), units (none), geometry. roads: highway (the OSM class, '' where unknown).
    """

    name: str
    place: str
    source: str
    communities: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame


@dataclass(frozen=True)
class _Source:
    place: str
    source: str
    district: str  # a district code of our own for the case's grid codes
    read: Callable[[], tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]]


def _momepy_bubenec() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    from momepy import datasets

    path = datasets.get_path("bubenec")
    buildings = gpd.read_file(path, layer="buildings")
    buildings = buildings.assign(osm_id=buildings["uID"].astype(str), building="yes", levels=np.nan, height=np.nan)
    streets = gpd.read_file(path, layer="streets").assign(highway="")
    return buildings, streets


def _pyrosm(file_key: str) -> Callable[[], tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]]:
    def read() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        try:
            import pyrosm
        except ImportError as error:  # a test or bench extra, not needed by the engine
            raise RuntimeError("the OSM cases read pyrosm's bundled extracts: pip install 'geogrid[test]'") from error
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = pyrosm.OSM(pyrosm.get_data(file_key))
            buildings = osm.get_buildings()
            streets = osm.get_network(network_type="all")
        buildings = buildings.assign(
            osm_id=buildings["id"].astype(str),
            levels=buildings["building:levels"] if "building:levels" in buildings else np.nan,
            height=buildings["height"] if "height" in buildings else np.nan,
        )
        streets = streets.assign(highway=streets["highway"].fillna("").astype(str))
        return buildings, streets

    return read


SOURCES = {
    "bubenec": _Source("Bubeneč, Prague (CZ)", "momepy 0.11 bundled data (momepy.datasets 'bubenec')", "900001",
                       _momepy_bubenec),
    "helsinki": _Source("Helsinki centre (FI)", "pyrosm bundled extract Helsinki.osm.pbf", "900002",
                        _pyrosm("helsinki_pbf")),
    "karhula": _Source("Karhula, Kotka (FI)", "pyrosm bundled extract test.osm.pbf", "900003", _pyrosm("test_pbf")),
}


def real_case(name: str, *, community_households: tuple[int, int, int] = COMMUNITY_HOUSEHOLDS) -> RealCase:
    """The case ``name`` (one of SOURCES): the same frames every time for the same package versions."""
    source = SOURCES[name]
    raw_buildings, raw_streets = source.read()
    metric = metric_crs(raw_buildings.to_crs(WGS84))
    streets = _lines(raw_streets.to_crs(metric))
    buildings = _buildings(raw_buildings.to_crs(metric), name)
    frame = shapely.buffer(shapely.convex_hull(shapely.union_all(buildings.geometry.to_numpy())), FRAME_M)
    blocks = street_blocks(streets, frame, buildings.geometry.to_numpy())
    block_of = _block_of(buildings.geometry.to_numpy(), blocks)
    buildings = buildings[block_of >= 0].reset_index(drop=True)
    block_of = block_of[block_of >= 0]
    households = np.bincount(block_of, weights=buildings["households"].to_numpy(float), minlength=len(blocks))
    group = group_blocks(blocks, households, community_households)
    communities = _communities(blocks, group, source.district, metric)
    near = shapely.intersects(streets.geometry.to_numpy(), shapely.union_all(communities.geometry.to_numpy()))
    return RealCase(name, source.place, source.source, communities.to_crs(WGS84), buildings.to_crs(WGS84),
                    streets[near].reset_index(drop=True).to_crs(WGS84))


def estimate_households(area_m2: np.ndarray, levels: np.ndarray, height_m: np.ndarray,
                        building: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Storeys and households of each footprint: storeys from levels, else height ÷ 3 m, else by area;
    households = area × storeys ÷ 80 m² (at least 1 for a home), none for non-homes and sheds."""
    by_area = np.array([s for _, s in STOREYS_BY_AREA])[np.searchsorted([a for a, _ in STOREYS_BY_AREA], area_m2)]
    from_height = np.maximum(np.round(height_m / STOREY_M), 1)
    storeys = np.where(levels >= 1, np.round(levels), np.where(height_m > 0, from_height, by_area))
    home = ~np.isin(building, list(NOT_HOMES)) & (area_m2 >= SMALLEST_HOME_M2)
    households = np.where(home, np.maximum(np.round(area_m2 * storeys / SQM_PER_HOUSEHOLD), 1), 0)
    return storeys.astype(int), households.astype(int)


def _number(values: pd.Series) -> np.ndarray:
    """The first number in each tag value ('4', '12 m', '3;4'), NaN where there is none."""
    text = values.astype(object).where(values.notna(), "").astype(str)
    return pd.to_numeric(text.str.extract(r"(\d+(?:\.\d+)?)", flags=re.ASCII)[0], errors="coerce").to_numpy(float)


def _buildings(raw: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    polygons = raw[raw.geom_type.isin(["Polygon", "MultiPolygon"])].copy()
    polygons = polygons.assign(geometry=shapely.make_valid(polygons.geometry.to_numpy()))
    polygons = polygons[polygons.area > 0]
    kind = polygons["building"].fillna("yes").astype(str).to_numpy()
    storeys, households = estimate_households(polygons.area.to_numpy(), _number(polygons["levels"]),
                                              _number(polygons["height"]), kind)
    out = gpd.GeoDataFrame({
        "building_id": [f"{name}-{i}" for i in polygons["osm_id"]],
        "households": households,
        "population": np.round(households * PEOPLE_PER_HOUSEHOLD).astype(int),
        "storeys": storeys,
        "osm_building": kind,
        "compound": "",
        "units": None,
    }, geometry=polygons.geometry.to_numpy(), crs=raw.crs)
    return out.drop_duplicates("building_id").sort_values("building_id", kind="stable").reset_index(drop=True)


def _lines(raw: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    lines = raw[raw.geom_type.isin(["LineString", "MultiLineString"])]
    return gpd.GeoDataFrame({"highway": lines["highway"].to_numpy()}, geometry=lines.geometry.to_numpy(),
                            crs=raw.crs).explode(index_parts=False).reset_index(drop=True)


def street_blocks(streets: gpd.GeoDataFrame, frame: shapely.Geometry, footprints: np.ndarray) -> np.ndarray:
    """The blocks that the streets close inside ``frame`` (paths, service lanes and steps do not bound
    a block), and the rim they leave open cut by a lattice of RIM_CELL_M (each stretch of a lattice
    line across the rim kept only where it misses every footprint); in reading order (north to
    south by 100 m rows, then west to east). Together they tile the frame."""
    bounding = streets.geometry.to_numpy()[~streets["highway"].isin(MINOR_STREETS).to_numpy()]
    inside = shapely.intersection(bounding, frame)
    closed = _polygons(shapely.polygonize(shapely.get_parts(shapely.union_all(inside))))
    rim = shapely.buffer(shapely.difference(frame, shapely.union_all(closed)), 0.01)
    xmin, ymin, xmax, ymax = shapely.bounds(frame)
    xs, ys = np.arange(xmin + RIM_CELL_M, xmax, RIM_CELL_M), np.arange(ymin + RIM_CELL_M, ymax, RIM_CELL_M)
    lattice = [shapely.LineString([(x, ymin), (x, ymax)]) for x in xs] + \
              [shapely.LineString([(xmin, y), (xmax, y)]) for y in ys]
    stretches = shapely.get_parts(shapely.intersection(lattice, rim))
    crossing = np.unique(shapely.STRtree(footprints).query(stretches, predicate="intersects")[0])
    lines = np.concatenate([inside, [shapely.boundary(frame)], np.delete(stretches, crossing)])
    blocks = _polygons(shapely.polygonize(shapely.get_parts(shapely.union_all(lines))))
    xy = shapely.get_coordinates(shapely.centroid(blocks))
    return blocks[np.lexsort((np.round(xy[:, 0], 3), -np.round(xy[:, 1] / 100)))]


def _polygons(geoms: np.ndarray) -> np.ndarray:
    """The polygons of these geometries (clipping leaves lines and points), without dust."""
    parts = shapely.get_parts(geoms)
    parts = parts[shapely.get_type_id(parts) == 3]
    return parts[shapely.area(parts) > 1.0]


def _block_of(footprints: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """The block holding each footprint's interior point (-1 for none)."""
    home = np.full(len(footprints), -1, dtype=np.int64)
    b, k = shapely.STRtree(blocks).query(shapely.point_on_surface(footprints), predicate="within")
    home[b] = k
    return home


def block_neighbours(blocks: np.ndarray) -> list[list[int]]:
    """For each block, the blocks it shares an edge with (a corner is not enough)."""
    i, j = shapely.STRtree(blocks).query(blocks, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    shared = shapely.length(shapely.intersection(shapely.boundary(blocks[i]), shapely.boundary(blocks[j])))
    neighbours: list[list[int]] = [[] for _ in blocks]
    for a, b in zip(i[shared >= MIN_SHARED_EDGE_M], j[shared >= MIN_SHARED_EDGE_M]):
        neighbours[a].append(int(b))
        neighbours[b].append(int(a))
    return [sorted(n) for n in neighbours]


def group_blocks(blocks: np.ndarray, households: np.ndarray, sizes: tuple[int, int, int]) -> np.ndarray:
    """Each block's community: grown block by block from the first free block in reading order, taking
    the free neighbour nearest the seed, until it holds ``sizes[1]`` households (without passing
    ``sizes[2]`` once past ``sizes[0]``); a community left under ``sizes[0]`` joins its smallest neighbour."""
    fewest, aim, most = sizes
    neighbours = block_neighbours(blocks)
    xy = shapely.get_coordinates(shapely.centroid(blocks))
    group = np.full(len(blocks), -1, dtype=np.int64)
    count = 0
    for seed in range(len(blocks)):
        if group[seed] >= 0:
            continue
        group[seed], held = count, households[seed]
        while held < aim:
            free = sorted({n for b in np.flatnonzero(group == count) for n in neighbours[b] if group[n] < 0})
            if not free:
                break
            nearest = min(free, key=lambda n: (np.hypot(*(xy[n] - xy[seed])), n))
            if held >= fewest and held + households[nearest] > most:
                break
            group[nearest], held = count, held + households[nearest]
        count += 1
    return _merge_small(group, households, neighbours, fewest)


def _merge_small(group: np.ndarray, households: np.ndarray, neighbours: list[list[int]], fewest: int) -> np.ndarray:
    """Communities under ``fewest`` households join their neighbour community with the fewest, smallest first."""
    while True:
        held = np.bincount(group, weights=households)
        small = [g for g in np.argsort(held, kind="stable") if 0 <= held[g] < fewest and (group == g).any()]
        for g in small:
            touching = sorted({int(group[n]) for b in np.flatnonzero(group == g) for n in neighbours[b]} - {int(g)})
            if touching:
                target = min(touching, key=lambda t: (held[t], t))
                group[group == g] = target
                break
        else:
            _, group = np.unique(group, return_inverse=True)
            return group


def _communities(blocks: np.ndarray, group: np.ndarray, district: str, crs) -> gpd.GeoDataFrame:
    geoms = [shapely.union_all(blocks[group == g]) for g in range(group.max() + 1)]
    return gpd.GeoDataFrame({
        "community_code": [f"{district}-001-{g + 1:03d}" for g in range(len(geoms))],
        "name": [f"街区组{g + 1}" for g in range(len(geoms))],
        "kind": "urban",
    }, geometry=geoms, crs=crs)


def write_case(case: RealCase, folder: Path) -> dict[str, Path]:
    """The case's layers as GeoJSON files for `geogrid partition`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {layer: folder / f"{layer}.geojson" for layer in ("communities", "buildings", "roads")}
    for layer, path in paths.items():
        getattr(case, layer).to_file(path, driver="GeoJSON")
    return paths

"""The same layers as from each input CRS: GCJ-02, WGS-84 from another tool, CGCS2000, a projected CRS."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geogrid.geo.crs import gcj02_to_wgs84, to_wgs84, wgs84_to_gcj02
from geogrid.partition import partition
from geogrid.partition.engine import PartitionResult

LAYERS = ("communities", "buildings", "roads", "villager_groups")
NOISE_DEG = 5e-14  # about 5 nm
PROJECTED = "EPSG:32650"  # WGS 84 / UTM zone 50N: not the engine's own metric CRS (a CGCS2000 GK zone)


def read_sample(folder: Path, codes: list[str] | None = None) -> dict[str, gpd.GeoDataFrame]:
    """The sample's layers in WGS-84, optionally only some communities and what lies in them."""
    layers = {name: gpd.read_file(folder / f"{name}.geojson") for name in LAYERS}
    if codes:
        layers = only_communities(layers, codes)
    return layers


def only_communities(layers: dict[str, gpd.GeoDataFrame], codes: list[str]) -> dict[str, gpd.GeoDataFrame]:
    """The layers cut down to some communities (buildings and groups inside them, roads touching them)."""
    chosen = layers["communities"][layers["communities"]["community_code"].isin(codes)].reset_index(drop=True)
    area = chosen.union_all()
    out = {"communities": chosen}
    for name in ("buildings", "roads", "villager_groups"):
        frame = layers[name]
        keep = frame.intersects(area) if name == "roads" else frame.representative_point().within(area)
        out[name] = frame[keep].reset_index(drop=True)
    return out


def variants(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, dict[str, gpd.GeoDataFrame]]:
    """The same layers as the engine gets them from each input CRS."""

    def each(convert):
        return {name: convert(frame, name) for name, frame in layers.items()}

    def gcj02(frame, name):  # a GCJ-02 file, read with --input-crs gcj02
        shifted = frame.set_geometry(frame.geometry.transform(lambda xy: _apply(wgs84_to_gcj02, xy)))
        return to_wgs84(shifted, "gcj02", name=name)

    def wgs84_converted(frame, name):  # the GCJ-02 file converted to WGS-84 beforehand, another tool's round trip
        shifted = frame.geometry.transform(lambda xy: _apply(wgs84_to_gcj02, xy))
        back = shifted.transform(lambda xy: _apply(gcj02_to_wgs84, xy))
        return to_wgs84(frame.set_geometry(back.set_crs(4326, allow_override=True)), name=name)

    def noisy(frame, name):  # WGS-84 from another tool: every coordinate off by a few nanometres
        return frame.set_geometry(frame.geometry.transform(_jitter))

    return {
        "wgs84": layers,
        "wgs84_noise": each(noisy),
        "gcj02": each(gcj02),
        "wgs84_from_gcj02": each(wgs84_converted),
        "cgcs2000": each(lambda frame, name: frame.to_crs("EPSG:4490")),
        "projected": each(lambda frame, name: frame.to_crs(PROJECTED)),
    }


def _jitter(xy: np.ndarray) -> np.ndarray:
    """Each point moved by up to NOISE_DEG, the same for equal points (rings stay closed)."""
    phase = np.sin(xy @ np.array([1.3e7, 2.9e7]))[:, None]
    return xy + NOISE_DEG * np.hstack([phase, np.cos(phase * 7.0)])


def _apply(convert, xy):
    x, y = convert(xy[:, 0], xy[:, 1])
    return pd.DataFrame({"x": x, "y": y}).to_numpy()


def run(layers: dict[str, gpd.GeoDataFrame]) -> PartitionResult:
    return partition(layers["communities"], layers["buildings"], roads=layers["roads"],
                     villager_groups=layers["villager_groups"])


def agreement(a: PartitionResult, b: PartitionResult) -> dict:
    """Share of buildings with the same grid code in both plans, and how many differ."""
    left = a.assignments.drop_duplicates("building_id").set_index("building_id")["grid_code"]
    right = b.assignments.drop_duplicates("building_id").set_index("building_id")["grid_code"]
    right = right.reindex(left.index)
    same = (left.fillna("") == right.fillna("")).to_numpy()
    where = a.assignments.drop_duplicates("building_id").set_index("building_id")["community_code"]
    communities = sorted(set(where.reindex(left.index[~same]).dropna()))
    return {"buildings": int(len(same)), "differ": int((~same).sum()), "same_share": round(float(same.mean()), 6),
            "communities_differing": communities}

"""Communities against each other and buildings placed in them: overlaps, gaps, boundaries that cut footprints."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geogrid.errors import InputError
from geogrid.partition.atoms import polygonal

OVERLAP_M2 = 1.0  # overlaps of communities up to this are digitising noise: given to the smaller code, reported
GAP_M2 = 1.0  # gaps between communities smaller than this are not counted
GAP_WIDTH_M = 2.0  # slits narrower than twice this between communities count as gaps even where open
CUT_M2 = 0.01  # a footprint with more than this outside its community is reported as cut by the boundary
_MAX_LISTED = 20


def overlaps(communities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Pairs of communities whose areas overlap: community_code a < b (the smaller code first), area_m2."""
    geoms = communities.geometry.to_numpy()
    codes = communities["community_code"].to_numpy().astype(str)
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = codes[i] < codes[j]
    i, j = i[keep], j[keep]
    area = shapely.area(shapely.intersection(geoms[i], geoms[j]))
    pairs = pd.DataFrame({"a": codes[i], "b": codes[j], "area_m2": area})
    return pairs[pairs["area_m2"] > 0].sort_values(["a", "b"], ignore_index=True)


def settle_overlaps(communities: gpd.GeoDataFrame, resolve: bool) -> tuple[gpd.GeoDataFrame, list[dict]]:
    """Communities that no longer overlap, and the repairs: each overlap goes to the community with
    the smaller code. Overlaps above OVERLAP_M2 are refused (InputError naming the pairs and their
    areas) unless ``resolve``."""
    pairs = overlaps(communities)
    if pairs.empty:
        return communities, []
    large = pairs[pairs["area_m2"] > OVERLAP_M2]
    if len(large) and not resolve:
        raise InputError(_overlap_message(large))
    geoms = communities.geometry.to_numpy().copy()
    index = pd.Series(np.arange(len(communities)), index=communities["community_code"].astype(str))
    for b, group in pairs.groupby("b", sort=True):
        taken = shapely.union_all(geoms[index[group["a"]].to_numpy()])
        geoms[index[b]] = polygonal(np.array([shapely.difference(geoms[index[b]], taken)], dtype=object))[0]
    emptied = shapely.is_empty(geoms)
    if emptied.any():
        names = ", ".join(communities["community_code"].astype(str).to_numpy()[emptied][:_MAX_LISTED])
        raise InputError(f"communities: {names} lie wholly inside communities with smaller codes; "
                         f"remove them or fix their boundaries")
    out = communities.set_geometry(gpd.GeoSeries(geoms, index=communities.index, crs=communities.crs))
    repairs = [{"community_code": b, "repair": "overlap_given", "to": a, "area_m2": round(float(m2), 2),
                "reason": f"{m2:.1f} m² lying in both {a} and {b} is given to {a} (the smaller code)"}
               for a, b, m2 in pairs.itertuples(index=False)]
    return out, repairs


def _overlap_message(pairs: pd.DataFrame) -> str:
    items = [f"{a} and {b} ({m2:,.0f} m²)" for a, b, m2 in pairs.itertuples(index=False)]
    more = len(items) - _MAX_LISTED
    return (f"communities overlap: {', '.join(items[:_MAX_LISTED])}" + (f" and {more} more pairs" if more > 0 else "")
            + "; fix the boundaries, or give each overlap to the community with the smaller code with "
              "--resolve-overlaps")


def gaps(communities: gpd.GeoDataFrame) -> dict:
    """Areas between communities that no community covers: holes in their union, and slits narrower
    than 2 x GAP_WIDTH_M open to the outside; count and total area (m²)."""
    union = shapely.union_all(communities.geometry.to_numpy())
    if union.is_empty:
        return {"count": 0, "area_m2": 0.0}
    closed = shapely.buffer(shapely.buffer(union, GAP_WIDTH_M, join_style="mitre"), -GAP_WIDTH_M, join_style="mitre")
    filled = shapely.union_all([_without_holes(union), closed])
    parts = shapely.get_parts(shapely.difference(filled, union))
    parts = parts[shapely.area(parts) > GAP_M2]
    return {"count": int(len(parts)), "area_m2": round(float(shapely.area(parts).sum()), 1)}


def _without_holes(geom: shapely.Geometry) -> shapely.Geometry:
    polygons = shapely.get_parts(geom)
    polygons = polygons[shapely.get_type_id(polygons) == 3]
    return shapely.union_all(shapely.polygons(shapely.get_exterior_ring(polygons)))


def homes(buildings: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> tuple[np.ndarray, gpd.GeoDataFrame, list[dict]]:
    """Each building's community (the one holding most of its footprint, the smaller code on a tie;
    -1 for none), the buildings with footprints clipped to their community, and the repairs: one
    per building that a community boundary cuts."""
    geoms = buildings.geometry.to_numpy()
    home = np.full(len(geoms), -1, dtype=np.int64)
    if len(geoms) == 0:
        return home, buildings, []
    tree = shapely.STRtree(communities.geometry.to_numpy())
    b, c = tree.query(geoms, predicate="within")
    home[b] = c
    cut = np.flatnonzero(home < 0)
    b, c = tree.query(geoms[cut], predicate="intersects")
    b = cut[b]
    area = shapely.area(shapely.intersection(geoms[b], communities.geometry.to_numpy()[c]))
    order = np.lexsort((c, -area, b))  # per building: most area first, then the smaller code
    b, c, area = b[order], c[order], area[order]
    first = np.r_[True, b[1:] != b[:-1]] & (area > CUT_M2)  # touching, or dust: outside
    b, c, area = b[first], c[first], area[first]
    home[b] = c
    if len(b) == 0:
        return home, buildings, []
    clipped = geoms.copy()
    clipped[b] = polygonal(shapely.intersection(geoms[b], communities.geometry.to_numpy()[c]))
    out = buildings.set_geometry(gpd.GeoSeries(clipped, index=buildings.index, crs=buildings.crs))
    codes = communities["community_code"].to_numpy().astype(str)
    share = area / shapely.area(geoms[b])
    ids = buildings["building_id"].to_numpy()
    repairs = [{"building_id": str(ids[k]), "repair": "cut_by_community_boundary", "community_code": codes[h],
                "share_inside": round(float(s), 4),
                "reason": f"a community boundary crosses the footprint; it goes to {codes[h]}, which holds "
                          f"{s:.0%} of it, and its grid stops at that community's boundary"}
               for k, h, s, outside in zip(b, c, share, shapely.area(geoms[b]) - area) if outside > CUT_M2]
    return home, out, repairs

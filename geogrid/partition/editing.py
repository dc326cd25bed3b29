"""Manual edits of a draft plan (move a building, redraw, merge, split grids) and the rules a plan breaks.

Every edit is a pure function of a :class:`Plan` (EPSG:4326) that returns an :class:`Edit`: the new plan,
the grids it changed and the grids it removed. Set operations on grid polygons run on the stored
lon/lat coordinates, so that boundaries an edit does not move keep their exact vertices and the
grids still tile the community; areas, lengths and the street-block tessellation are computed in
the community's metric CRS (``geogrid.geo.crs.metric_crs``). A grid an edit touches is recounted from
the buildings assigned to it, as the engine counts urban grids.

A building is placed by a point inside its footprint (``shapely.point_on_surface``), which unlike
the centroid of an L-shaped footprint always lies in the footprint.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
import shapely.ops
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from geogrid.geo.crs import metric_crs
from geogrid.errors import InputError
from geogrid.partition import constraints
from geogrid.partition.atoms import polygonal, tessellate
from geogrid.partition.limits import Limits
from geogrid.partition.scores import compactness, tiling_pieces
from geogrid.partition.rules import Rules

WGS84 = "EPSG:4326"
Flag = dict[str, Any]

TILING_TOLERANCE_M2 = 0.5  # gaps, overlaps and spill-over smaller than this are floating-point noise
MIN_PART_DEG2 = 1e-16  # polygon parts below this (about a square millimetre) are overlay noise
SHARED_EDGE_M = 0.01  # two grids are neighbours when they share more boundary than this
OUTSIDE_SHARE = 0.01  # a drawn polygon may overshoot its community by this share of its area
SHARED_EDGE_DEG = 1e-7  # about a centimetre: a shorter shared boundary (a corner) does not make neighbours
SAMPLE_DEG = 1e-5  # about a metre: the spacing of the points that share out the ground a grid gives up
SNAP_DEG = 2e-6  # drawn vertices this close (about 0.2 m) to a grid's or the community's vertex or edge snap to it


class EditError(InputError):
    """An edit that cannot be made as asked; the message says why (the API answers 422)."""


@dataclass(frozen=True)
class Plan:
    """A plan version as the editor sees it, in EPSG:4326.

    grids: grid_code, households, population, building_count, compactness, within_limits,
        flags (JSON text), geometry (as ``geogrid.store.plans.plan_grids`` returns them).
    assignments: building_id, units, grid_code (None: in no grid), households, population.
    buildings: building_id, households, population, geometry: the community's footprints
        (and any other footprint the assignments name).
    """

    community_code: str
    kind: str
    community: BaseGeometry
    rules: Rules
    grids: gpd.GeoDataFrame
    assignments: pd.DataFrame
    buildings: gpd.GeoDataFrame

    @property
    def limits(self) -> Limits:
        """The count windows of this community's grids."""
        return Limits.of_kind(self.kind, self.rules)

    @property
    def crs(self) -> CRS:
        """The metric CRS the plan is measured in."""
        return metric_crs(tuple(shapely.bounds(self.community)))

    def geometry_of(self, code: str) -> BaseGeometry:
        """The polygon of grid code, or EditError."""
        found = self.grids.loc[self.grids["grid_code"] == code, "geometry"]
        if found.empty:
            raise EditError(f"plan has no grid {code!r}")
        return found.iloc[0]


@dataclass(frozen=True)
class Edit:
    """What an edit made: the new plan, the grids it changed (still there) and those it removed."""

    plan: Plan
    touched: tuple[str, ...]
    removed: tuple[str, ...]


# --- the edits ---------------------------------------------------------------------------------


def move_building(plan: Plan, building_id: str, to_grid: str, *, units: str | None = None,
                  from_grid: str | None = None) -> Edit:
    """Move a whole building to a neighbouring grid, with the tessellation cell around it; or, for a tower split
    by units, the unit ranges asked for (``units``, or those in ``from_grid``) only.

    The cell is the building's share of each grid it leaves, cut by the same street-block
    tessellation the engine uses (footprints of that grid's buildings, inside that grid), so
    the footprint ends up inside to_grid and the rest of the old grid keeps its boundary. A cell
    that does not touch to_grid makes it a grid in two parts, which ``check`` reports. A grid left
    with no area is removed (the edit's ``removed`` names it). Unit ranges move without ground: the
    tower stays where it stands, and a grid they leave keeps its shape even with no households.
    """
    rows = plan.assignments[plan.assignments["building_id"] == building_id]
    if rows.empty:
        raise EditError(f"building {building_id!r} is not in this plan")
    if rows["grid_code"].isna().all():
        raise EditError(f"building {building_id!r} is in no grid: draw a grid around it (replace_boundary)")
    plan.geometry_of(to_grid)
    if (rows["units"] != "").any():
        return _move_units(plan, building_id, _chosen_units(building_id, rows, units, from_grid), to_grid)
    if from_grid is not None and from_grid not in set(rows["grid_code"].dropna()):
        raise EditError(f"building {building_id!r} is not in grid {from_grid!r}")
    sources = sorted(set(rows["grid_code"].dropna()) - {to_grid})
    if not sources:
        raise EditError(f"building {building_id!r} is already in grid {to_grid!r}", code="edit.already_there",
                        params={"building": building_id, "grid": to_grid})
    for source in sources:
        if not _neighbours(plan, source, to_grid):
            raise EditError(f"grid {source!r} does not border grid {to_grid!r}: a building moves only to a "
                            "neighbouring grid", code="edit.not_neighbours", params={"grid": source, "other": to_grid})
    shapes = _with_cells(plan, {source: [building_id] for source in sources}, to_grid)
    whole = pd.DataFrame([{"building_id": building_id, "units": "", "grid_code": to_grid,
                           "households": int(rows["households"].sum()), "population": int(rows["population"].sum())}])
    assignments = pd.concat([plan.assignments[plan.assignments["building_id"] != building_id], whole], ignore_index=True)
    return _finish(plan, shapes, assignments)


MAX_BRUSH_BUILDINGS = 500  # one brush stroke moves at most this many buildings


def move_buildings(plan: Plan, building_ids: Iterable[str], to_grid: str) -> Edit:
    """Move several whole buildings to to_grid in one edit (a brush stroke), each with its tessellation cell as
    ``move_building`` moves one.

    The buildings may come from several grids; each such grid must border to_grid, or border it once the cells
    of the other grids have joined it (a stroke reaching across a grid into the next one). A building already
    in to_grid is left as it is; a tower split by units is refused (its units move with ``move_building``).
    EditError names the first building or grid that cannot move.
    """
    ids = list(dict.fromkeys(str(b) for b in building_ids))
    if not ids:
        raise EditError("the brush stroke names no building")
    if len(ids) > MAX_BRUSH_BUILDINGS:
        raise EditError(f"a brush stroke moves at most {MAX_BRUSH_BUILDINGS} buildings, not {len(ids)}")
    plan.geometry_of(to_grid)
    rows = plan.assignments[plan.assignments["building_id"].isin(ids)]
    missing = [b for b in ids if b not in set(rows["building_id"])]
    if missing:
        raise EditError(f"building {missing[0]!r} is not in this plan")
    nowhere = rows.groupby("building_id")["grid_code"].count()
    if (nowhere == 0).any():
        raise EditError(f"building {nowhere.index[nowhere == 0][0]!r} is in no grid: draw a grid around it "
                        "(replace_boundary)")
    split_towers = sorted(set(rows.loc[rows["units"] != "", "building_id"]))
    if split_towers:
        raise EditError(f"building {split_towers[0]!r} is a tower split by units: move its units with move_building "
                        "(units or from_grid), not with the brush")
    moving = rows[rows["grid_code"] != to_grid]
    if moving.empty:
        raise EditError(f"every building of the stroke is already in grid {to_grid!r}")
    by_source = {str(code): list(group["building_id"]) for code, group in moving.groupby("grid_code")}
    shapes = _with_cells(plan, by_source, to_grid)
    assignments = plan.assignments.copy()
    assignments.loc[assignments["building_id"].isin(moving["building_id"]), "grid_code"] = to_grid
    return _finish(plan, shapes, assignments)


def _with_cells(plan: Plan, by_source: dict[str, list[str]], to_grid: str) -> dict[str, BaseGeometry]:
    """The new shapes of the source grids and to_grid once each source grid has given to_grid the cells of its
    buildings (cut by one tessellation of that grid). A source grid gives only while it borders to_grid, which
    may be after another source has given; EditError for grids that never do."""
    shapes = {code: plan.geometry_of(code) for code in [*by_source, to_grid]}
    pending = sorted(by_source)
    while pending:
        target = _to_metric(plan, [shapes[to_grid]])
        ready = [code for code in pending
                 if _share_an_edge(target, _to_metric(plan, [shapes[code]]))[0]]
        if not ready:
            raise EditError(f"grid {pending[0]!r} does not border grid {to_grid!r}: a building moves only to a "
                            "neighbouring grid")
        for source in ready:
            cells = _cells(plan, source, by_source[source])
            shapes[source] = _polygonal(shapely.difference(shapes[source], cells))
            shapes[to_grid] = _polygonal(shapely.union(shapes[to_grid], cells))
        pending = [code for code in pending if code not in ready]
    return shapes


def _chosen_units(building_id: str, rows: pd.DataFrame, units: str | None, from_grid: str | None) -> pd.DataFrame:
    """The unit ranges of a split tower to move: those named, or those in from_grid; EditError when ambiguous."""
    held = ", ".join(f"{r.units} in {r.grid_code}" for r in rows.itertuples(index=False))
    chosen = rows
    if units is not None:
        chosen = chosen[chosen["units"] == units]
    if from_grid is not None:
        chosen = chosen[chosen["grid_code"] == from_grid]
    if chosen.empty:
        raise EditError(f"building {building_id!r} has no units {units or ''} in {from_grid or 'any grid'} "
                        f"(its units: {held})")
    if units is None and from_grid is None and chosen["grid_code"].nunique(dropna=False) > 1:
        raise EditError(f"building {building_id!r} is split by units ({held}): say which units to move "
                        "(units) or from which grid (from_grid)")
    return chosen


def _move_units(plan: Plan, building_id: str, chosen: pd.DataFrame, to_grid: str) -> Edit:
    """Unit ranges of a tower to a grid neighbouring the grids they leave; shapes stay as they are."""
    sources = sorted(set(chosen["grid_code"].dropna()) - {to_grid})
    if not sources:
        raise EditError(f"units {', '.join(chosen['units'])} of building {building_id!r} are already in grid "
                        f"{to_grid!r}")
    for source in sources:
        if not _neighbours(plan, source, to_grid):
            raise EditError(f"grid {source!r} does not border grid {to_grid!r}: units move only to a neighbouring grid",
                            code="edit.not_neighbours", params={"grid": source, "other": to_grid})
    assignments = plan.assignments.copy()
    assignments.loc[chosen.index, "grid_code"] = to_grid
    return _finish(plan, {}, _collapse_whole(assignments))


def replace_boundary(plan: Plan, grid_code: str, polygon: BaseGeometry) -> Edit:
    """Make the drawn polygon (clipped to the community) the grid's new shape.

    Drawn vertices within SNAP_DEG of an existing boundary snap to it, so a polygon traced over
    boundaries read as rounded GeoJSON leaves no slivers. The area it takes is removed from the
    neighbours (a neighbour left with none is removed; crumbs
    of a neighbour smaller than TILING_TOLERANCE_M2 go to the grid rather than leave the neighbour
    in pieces); the area it gives up goes to the neighbours, each taking the part nearest the boundary it
    shared with the grid (``_share_out``), so a shared boundary moves for both grids and no ground is left
    in no grid. Buildings whose point lies in the new shape join the grid; those of the grid whose point
    lies in the area it gave up join the neighbour that took it.
    """
    old = plan.geometry_of(grid_code)
    inside = _inside_community(plan, _snapped(plan, _valid_area(polygon, "the drawn polygon")))
    shapes: dict[str, BaseGeometry] = {}
    others = plan.grids[(plan.grids["grid_code"] != grid_code) & plan.grids.intersects(inside)]
    for code, geom in zip(others["grid_code"], others.geometry, strict=True):
        if shapely.area(shapely.intersection(geom, inside)) <= MIN_PART_DEG2:
            continue
        parts = shapely.get_parts(_polygonal(shapely.difference(geom, inside)))
        crumbs = shapely.area(_to_metric(plan, parts)) < TILING_TOLERANCE_M2 if len(parts) else []
        shapes[code] = _polygonal(shapely.MultiPolygon(list(parts[~crumbs]))) if len(parts) else shapely.Polygon()
        inside = _polygonal(shapely.union_all([inside, *parts[crumbs]])) if len(parts) else inside
    shapes[grid_code] = inside
    given = _polygonal(shapely.difference(old, inside))
    shares = _share_out(plan, grid_code, given, shapes) if _area_m2(plan, given) > TILING_TOLERANCE_M2 else {}
    for code, share in shares.items():
        joined = shapely.union(shapes.get(code, plan.geometry_of(code)), share)
        shapes[code] = _polygonal(shapely.make_valid(joined))  # float noise along a shared edge can leave a spike
    points = _points(plan)
    ids = plan.buildings["building_id"]
    joining = ids[shapely.covers(inside, points)]
    a = plan.assignments[~plan.assignments["building_id"].isin(joining)].copy()
    for code, share in shares.items():
        going = ids[shapely.covers(share, points)]
        a.loc[(a["grid_code"] == grid_code) & a["building_id"].isin(going), "grid_code"] = code
    released = ids[shapely.covers(given, points)]
    a.loc[(a["grid_code"] == grid_code) & a["building_id"].isin(released), "grid_code"] = None  # crumbs only
    assignments = pd.concat([a, _whole_rows(plan, joining, grid_code)], ignore_index=True)
    return _finish(plan, shapes, assignments)


def _share_out(plan: Plan, grid_code: str, given: BaseGeometry,
               shapes: dict[str, BaseGeometry]) -> dict[str, BaseGeometry]:
    """The area a grid gives up, split among the grids it bordered: each takes the part nearer to the boundary it
    shared with the grid than to any other's (a Voronoi diagram of points every SAMPLE_DEG along those
    boundaries, in lon/lat so the shares fit the grids' own vertices); EditError when the grid bordered none."""
    old = plan.geometry_of(grid_code)
    others = plan.grids[plan.grids["grid_code"] != grid_code]
    codes, points = [], []
    for code, geom in zip(others["grid_code"], others.geometry, strict=True):
        if shapes.get(code, geom).is_empty:
            continue
        shared = shapely.intersection(shapely.boundary(old), shapely.boundary(geom))
        if shapely.length(shared) <= SHARED_EDGE_DEG:
            continue
        found = shapely.points(shapely.get_coordinates(shapely.segmentize(shared, SAMPLE_DEG)))
        codes += [code] * len(found)
        points += list(found)
    if not points:
        area = round(_area_m2(plan, given))
        raise EditError(f"grid {grid_code!r} would give up {area:.0f} m² that no neighbouring grid "
                        "can take: draw the boundary so that the grid keeps that ground", code="edit.ground_left_over",
                        params={"grid": grid_code, "area_m2": area})
    if len(set(codes)) == 1:
        return {codes[0]: given}
    diagram = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=shapely.buffer(given, 0.01))
    cells = shapely.get_parts(diagram)
    cell, point = shapely.STRtree(np.array(points, dtype=object)).query(cells, predicate="intersects")
    owner = pd.Series(np.array(codes, dtype=object)[point]).groupby(cell).first()
    regions = pd.Series(list(cells[owner.index]), dtype=object).groupby(owner.to_numpy()).agg(
        lambda part: shapely.union_all(list(part)))
    shares = {str(code): _polygonal(shapely.intersection(given, region)) for code, region in regions.items()}
    return {code: share for code, share in shares.items() if not share.is_empty}


def _area_m2(plan: Plan, geom: BaseGeometry) -> float:
    return float(shapely.area(_to_metric(plan, [geom])[0])) if not geom.is_empty else 0.0


def merge(plan: Plan, a: str, b: str) -> Edit:
    """Join grid b to neighbouring grid a; the merged grid keeps a's code."""
    if a == b:
        raise EditError(f"cannot merge grid {a!r} with itself", code="edit.merge_itself", params={"grid": a})
    shape_a, shape_b = plan.geometry_of(a), plan.geometry_of(b)
    if not _neighbours(plan, a, b):
        raise EditError(f"grids {a!r} and {b!r} do not share a boundary: only neighbouring grids merge",
                        code="edit.not_neighbours", params={"grid": a, "other": b})
    assignments = plan.assignments.copy()
    assignments.loc[assignments["grid_code"] == b, "grid_code"] = a
    assignments = _collapse_whole(assignments)
    merged = _polygonal(shapely.union(shape_a, shape_b))
    return _finish(plan, {a: merged, b: shapely.Polygon()}, assignments)


def split(plan: Plan, grid_code: str, line: BaseGeometry) -> Edit:
    """Cut a grid in two along a drawn line that crosses it from edge to edge.

    The larger side keeps the code, the other side gets the next free code of the community;
    each building of the grid goes to the side holding its point.
    """
    if line.geom_type != "LineString" or line.is_empty or not line.is_valid:
        raise EditError("the split line must be a GeoJSON LineString with at least two distinct points",
                        code="edit.bad_line")
    pieces, rest = _cut(plan.geometry_of(grid_code), line, grid_code)
    metric = _to_metric(plan, pieces)
    big, small = (0, 1) if shapely.area(metric[0]) >= shapely.area(metric[1]) else (1, 0)
    keep = _polygonal(shapely.union_all([pieces[big], *rest]))
    new_code = next_code(plan)
    points = _points(plan)
    moving = plan.buildings["building_id"][shapely.covers(pieces[small], points)]
    assignments = plan.assignments.copy()
    goes = (assignments["grid_code"] == grid_code) & assignments["building_id"].isin(moving)
    assignments.loc[goes, "grid_code"] = new_code
    return _finish(plan, {grid_code: keep, new_code: pieces[small]}, _collapse_whole(assignments))


def next_code(plan: Plan) -> str:
    """A grid code not used in the plan: the community code and the next number."""
    codes = set(plan.grids["grid_code"])
    numbers = [int(m.group(1)) for c in codes if (m := re.search(r"-(\d+)$", str(c)))]
    n = max(numbers, default=0) + 1
    while f"{plan.community_code}-{n:02d}" in codes:
        n += 1
    return f"{plan.community_code}-{n:02d}"


# --- checking ----------------------------------------------------------------------------------


def check(plan: Plan, rules: Rules | None = None) -> list[Flag]:
    """Every rule the plan breaks: per-grid limits, contiguity and cut footprints; gaps,
    overlaps and spill-over against the community (m²); buildings in no grid."""
    if rules is not None:
        plan = replace(plan, rules=rules)
    per_grid = grid_flags(plan, plan.grids["grid_code"])
    found = [{"grid_code": code, **flag} for code, flags in per_grid.items() for flag in flags]
    return found + tiling_flags(plan) + unassigned_flags(plan)


HARD_RULES = frozenset({"gap", "overlap", "outside_community", "building_cut", "unassigned_buildings",
                        "several_parts"})  # a plan breaking one of these is not published


@dataclass(frozen=True)
class Readiness:
    """What stands between a plan and publishing it: hard rules (refused) and limits (need a reason)."""

    hard: list[Flag]
    limits: list[Flag]

    @property
    def needs_reason(self) -> bool:
        """A plan within every hard rule but outside a count limit is published only with a reason."""
        return not self.hard and bool(self.limits)


def readiness(plan: Plan) -> Readiness:
    """Every rule the plan breaks, split into hard rules (gaps, overlaps, area outside the community, cut
    footprints, buildings in no grid, grids in several parts) and limits (counts, with the engine's proofs)."""
    found = check(plan)
    return Readiness([f for f in found if f["rule"] in HARD_RULES], [f for f in found if f["rule"] not in HARD_RULES])


def keep_whole(before: Plan, edit: Edit) -> Edit:
    """The edit, unless it leaves more ground in no grid, in two grids or outside the community than the plan
    had (by more than TILING_TOLERANCE_M2): then EditError saying where and how much."""
    was = {flag["rule"]: flag["area_m2"] for flag in tiling_flags(before)}
    worse = [flag for flag in tiling_flags(edit.plan)
             if flag["area_m2"] > was.get(flag["rule"], 0.0) + TILING_TOLERANCE_M2]
    if worse:
        what = "; ".join(f"{flag['reason']} (near {flag['at'][0]:.6f}, {flag['at'][1]:.6f})" for flag in worse)
        flags = [{"rule": flag["rule"], "area_m2": round(float(flag["area_m2"]), 1),
                  "at": [float(flag["at"][0]), float(flag["at"][1])]} for flag in worse]
        raise EditError(f"the edit is refused: it would leave {what}", code="edit.not_whole", params={"flags": flags})
    return edit


def grid_flags(plan: Plan, codes: Iterable[str]) -> dict[str, list[Flag]]:
    """The rules each of these grids breaks, from its stored counts and its shape."""
    grids = plan.grids.set_index("grid_code").loc[list(codes)]
    cut = _cut_buildings(plan, grids)
    parts = shapely.get_num_geometries(grids.geometry.to_numpy())
    rows = zip(grids.index, grids["households"], grids["population"], parts, strict=True)
    return {str(code): constraints.grid_flags(int(h), int(p), int(n), plan.limits, cut=cut.get(str(code), ()))
            for code, h, p, n in rows}


def tiling_flags(plan: Plan) -> list[Flag]:
    """Gaps (community area in no grid), overlaps (area in two grids) and grid area outside the community."""
    grids = _to_metric(plan, plan.grids.geometry.to_numpy())
    community = _to_metric(plan, [plan.community])[0]
    pieces = tiling_pieces(grids, community)
    found = []
    words = {"gap": "of the community lie in no grid", "overlap": "lie in more than one grid",
             "outside_community": "of grids lie outside the community"}
    for rule, piece in pieces.items():
        area = float(shapely.area(piece))
        if area > TILING_TOLERANCE_M2:
            found.append({"rule": rule, "area_m2": round(area, 1), "at": _where(plan, piece),
                          "geometry": _wgs84_mapping(plan, piece), "reason": f"{area:.1f} m² {words[rule]}"})
    return found


def unassigned_flags(plan: Plan) -> list[Flag]:
    """The community's buildings that no grid holds."""
    held = plan.assignments.loc[plan.assignments["grid_code"].notna(), "building_id"]
    lost = sorted(set(plan.buildings["building_id"]) - set(held))
    if not lost:
        return []
    return [{"rule": "unassigned_buildings", "building_ids": lost,
             "reason": f"{len(lost)} buildings are in no grid: {', '.join(lost[:5])}"}]


# --- shapes ------------------------------------------------------------------------------------


def _neighbours(plan: Plan, a: str, b: str) -> bool:
    first, second = _to_metric(plan, [plan.geometry_of(a), plan.geometry_of(b)])
    return bool(_share_an_edge(np.array([first]), np.array([second]))[0])


def _share_an_edge(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Pairwise: do the metric polygons share more than SHARED_EDGE_M of boundary (a corner is not enough)?"""
    shared = shapely.intersection(shapely.boundary(first), shapely.boundary(second))
    return shapely.length(shared) > SHARED_EDGE_M


def neighbours(codes: Iterable[str], geoms: Iterable[BaseGeometry]) -> dict[str, list[str]]:
    """For grids in WGS-84, the codes of the grids each one may merge with or pass a building to."""
    codes = list(codes)
    series = gpd.GeoSeries(list(geoms), crs=WGS84)
    metric = series.to_crs(metric_crs(series)).to_numpy() if len(series) else series.to_numpy()
    left, right = shapely.STRtree(metric).query(metric, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    edge = _share_an_edge(metric[left], metric[right])
    found: dict[str, list[str]] = {code: [] for code in codes}
    for i, j in zip(left[edge], right[edge]):
        found[codes[i]].append(codes[j])
        found[codes[j]].append(codes[i])
    return {code: sorted(near) for code, near in found.items()}


def _cells(plan: Plan, grid_code: str, building_ids: list[str]) -> BaseGeometry:
    """The part of the grid that goes with these buildings of it: their cells of one tessellation of the grid."""
    grid = plan.geometry_of(grid_code)
    ids = pd.unique(plan.assignments.loc[plan.assignments["grid_code"] == grid_code, "building_id"])
    if set(ids) <= set(building_ids):
        return grid
    crs = plan.crs
    footprints = plan.buildings.set_index("building_id").geometry.reindex(ids)
    area = polygonal(shapely.make_valid(_to_metric(plan, [grid])))[0]  # projecting can make a ring touch itself
    # only the polygonal part: a footprint that just touches the grid leaves a line or a point, which no cell can hold
    clipped = polygonal(shapely.intersection(_to_metric(plan, footprints.to_numpy()), area))
    keep = ~shapely.is_empty(clipped) & ~shapely.is_missing(clipped)
    chosen = np.isin(ids[keep], building_ids)
    if not chosen.any():
        return shapely.Polygon()
    atoms = gpd.GeoDataFrame({"building_id": ids[keep]}, geometry=clipped[keep], crs=crs)
    cells, _ = tessellate(atoms, gpd.GeoSeries(shapely.get_parts(area), crs=crs))
    cell = shapely.union_all(cells.iloc[np.flatnonzero(chosen)].to_numpy())
    back = gpd.GeoSeries([cell], crs=crs).to_crs(WGS84).iloc[0]
    return _polygonal(shapely.intersection(shapely.snap(back, grid, 1e-9), grid))


def _cut(grid: BaseGeometry, line: BaseGeometry, code: str) -> tuple[list[BaseGeometry], list[BaseGeometry]]:
    """The two pieces the line cuts one part of the grid into, and the grid's other parts; or EditError."""
    parts = list(shapely.get_parts(grid))
    cut = [list(shapely.get_parts(shapely.ops.split(part, line))) for part in parts]
    hit = [k for k, pieces in enumerate(cut) if len(pieces) > 1]
    if not hit:
        raise EditError(f"the line does not cut grid {code!r}: it must cross the grid from edge to edge",
                        code="edit.line_misses", params={"grid": code})
    if len(hit) > 1 or len(cut[hit[0]]) > 2:
        count = sum(len(cut[k]) for k in hit)
        raise EditError(f"the line cuts grid {code!r} into {count} pieces: draw a line that crosses it once",
                        code="edit.line_cuts_many", params={"grid": code, "count": count})
    return cut[hit[0]], [p for k, p in enumerate(parts) if k != hit[0]]


def _valid_area(geom: BaseGeometry, name: str) -> BaseGeometry:
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        raise EditError(f"{name} must be a GeoJSON Polygon or MultiPolygon, not {geom.geom_type}")
    if not geom.is_valid:
        raise EditError(f"{name} is not a valid polygon: {shapely.is_valid_reason(geom)}", code="edit.bad_polygon")
    return geom


def _snapped(plan: Plan, polygon: BaseGeometry) -> BaseGeometry:
    """The polygon with vertices near existing boundaries moved onto them (unchanged if that made it invalid)."""
    near = plan.grids.geometry.to_numpy()[plan.grids.intersects(shapely.buffer(polygon, 10 * SNAP_DEG)).to_numpy()]
    reference = shapely.union_all([*shapely.boundary(near), shapely.boundary(plan.community)])
    snapped = shapely.snap(polygon, reference, SNAP_DEG)
    return snapped if snapped.is_valid and not snapped.is_empty else polygon


def _inside_community(plan: Plan, polygon: BaseGeometry) -> BaseGeometry:
    """The polygon clipped to the community, or EditError if it reaches far outside.

    Clipped to the community together with the plan's grids, whose outer edge (computed in a
    metric CRS) may lie a millimetre off the community's own lon/lat edge: a polygon traced
    along that edge keeps it.
    """
    outside = float(shapely.area(_to_metric(plan, [shapely.difference(polygon, plan.community)])[0]))
    total = float(shapely.area(_to_metric(plan, [polygon])[0]))
    if outside > max(TILING_TOLERANCE_M2, OUTSIDE_SHARE * total):
        raise EditError(f"the drawn polygon reaches {outside:.0f} m² outside community {plan.community_code} "
                        f"(of {total:.0f} m²): draw it inside the community", code="edit.drawn_outside",
                        params={"area_m2": round(outside), "total_m2": round(total)})
    extent = shapely.union_all([plan.community, *plan.grids.geometry.to_numpy()])
    inside = _polygonal(shapely.intersection(polygon, extent))
    if inside.is_empty:
        raise EditError(f"the drawn polygon does not overlap community {plan.community_code}",
                        code="edit.drawn_elsewhere")
    return inside


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygon parts of an overlay result, without slivers; a Polygon or MultiPolygon."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    parts = [q for p in parts for q in shapely.get_parts(p) if shapely.area(q) > MIN_PART_DEG2]
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _where(plan: Plan, piece: BaseGeometry) -> list[float]:
    """A point (lon, lat) inside the largest part of a metric piece, to show on a map."""
    parts = shapely.get_parts(piece)
    biggest = parts[int(np.argmax(shapely.area(parts)))]
    point = gpd.GeoSeries([shapely.point_on_surface(biggest)], crs=plan.crs).to_crs(WGS84).iloc[0]
    return [round(point.x, 7), round(point.y, 7)]


def _wgs84_mapping(plan: Plan, piece: BaseGeometry) -> dict[str, Any]:
    """A metric piece as a GeoJSON geometry in WGS-84 (coordinates to 1e-7°, about a centimetre), to draw it."""
    back = gpd.GeoSeries([piece], crs=plan.crs).to_crs(WGS84).iloc[0]
    return shapely.geometry.mapping(shapely.set_precision(back, 1e-7))


def _to_metric(plan: Plan, geoms: Any) -> np.ndarray:
    return gpd.GeoSeries(list(geoms), crs=WGS84).to_crs(plan.crs).to_numpy()


def _points(plan: Plan) -> np.ndarray:
    return shapely.point_on_surface(plan.buildings.geometry.to_numpy())


# --- assignments and counts --------------------------------------------------------------------


def _whole_rows(plan: Plan, building_ids: pd.Series, grid_code: str) -> pd.DataFrame:
    """One row per building, all its units in grid_code, counted from its rows (or footprint record)."""
    ids = pd.unique(building_ids)
    rows = plan.assignments[plan.assignments["building_id"].isin(ids)]
    sums = rows.groupby("building_id")[["households", "population"]].sum()
    own = plan.buildings.set_index("building_id")[["households", "population"]]
    counts = sums.reindex(ids).fillna(own.reindex(ids)).fillna(0).astype(int)
    return pd.DataFrame({"building_id": ids, "units": "", "grid_code": grid_code,
                         "households": counts["households"].to_numpy(), "population": counts["population"].to_numpy()})


def _collapse_whole(assignments: pd.DataFrame) -> pd.DataFrame:
    """A tower whose unit ranges all lie in one grid again becomes one whole row."""
    split_rows = assignments[assignments["units"] != ""]
    grids_per = split_rows.groupby("building_id")["grid_code"].nunique(dropna=False)
    rejoined = grids_per.index[grids_per == 1]
    if rejoined.empty:
        return assignments
    rows = assignments[assignments["building_id"].isin(rejoined)]
    whole = rows.groupby("building_id", as_index=False).agg(
        grid_code=("grid_code", "first"), households=("households", "sum"), population=("population", "sum"))
    whole["units"] = ""
    rest = assignments[~assignments["building_id"].isin(rejoined)]
    return pd.concat([rest, whole[rest.columns]], ignore_index=True)


def _finish(plan: Plan, shapes: dict[str, BaseGeometry], assignments: pd.DataFrame) -> Edit:
    """The plan with new shapes for some grids (empty: removed), recounted and re-flagged."""
    assignments = assignments.sort_values(["building_id", "units"], kind="stable").reset_index(drop=True)
    removed = tuple(sorted(code for code, geom in shapes.items() if geom.is_empty))
    known = set(plan.grids["grid_code"])
    added = [_new_grid(code, geom) for code, geom in shapes.items() if code not in known and not geom.is_empty]
    grids = pd.concat([plan.grids[~plan.grids["grid_code"].isin(removed)], *added], ignore_index=True)
    geoms = grids.geometry.to_numpy().copy()
    for k, code in enumerate(grids["grid_code"]):
        geoms[k] = shapes.get(code, geoms[k])
    grids = gpd.GeoDataFrame(grids.drop(columns="geometry"), geometry=geoms, crs=WGS84)
    grids = grids.sort_values("grid_code").reset_index(drop=True)
    changed = set(_changed_grids(plan.assignments, assignments)) | set(shapes)
    touched = tuple(sorted(changed - set(removed)))
    return Edit(recount(replace(plan, grids=grids, assignments=assignments), touched), touched, removed)


def _new_grid(code: str, geom: BaseGeometry) -> gpd.GeoDataFrame:
    row = {"grid_code": code, "households": 0, "population": 0, "building_count": 0, "compactness": 0.0,
           "within_limits": False, "flags": "[]"}
    return gpd.GeoDataFrame(pd.DataFrame([row]), geometry=[geom], crs=WGS84)


def _changed_grids(before: pd.DataFrame, after: pd.DataFrame) -> list[str]:
    """Grids that gained or lost an assignment row."""
    key = ["building_id", "units", "grid_code", "households", "population"]
    both = before[key].merge(after[key], how="outer", indicator=True)
    return sorted(set(both.loc[both["_merge"] != "both", "grid_code"].dropna()))


def recount(plan: Plan, codes: Iterable[str]) -> Plan:
    """The plan with these grids' counts, compactness and flags computed again from their buildings and
    shapes, by the rules the engine's grids are flagged by (``constraints.grid_flags``)."""
    codes = list(codes)
    if not codes:
        return plan
    grids = plan.grids.copy()
    rows = grids["grid_code"].isin(codes)
    held = plan.assignments[plan.assignments["grid_code"].isin(codes)]
    sums = held.groupby("grid_code")[["households", "population"]].sum()
    count = held.groupby("grid_code")["building_id"].nunique()
    at = grids.loc[rows, "grid_code"]
    grids.loc[rows, "households"] = sums["households"].reindex(at).fillna(0).astype(int).to_numpy()
    grids.loc[rows, "population"] = sums["population"].reindex(at).fillna(0).astype(int).to_numpy()
    grids.loc[rows, "building_count"] = count.reindex(at).fillna(0).astype(int).to_numpy()
    metric = _to_metric(plan, grids.loc[rows].geometry.to_numpy())
    grids.loc[rows, "compactness"] = compactness(metric)
    plan = replace(plan, grids=grids)
    flags = grid_flags(plan, at)
    for column, values in constraints.flag_columns([flags[c] for c in at]).items():
        grids.loc[rows, column] = values
    return replace(plan, grids=grids)


def _cut_buildings(plan: Plan, grids: gpd.GeoDataFrame) -> dict[str, list[str]]:
    """For each of these grids, the whole buildings assigned to it whose footprint reaches out of it."""
    a = plan.assignments
    whole = a[(a["units"] == "") & a["grid_code"].isin(grids.index)]
    footprints = plan.buildings.set_index("building_id").geometry
    whole = whole[whole["building_id"].isin(footprints.index)]
    if whole.empty:
        return {}
    shapes = _to_metric(plan, footprints.loc[whole["building_id"]].to_numpy())
    homes = _to_metric(plan, grids.geometry.loc[whole["grid_code"]].to_numpy())
    cut = whole.loc[constraints.cut_footprints(shapes, homes)]
    return {str(code): sorted(ids) for code, ids in cut.groupby("grid_code")["building_id"]}

"""Partition one community (first-level grid) into second-level grids."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geogrid.geo.precision import SNAP_M, cell_positions
from geogrid.geo.roads import CUTTING, FOOTWAY, MAJOR, UNKNOWN
from geogrid.partition import constraints, exact
from geogrid.partition.atoms import adjacency, atom_keys, enclosures, polygonal, split_towers, tessellate, unit_ranges
from geogrid.partition.contiguity import join_detached, pieces_reason
from geogrid.partition.footprints import expand as expand_footprints
from geogrid.partition.footprints import resolve as resolve_footprints
from geogrid.partition.bisect import CellGraph, divide, label_of, refine, violation
from geogrid.partition.limits import Limits
from geogrid.partition.scores import boundary_by_class, compactness, inner_boundary, tiling_error
from geogrid.partition.rules import Rules

KEEP_RINGS = 3  # rings of kept grids that may be freed around an area that cannot be divided
CAP_ROOM = 0.97  # with no feasible window, grids are filled to this share of the caps
ACROSS_STREET = 0.2  # weight of a shared cell edge that runs along a street (minor, or of no known class)
ALONG_MAJOR = 0.5  # ... times this along a major street: boundaries prefer major streets to minor ones
SAME_COMPOUND = 4.0  # ... inside one compound (小区)
SNAP_DECIMALS = round(-np.log10(SNAP_M))  # decimals of metres at the snap precision


@dataclass
class CommunityTask:
    """One community and everything inside it, in a metric CRS."""

    code: str
    kind: str
    geometry: shapely.Geometry
    buildings: gpd.GeoDataFrame
    roads: np.ndarray | None = None
    villager_groups: gpd.GeoDataFrame | None = None
    previous_labels: dict[str, str] | None = None  # building id (id:unit for tower units) -> previous grid code
    previous_grids: gpd.GeoDataFrame | None = None
    road_classes: np.ndarray | None = None  # each road's class (geogrid.geo.roads), beside ``roads``


@dataclass
class CommunityResult:
    grids: gpd.GeoDataFrame
    assignments: pd.DataFrame
    stats: dict = field(default_factory=dict)
    repairs: list[dict] = field(default_factory=list)  # what was done to the input to divide it, per feature


@dataclass(eq=False)
class _Part:
    nodes: np.ndarray
    flags: list = field(default_factory=list)
    code: str | None = None  # kept from the previous plan
    unattainable: dict | None = None  # the proof that no partition of its area meets every limit
    area: int = -1  # the piece it was divided from, where that piece is a fact of the community (see _divide_free)


def partition_community(task: CommunityTask, rules: Rules) -> CommunityResult:
    rural = task.kind == "rural" and task.villager_groups is not None and len(task.villager_groups) > 0
    return _rural(task, rules) if rural else _urban(task, rules)


def _urban(task: CommunityTask, rules: Rules) -> CommunityResult:
    limits = Limits.of_kind(task.kind, rules)
    crs = task.buildings.crs
    footprints = resolve_footprints(task.buildings)
    atoms = split_towers(footprints.atoms, limits)
    blocks = enclosures(task.geometry, _streets_of(task, CUTTING, crs), crs)
    if len(atoms):
        cells, block_of = tessellate(atoms, blocks)
    else:
        cells, block_of = gpd.GeoSeries(blocks.to_numpy(), crs=crs), np.arange(len(blocks))
    n_cells, n_atoms = len(cells), len(atoms)
    pad = np.zeros(n_cells - n_atoms)
    graph = _graph(
        cells, np.concatenate([atoms["households"].to_numpy(float), pad]),
        np.concatenate([atoms["population"].to_numpy(float), pad]),
        group_keys={
            ACROSS_STREET: _differ(block_of),
            ALONG_MAJOR: _differ(_major_blocks(task, cells, crs)),
            SAME_COMPOUND: _same_nonempty(np.concatenate([atoms["compound"].fillna("").to_numpy(str), pad.astype(str)])),
        },
    )
    fixed = _oversized(atoms, limits)
    previous = None
    if task.previous_labels or task.previous_grids is not None:
        previous = _previous(task, atom_keys(atoms), atoms["building_id"].to_numpy(), task.previous_labels or {}, cells)
    parts = _make_whole(graph, _assign(graph, limits, fixed, previous), limits)
    label = _labels(parts, n_cells)
    grids = _grid_frame(task, parts, cells, graph, label, atoms, limits)
    assignments = _atom_assignments(atoms, label, grids["grid_code"].to_numpy(), task.code)
    assignments = expand_footprints(assignments, footprints.members, footprints.shapes, grids)
    grids = _flag_cut_buildings(grids, footprints.shapes, assignments)
    return CommunityResult(grids, assignments, _stats(task, grids, assignments), footprints.repairs)


def _rural(task: CommunityTask, rules: Rules) -> CommunityResult:
    limits = Limits.rural(rules)
    crs = task.buildings.crs
    groups = task.villager_groups.reset_index(drop=True)
    seeds = gpd.GeoDataFrame(
        {"building_id": groups["group_id"], "households": groups["households"].fillna(0).astype(int),
         "population": groups["population"], "compound": "", "units": None},
        geometry=shapely.intersection(groups.geometry.to_numpy(), task.geometry), crs=crs,
    )
    seeds = seeds[~seeds.geometry.is_empty].reset_index(drop=True)
    cells, _ = tessellate(seeds, gpd.GeoSeries([task.geometry], crs=crs))
    pad = np.zeros(len(cells) - len(seeds))
    graph = _graph(cells, np.concatenate([seeds["households"].to_numpy(float), pad]),
                   np.concatenate([seeds["population"].to_numpy(float), pad]), group_keys={})
    previous = None
    if task.previous_grids is not None:
        ids = seeds["building_id"].to_numpy()
        previous = _previous(task, ids, ids, _previous_group_labels(task), cells)
    parts = _make_whole(graph, _assign(graph, limits, {}, previous), limits)
    label = _labels(parts, len(cells))
    grids = _grid_frame(task, parts, cells, graph, label, seeds, limits, rural=True)
    codes = grids["grid_code"].to_numpy()
    tree = shapely.STRtree(cells.to_numpy())
    b = task.buildings
    where = tree.query_nearest(shapely.point_on_surface(b.geometry.to_numpy()), return_distance=False, all_matches=False)[1]
    assignments = pd.DataFrame({
        "building_id": b["building_id"].to_numpy(), "community_code": task.code, "grid_code": codes[label[where]],
        "households": b["households"].to_numpy(), "population": b["population"].to_numpy(), "units": "",
    })
    grids["building_count"] = assignments.groupby("grid_code").size().reindex(codes).fillna(0).astype(int).to_numpy()
    grids["villager_groups"] = [",".join(seeds["building_id"].to_numpy()[label[: len(seeds)] == g]) for g in range(len(parts))]
    grids = _flag_cut_buildings(grids, b, assignments)
    return CommunityResult(grids, assignments, _stats(task, grids, assignments))


def _make_whole(graph: CellGraph, parts: list[_Part], limits: Limits) -> list[_Part]:
    """The final check of contiguity: a grid's detached parts join the neighbouring grid they touch
    most, where that keeps the limits (see ``contiguity.join_detached``)."""
    for part, nodes in zip(parts, join_detached(graph, [p.nodes for p in parts], limits)):
        part.nodes = nodes
    return parts


def _graph(cells: gpd.GeoSeries, households, population, group_keys: dict) -> CellGraph:
    i, j, shared = adjacency(cells)
    weight = np.round(shared, SNAP_DECIMALS)  # lengths and areas at the snap precision: noise cannot tip a choice
    for factor, same in group_keys.items():
        weight *= np.where(same(i, j), factor, 1.0)
    area = np.round(cells.area.to_numpy(), SNAP_DECIMALS)
    return CellGraph(cell_positions(cells.to_numpy()), households, population, area, i, j, weight)


def _streets_of(task: CommunityTask, kinds: tuple[str, ...], crs) -> gpd.GeoSeries | None:
    """The community's roads of the given classes (None if there are none)."""
    if task.roads is None:
        return None
    chosen = task.roads if task.road_classes is None else task.roads[np.isin(task.road_classes, kinds)]
    return gpd.GeoSeries(chosen, crs=crs) if len(chosen) else None


def _major_blocks(task: CommunityTask, cells: gpd.GeoSeries, crs) -> np.ndarray:
    """The block of major streets holding each cell (all 0 without major streets): two touching cells
    in different such blocks are separated by a major street."""
    major = _streets_of(task, (MAJOR,), crs)
    if major is None:
        return np.zeros(len(cells), dtype=np.int64)
    blocks = enclosures(task.geometry, major, crs).to_numpy()
    # each cell lies in one block of all streets, so in one block of major streets: any inner point tells which
    inner = shapely.point_on_surface(cells.to_numpy())
    return shapely.STRtree(blocks).query_nearest(inner, return_distance=False, all_matches=False)[1]


def _differ(values: np.ndarray):
    return lambda i, j: values[i] != values[j]


def _same_nonempty(values: np.ndarray):
    return lambda i, j: (values[i] == values[j]) & (values[i] != "")


def _oversized(atoms: gpd.GeoDataFrame, limits: Limits) -> dict[int, list]:
    """Atoms that alone break an upper limit and cannot be split: each becomes its own grid."""
    over = np.flatnonzero(limits.breaks_max(atoms["households"].to_numpy(), atoms["population"].to_numpy()))
    return {
        int(a): [constraints.oversized_building(str(atoms["building_id"].iat[a]), int(atoms["households"].iat[a]),
                                                int(atoms["population"].iat[a]))]
        for a in over if int(atoms["unit_from"].iat[a]) == 0
    }


def _previous_group_labels(task: CommunityTask) -> dict[str, str]:
    """Villager group id -> its grid code in the previous plan, from the grids' villager_groups lists."""
    grids = task.previous_grids
    if grids is None or "villager_groups" not in grids:
        return {}
    return {group: code for code, groups in zip(grids["grid_code"].astype(str), grids["villager_groups"].fillna(""))
            for group in str(groups).split(",") if group}


@dataclass
class _Previous:
    """The previous plan, as seen by this run's cells."""

    labels: np.ndarray  # each cell's grid code in the previous plan ('' where it had none)
    left_outside: dict[str, tuple[int, int]]  # grids it left outside a limit -> their households and residents


def _previous(task: CommunityTask, keys: np.ndarray, ids: np.ndarray, known: dict[str, str],
              cells: gpd.GeoSeries) -> _Previous:
    """Each cell's grid code in the previous plan ('' where it had none), and the grids it left outside a limit.

    The first cells are the atoms (buildings, tower units or villager groups), labelled from
    ``known`` by their keys (``id:unit`` for a tower unit), else by their ids (a tower split by
    units now and not before); the rest, and atoms in neither, by the previous grid holding them.
    """
    labels = np.full(len(cells), "", dtype=object)
    labels[: len(keys)] = [known.get(key, known.get(i, "")) for key, i in zip(keys, ids)]
    if task.previous_grids is not None and len(task.previous_grids):
        unknown = np.flatnonzero(labels == "")
        points = shapely.point_on_surface(cells.to_numpy()[unknown])
        tree = shapely.STRtree(task.previous_grids.geometry.to_numpy())
        hit, grid = tree.query(points, predicate="within")
        labels[unknown[hit]] = task.previous_grids["grid_code"].to_numpy()[grid]
    return _Previous(labels, _left_outside(task.previous_grids))


def _left_outside(grids: gpd.GeoDataFrame | None) -> dict[str, tuple[int, int]]:
    """The previous plan's grids recorded as outside a limit (within_limits false), with their counts."""
    if grids is None or not {"households", "population", "within_limits"} <= set(grids.columns):
        return {}
    outside = grids[~grids["within_limits"].fillna(True).astype(bool)]
    counts = outside[["households", "population"]].apply(pd.to_numeric, errors="coerce").fillna(-1).astype(int)
    return dict(zip(outside["grid_code"].astype(str), zip(counts["households"], counts["population"])))


def _assign(graph: CellGraph, limits: Limits, fixed: dict[int, list], previous: _Previous | None) -> list[_Part]:
    """Fixed atoms, then grids kept from the previous plan, then new grids for the rest.

    Where keeping old grids leaves a grid outside a limit with nothing said of why, the community
    is also divided as with no previous plan. What that division finds of its pieces (no feasible
    window, a proof that no partition meets every limit) is carried to the kept plan's grids in
    them; if the kept plan still has more unexplained grids, the new division is taken instead,
    its grids keeping the old codes they hold most of.
    """
    parts = _assign_keeping(graph, limits, fixed, previous)
    if previous is None or not _unexplained(graph, parts, limits):
        return parts
    fresh = _assign_keeping(graph, limits, fixed, None)
    _carry_findings(fresh, parts)
    if len(_unexplained(graph, parts, limits)) <= len(_unexplained(graph, fresh, limits)):
        return parts
    _inherit_codes(graph, fresh, previous.labels)
    return fresh


def _unexplained(graph: CellGraph, parts: list[_Part], limits: Limits) -> list[_Part]:
    """Grids outside a limit with no flag or proof that says why."""
    return [p for p in parts if not p.flags and p.unattainable is None
            and not limits.within(graph.households[p.nodes].sum(), graph.population[p.nodes].sum())]


def _carry_findings(proven: list[_Part], parts: list[_Part]) -> None:
    """Give each part lying inside a piece of ``proven`` what was found of that piece as a whole:
    no feasible window, or the proof that it cannot be divided within the limits. Every grid is
    connected and fixed atoms are shared, so a grid lies inside one such piece."""
    for area in sorted({p.area for p in proven if p.area >= 0}):
        members = [p for p in proven if p.area == area]
        nodes = set(np.concatenate([p.nodes for p in members]).tolist())
        window = [f for f in members[0].flags if f["rule"] == "no_feasible_window"]
        proof = members[0].unattainable
        for part in parts:
            if nodes.issuperset(part.nodes.tolist()):
                part.flags += [f for f in window if f not in part.flags]
                part.unattainable = part.unattainable or proof


def _assign_keeping(graph: CellGraph, limits: Limits, fixed: dict[int, list],
                    previous: _Previous | None) -> list[_Part]:
    """Fixed atoms, then grids kept from the previous plan (if any), then new grids for the rest.

    Where the freed area cannot be divided within the limits, the kept grids around it are
    freed too, one ring at a time, so that only what must change changes.
    """
    fixed_parts = [_Part(np.array([a]), flags) for a, flags in sorted(fixed.items())]
    free = np.ones(graph.size, dtype=bool)
    free[list(fixed)] = False
    kept = [] if previous is None else _kept(graph, limits, previous, free)
    for _ in range(KEEP_RINGS + 1):
        still_free = free.copy()
        for part in kept:
            still_free[part.nodes] = False
        new = _divide_free(graph, limits, np.flatnonzero(still_free), len(fixed_parts) + len(kept) > 0, not kept)
        parts = fixed_parts + kept + new
        broken = [p for p in new if not p.flags and not limits.within(graph.households[p.nodes].sum(),
                                                                      graph.population[p.nodes].sum())]
        if not broken or not kept:
            break
        touching = _neighbour_parts(graph, parts, np.concatenate([p.nodes for p in broken]))
        kept_ids = {id(p) for p in kept}
        freed = {id(parts[g]) for g in touching if id(parts[g]) in kept_ids}
        if not freed:
            break
        kept = [p for p in kept if id(p) not in freed]
    if kept and broken:  # last resort: let boundary cells of kept grids move too
        for part, nodes in zip(parts, refine(graph, [p.nodes for p in parts], limits)):
            part.nodes = nodes
    if previous is not None:
        _inherit_codes(graph, parts, previous.labels)
    for piece in [p for p in parts if p.code is None and not p.flags and graph.households[p.nodes].sum() == 0
                  and graph.population[p.nodes].sum() == 0 and len(parts) > 1]:
        parts.remove(piece)
        _attach(graph, parts, piece.nodes)
    return [part for part in parts if len(part.nodes)]


def _inherit_codes(graph: CellGraph, parts: list[_Part], previous: np.ndarray) -> None:
    """A new grid takes the code of the old grid whose households it holds most of, if still free."""
    taken = {p.code for p in parts if p.code}
    offers = []
    for g, part in enumerate(parts):
        if part.code:
            continue
        codes, inverse = np.unique(previous[part.nodes].astype(str), return_inverse=True)
        weight = np.bincount(inverse, weights=graph.households[part.nodes] + 1e-6)
        offers.extend((-w, g, c) for c, w in zip(codes, weight) if c)
    for _, g, code in sorted(offers):
        if code not in taken and parts[g].code is None:
            parts[g].code = code
            taken.add(code)


def _kept(graph: CellGraph, limits: Limits, previous: _Previous, free: np.ndarray) -> list[_Part]:
    """Previous grids still in one piece that still meet every limit, or that the previous plan left
    outside a limit and that hold just what it recorded (whether that still cannot be helped is
    decided with the community's own division, see ``_assign``). A grid within the old limits that
    breaks new ones is not kept."""
    kept = []
    for code in sorted(set(previous.labels[free]) - {""}):
        nodes = np.flatnonzero(free & (previous.labels == code))
        h, p = graph.households[nodes].sum(), graph.population[nodes].sum()
        unchanged = previous.left_outside.get(code) == (round(h), round(p))
        if (limits.within(h, p) or unchanged) and graph.is_connected(nodes):
            kept.append(_Part(nodes, code=code))
    return kept


def _divide_free(graph: CellGraph, limits: Limits, rest: np.ndarray, has_others: bool, provable: bool) -> list[_Part]:
    """Grids for each connected piece of ``rest``; ``provable``: no kept grid bounds a piece, so what
    is found of a piece (no feasible window, a proof that it cannot be divided within the limits)
    holds whatever the plan, and is said; else it holds only beside the kept grids, and is not."""
    parts = []
    whole = graph.households.sum()
    for piece in graph.components(rest):
        h, p = graph.households[piece].sum(), graph.population[piece].sum()
        if h == 0 and p == 0 and (has_others or parts):
            parts.append(_Part(piece))  # attached to a neighbour afterwards
            continue
        k, feasible = limits.grid_count(h, p)
        flags = []
        target = limits
        if not feasible and (h < limits.min_households or p < limits.min_population):
            k = 1
            if h == whole:
                flags.append(constraints.community_too_small(int(h), int(p), limits))
            elif provable:
                flags.append(constraints.area_too_small(int(h), int(p), limits))
        elif not feasible:  # the floors cannot be met: keep the caps, with room for whole buildings
            if provable:
                flags.append(constraints.no_feasible_window(int(h), int(p), limits))
            target = limits.caps_only()
            k = target.grid_range(h / CAP_ROOM, p / CAP_ROOM)[0]
        division, proof = _best_division(graph, piece, k, target, feasible)
        unattainable, area = (proof, len(parts)) if provable else (None, -1)
        parts.extend(_Part(nodes, list(flags), unattainable=unattainable, area=area) for nodes in division)
    return parts


def _best_division(graph: CellGraph, piece: np.ndarray, k: int, limits: Limits,
                   feasible: bool) -> tuple[list[np.ndarray], dict | None]:
    """Divide into k grids. Where whole buildings leave some grid outside a limit (or a grid in two
    pieces), also try one grid more where only the caps bind (not ``feasible``), else the neighbouring
    feasible counts (large towers can fit one count and not another); where none fits, settle the piece
    exactly (``exact.settle``): adopt a partition within every limit if one is found, else keep the
    division with the fewest split grids, then the fewest grids outside a limit, then the least misfit, with the proof that nothing fits where there is one."""
    best = divide(graph, piece, k, limits)
    best_defects = _defects(graph, best, limits)
    if best_defects == (0, 0, 0.0):
        return best, None
    if not feasible:  # only the caps bind (no window fits): a grid more gives them room
        more = divide(graph, piece, k + 1, limits)
        return (more if _defects(graph, more, limits) < best_defects else best), None
    lo, hi = limits.grid_range(graph.households[piece].sum(), graph.population[piece].sum())
    tried = [(best_defects, 0, best)]
    for count in (c for c in (k + 1, k - 1) if lo <= c <= hi):
        division = divide(graph, piece, count, limits)
        defects = _defects(graph, division, limits)
        if defects == (0, 0, 0.0):
            return division, None
        tried.append((defects, len(tried), division))
    tried.sort(key=lambda t: t[:2])
    best, best_defects = tried[0][2], tried[0][0]
    verdict = exact.settle(graph, piece, limits, [division for _, _, division in tried])
    if verdict.parts is not None:
        return verdict.parts, None
    if verdict.closest is not None and _defects(graph, verdict.closest, limits) < best_defects:
        best = verdict.closest
    if verdict.proof is None:
        return best, None
    atoms = int(((graph.households[piece] > 0) | (graph.population[piece] > 0)).sum())
    return best, constraints.no_feasible_partition(verdict.proof, atoms, len(piece), limits)


def _defects(graph: CellGraph, division: list[np.ndarray], limits: Limits) -> tuple[int, int, float]:
    """Grids in more than one piece, grids outside a limit, and how far outside they are (all 0: none)."""
    split = sum(not graph.is_connected(d) for d in division)
    misfit = [violation(graph.households[d].sum(), graph.population[d].sum(), limits) for d in division]
    return split, sum(m > 0 for m in misfit), float(sum(misfit))


def _neighbour_parts(graph: CellGraph, parts: list[_Part], nodes: np.ndarray) -> set[int]:
    label = _labels(parts, graph.size)
    inside_i, inside_j = np.isin(graph.i, nodes), np.isin(graph.j, nodes)
    other = np.concatenate([graph.j[inside_i & ~inside_j], graph.i[inside_j & ~inside_i]])
    return set(label[other].tolist()) - {-1}


def _attach(graph: CellGraph, parts: list[_Part], piece: np.ndarray) -> None:
    """Give a piece with no households to the neighbouring part it shares most boundary with."""
    label = _labels(parts, graph.size)
    inside = np.isin(graph.i, piece) ^ np.isin(graph.j, piece)
    other = np.where(np.isin(graph.i[inside], piece), graph.j[inside], graph.i[inside])
    touching = label[other] >= 0
    if touching.any():
        shared = np.bincount(label[other][touching], weights=graph.weight[inside][touching], minlength=len(parts))
        target = int(np.argmax(shared))
    else:  # an island: the nearest part
        centre = graph.xy[piece].mean(axis=0)
        target = int(np.argmin([np.min(np.hypot(*(graph.xy[p.nodes] - centre).T)) for p in parts]))
    parts[target].nodes = np.sort(np.concatenate([parts[target].nodes, piece]))


def _labels(parts: list[_Part], n: int) -> np.ndarray:
    return label_of(n, [part.nodes for part in parts])


def _grid_frame(task, parts, cells, graph, label, atoms, limits, rural: bool = False) -> gpd.GeoDataFrame:
    cell_geoms = cells.to_numpy()
    geoms = polygonal(np.array([shapely.coverage_union_all(cell_geoms[p.nodes]) for p in parts], dtype=object))
    households = np.array([graph.households[p.nodes].sum() for p in parts]).astype(int)
    population = np.array([graph.population[p.nodes].sum() for p in parts]).astype(int)
    ids = atoms["building_id"].to_numpy()
    n_atoms = len(atoms)
    buildings = np.array([len(set(ids[p.nodes[p.nodes < n_atoms]])) for p in parts])
    codes = _grid_codes(task.code, parts, geoms)
    pieces = shapely.get_num_geometries(geoms)
    flags = [constraints.grid_flags(households[g], population[g], pieces[g], limits, found=part.flags,
                                    proof=part.unattainable,
                                    parts_reason=_pieces_reason(graph, part, ids, cell_geoms) if pieces[g] > 1 else "")
             for g, part in enumerate(parts)]
    return gpd.GeoDataFrame(
        {
            "grid_code": codes,
            "community_code": task.code,
            "kind": "rural" if rural or task.kind == "rural" else "urban",
            "households": households,
            "population": population,
            "building_count": buildings,
            "compactness": compactness(geoms),
            **constraints.flag_columns(flags),
        },
        geometry=geoms,
        crs=cells.crs,
    )


def _pieces_reason(graph, part: _Part, ids: np.ndarray, cell_geoms: np.ndarray) -> str:
    """Why a grid is in several parts: the buildings whose own cells are in pieces, and what separates them."""
    own = part.nodes[part.nodes < len(ids)]
    in_pieces = ids[own[shapely.get_num_geometries(cell_geoms[own]) > 1]]
    return pieces_reason(graph, part.nodes, in_pieces)


def _grid_codes(community_code: str, parts: list[_Part], geoms: np.ndarray) -> list[str]:
    """Kept grids keep their codes; new ones are numbered in reading order (north to south, west to east)."""
    kept = [p.code for p in parts if p.code]
    start = max([int(c.rsplit("-", 1)[1]) for c in kept if c.rsplit("-", 1)[-1].isdigit()], default=0)
    xy = cell_positions(geoms)  # centroids: a point on the surface can jump with noise, and the codes with it
    new = [g for g, p in enumerate(parts) if not p.code]
    order = sorted(new, key=lambda g: (-round(xy[g, 1] / 200), xy[g, 0], g))
    codes = [p.code for p in parts]
    for n, g in enumerate(order, start=start + 1):
        codes[g] = f"{community_code}-{n:02d}"
    return codes


def _atom_assignments(atoms: gpd.GeoDataFrame, label: np.ndarray, codes: np.ndarray, community: str) -> pd.DataFrame:
    frame = pd.DataFrame({
        "building_id": atoms["building_id"].to_numpy(),
        "grid_code": codes[label[: len(atoms)]],
        "households": atoms["households"].to_numpy(),
        "population": atoms["population"].to_numpy(),
        "unit": atoms["unit_from"].to_numpy(),
    })
    out = frame.groupby(["building_id", "grid_code"], sort=True)[["households", "population"]].sum().reset_index()
    split = frame[frame["unit"] > 0]
    ranges = split.groupby(["building_id", "grid_code"])["unit"].agg(unit_ranges).rename("units")
    out = out.join(ranges, on=["building_id", "grid_code"])
    out["units"] = out["units"].astype(object).fillna("")  # no split tower: the join leaves float NaN
    out.insert(1, "community_code", community)
    return out


def _flag_cut_buildings(grids: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, assignments: pd.DataFrame) -> gpd.GeoDataFrame:
    """Flag grids whose boundary cuts a footprint (the footprint is not inside its grid)."""
    whole = assignments[assignments["units"] == ""].merge(
        buildings[["building_id", "geometry"]], on="building_id", how="left")
    where = grids.set_index("grid_code").geometry.reindex(whole["grid_code"]).to_numpy()
    cut = whole.loc[constraints.cut_footprints(whole.geometry.to_numpy(), where), ["grid_code", "building_id"]]
    if cut.empty:
        return grids
    grids = grids.copy()
    for code, ids in cut.groupby("grid_code")["building_id"]:
        row = grids.index[grids["grid_code"] == code][0]
        flags = json.loads(grids.at[row, "flags"]) + [constraints.building_cut(sorted(ids))]
        grids.at[row, "flags"] = json.dumps(flags, ensure_ascii=False)
        grids.at[row, "within_limits"] = False
    return grids


def _stats(task: CommunityTask, grids: gpd.GeoDataFrame, assignments: pd.DataFrame) -> dict:
    geoms = grids.geometry.to_numpy()
    gaps, overlaps = tiling_error(geoms, task.geometry)
    inner = inner_boundary(geoms, task.geometry)
    inner_length = float(shapely.length(inner))
    classes = task.road_classes
    if classes is None and task.roads is not None:  # roads without classes: all streets
        classes = np.full(len(task.roads), UNKNOWN)
    by_class = boundary_by_class(inner, task.roads, classes, (*CUTTING, FOOTWAY))  # streets first
    return {
        "gap_m2": gaps,
        "overlap_m2": overlaps,
        "inner_boundary_m": inner_length,
        "inner_boundary_on_streets_m": sum(by_class[kind] for kind in CUTTING),  # footways are not streets
        "inner_boundary_by_street_class_m": by_class,
        **_compounds(task.buildings, assignments),
    }


def _compounds(buildings: gpd.GeoDataFrame, assignments: pd.DataFrame) -> dict:
    """How many compounds (小区) there are and how many lie wholly in one grid."""
    named = buildings.loc[buildings["compound"].fillna("") != "", ["building_id", "compound"]]
    spread = named.merge(assignments[["building_id", "grid_code"]], on="building_id").groupby("compound")[
        "grid_code"].nunique()
    return {"compounds": int(len(spread)), "compounds_whole": int((spread == 1).sum())}

"""Grids in one piece: detached pieces of cells join a neighbouring cell, the pieces of a multi-part
footprint's cell are bridged, detached parts of grids join a neighbouring grid."""

from __future__ import annotations

import numpy as np
import shapely

from geogrid.partition.bisect import CellGraph, violation
from geogrid.partition.limits import Limits

SHARED_M = 0.01  # pieces sharing less boundary than this do not touch
DUST_M2 = 0.01
# How far around a footprint in several parts its cell may reach to join its pieces (m), nearest first;
# past the last, the footprint's convex hull.
BRIDGE_REACH_M = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def whole_cells(cells: np.ndarray, block_of: np.ndarray, footprints: np.ndarray) -> np.ndarray:
    """Cells with every detached piece (one holding no part of the cell's footprint, or for a cell
    without a footprint every piece but the largest) given to the neighbouring cell it shares most
    boundary with, in the same block first. A piece touching no other cell stays where it is.
    A cell still in pieces (each holding a part of its footprint: a building drawn as several
    polygons) is then bridged (``bridge_cells``)."""
    multi = np.flatnonzero(shapely.get_num_geometries(cells) > 1)
    if len(multi) == 0:
        return cells
    cells = cells.copy()
    owner, pieces = [], []
    for c in multi:
        core, detached = _split_cell(cells[c], footprints[c] if c < len(footprints) else None)
        if len(detached):
            cells[c] = core
            owner.extend([c] * len(detached))
            pieces.extend(detached)
    cells = _give_pieces(cells, block_of, np.array(owner, dtype=np.int64), np.array(pieces, dtype=object))
    return bridge_cells(cells, block_of, footprints)


def bridge_cells(cells: np.ndarray, block_of: np.ndarray, footprints: np.ndarray) -> np.ndarray:
    """Cells of a footprint in several parts whose pieces lie apart (a part too thin to seed the
    tessellation sits in a neighbour's ground, or another cell runs between the parts): the pieces
    joined through the ground between them, taken from the neighbouring cells of the same block.
    The ground is sought ever further around the footprint (``BRIDGE_REACH_M``, then its convex
    hull) and only where it cuts no other footprint and leaves every neighbour it is taken from as
    whole as it was; a cell that cannot be bridged so (its parts across a street) stays in pieces."""
    split = np.flatnonzero(shapely.get_num_geometries(cells[: len(footprints)]) > 1)
    if len(split) == 0:
        return cells
    cells = cells.copy()
    # the tree holds the cells as they were: a cell bridged before may be missed as a neighbour where it grew,
    # so its ground is not offered, and what is offered is always the neighbours' ground as it is now
    tree = shapely.STRtree(cells)
    for c in split:
        _bridge(cells, tree, block_of, footprints, int(c))
    return cells


def _bridge(cells: np.ndarray, tree: shapely.STRtree, block_of: np.ndarray, footprints: np.ndarray, c: int) -> bool:
    """Join the pieces of cell ``c`` in place (see ``bridge_cells``); whether it was done."""
    own, footprint = cells[c], footprints[c]
    pieces = shapely.get_parts(own)
    zones = [shapely.buffer(footprint, reach, quad_segs=2) for reach in BRIDGE_REACH_M]
    for zone in zones + [shapely.convex_hull(footprint)]:
        near = tree.query(zone, predicate="intersects")
        near = near[(near != c) & (block_of[near] == block_of[c])]
        if len(near) == 0:
            continue
        room = shapely.difference(shapely.intersection(zone, shapely.union_all(cells[near])), own)
        walls = near[near < len(footprints)]
        if len(walls):
            room = shapely.difference(room, shapely.union_all(footprints[walls]))
        links = [part for part in _polygon_parts(room)
                 if (shapely.distance(part, pieces) < SHARED_M).sum() >= 2]  # each joins two pieces or more
        if not links:
            continue
        bridge = shapely.union_all(links)
        joined = _polygon_parts(shapely.union(own, bridge))
        if len(joined) != 1:
            continue
        carved = np.array([shapely.union_all(_polygon_parts(g)) if len(_polygon_parts(g)) else shapely.Polygon()
                           for g in shapely.difference(cells[near], bridge)], dtype=object)
        kept_whole = ~shapely.is_empty(carved) & (shapely.get_num_geometries(carved)
                                                  <= shapely.get_num_geometries(cells[near]))
        if not kept_whole.all():
            continue
        cells[near] = carved
        cells[c] = joined[0]
        return True
    return False


def _polygon_parts(geom: shapely.Geometry) -> np.ndarray:
    """The polygons of a geometry, without dust."""
    parts = shapely.get_parts(geom)
    return parts[(shapely.get_type_id(parts) == 3) & (shapely.area(parts) >= DUST_M2)]


def _split_cell(cell: shapely.Geometry, footprint: shapely.Geometry | None) -> tuple[shapely.Geometry, list]:
    """The cell's core (the pieces holding its footprint, else its largest piece) and the rest."""
    parts = shapely.get_parts(cell)
    if footprint is not None and not shapely.is_empty(footprint):
        holds = shapely.area(shapely.intersection(parts, footprint)) > DUST_M2
    else:
        holds = np.zeros(len(parts), dtype=bool)
    if not holds.any():
        holds[np.argmax(shapely.area(parts))] = True
    return shapely.union_all(parts[holds]), list(parts[~holds])


def _give_pieces(cells: np.ndarray, block_of: np.ndarray, owner: np.ndarray, pieces: np.ndarray) -> np.ndarray:
    """Give pieces away in rounds (a piece may touch only pieces given in an earlier round)."""
    while len(pieces):
        tree = shapely.STRtree(cells)
        p, c = tree.query(pieces, predicate="intersects")
        shared = shapely.length(shapely.intersection(shapely.boundary(pieces[p]), shapely.boundary(cells[c])))
        touch = shared > SHARED_M
        p, c, shared = p[touch], c[touch], shared[touch]
        if len(p) == 0:
            break
        same_block = block_of[c] == block_of[owner[p]]
        order = np.lexsort((c, -shared, ~same_block, p))  # per piece: same block, most shared, first cell
        p, c = p[order], c[order]
        first = np.r_[True, p[1:] != p[:-1]]
        for piece, cell in zip(p[first], c[first]):
            cells[cell] = shapely.union(cells[cell], pieces[piece])
        given = np.zeros(len(pieces), dtype=bool)
        given[p[first]] = True
        pieces, owner = pieces[~given], owner[~given]
    for piece, cell in zip(pieces, owner):  # touching nothing: it stays with its cell
        cells[cell] = shapely.union(cells[cell], piece)
    return cells


def join_detached(graph: CellGraph, parts: list[np.ndarray], limits: Limits) -> list[np.ndarray]:
    """Parts whose cells fall in several connected pieces: each piece but the main one (most
    households) joins the neighbouring part it shares most boundary with, when that leaves every
    part involved that met the limits still meeting them. Returns the new parts (same order)."""
    parts = [p.copy() for p in parts]
    label = np.full(graph.size, -1, dtype=np.int64)
    for g, nodes in enumerate(parts):
        label[nodes] = g
    for g in range(len(parts)):
        for piece in graph.components(parts[g])[1:]:
            target = _receiver(graph, label, parts, g, piece, limits)
            if target is None:
                continue
            parts[g] = np.setdiff1d(parts[g], piece)
            parts[target] = np.union1d(parts[target], piece)
            label[piece] = target
    return parts


def _receiver(graph: CellGraph, label: np.ndarray, parts: list[np.ndarray], g: int, piece: np.ndarray,
              limits: Limits) -> int | None:
    """The neighbouring part that takes ``piece`` from part ``g`` keeping the limits, most shared boundary first."""
    inside = np.zeros(graph.size, dtype=bool)
    inside[piece] = True
    across = inside[graph.i] ^ inside[graph.j]
    other = np.where(inside[graph.i[across]], graph.j[across], graph.i[across])
    owners = label[other]
    ok = (owners >= 0) & (owners != g)
    if not ok.any():
        return None
    shared = np.bincount(owners[ok], weights=graph.weight[across][ok], minlength=len(parts))
    h, p = graph.households[piece].sum(), graph.population[piece].sum()
    giver = _counts(graph, parts[g])
    for target in np.argsort(-shared, kind="stable"):
        if shared[target] <= 0:
            break
        receiver = _counts(graph, parts[target])
        if _keeps(limits, giver, (giver[0] - h, giver[1] - p)) and _keeps(limits, receiver,
                                                                           (receiver[0] + h, receiver[1] + p)):
            return int(target)
    return None


def _counts(graph: CellGraph, nodes: np.ndarray) -> tuple[float, float]:
    return float(graph.households[nodes].sum()), float(graph.population[nodes].sum())


def _keeps(limits: Limits, before: tuple[float, float], after: tuple[float, float]) -> bool:
    """A part within the limits stays within them; one outside them gets no further outside."""
    return violation(*after, limits) <= violation(*before, limits)


def pieces_reason(graph: CellGraph, nodes: np.ndarray, ids: np.ndarray) -> str:
    """Why a grid is still in several pieces: a detached part no neighbour could take, or a cell
    (of the buildings named) that is itself in pieces."""
    pieces = graph.components(nodes)
    if len(pieces) > 1:
        rest = np.concatenate(pieces[1:])
        households = f"{graph.households[rest].sum():.0f} households"
        if not _touches_others(graph, nodes, rest):
            return (f"{len(pieces) - 1} detached part(s) of {households} touch no other grid (the community "
                    f"itself is in separate parts)")
        return (f"{len(pieces) - 1} detached part(s) of {households} could not join a neighbouring grid "
                f"without taking a grid outside a limit (or further outside)")
    named = ", ".join(str(i) for i in ids[:5])
    return (f"a cell of the grid is itself in separate pieces (its footprint is, or a piece touches no other "
            f"cell){': ' + named if named else ''}")


def _touches_others(graph: CellGraph, nodes: np.ndarray, piece: np.ndarray) -> bool:
    """Whether any cell of ``piece`` shares boundary with a cell outside ``nodes``."""
    inside, mine = np.zeros(graph.size, dtype=bool), np.zeros(graph.size, dtype=bool)
    inside[nodes], mine[piece] = True, True
    return bool(((mine[graph.i] & ~inside[graph.j]) | (mine[graph.j] & ~inside[graph.i])).any())

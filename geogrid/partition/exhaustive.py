"""Exhaustive answers for small pieces: grids searched set by set, a partition or a proof that none exists.

Two searches share one machinery (connected sets of cells as bitmasks, remainders memoised) and a
deterministic limit on the sets looked at, past which they give no answer:

- ``settle_whole``: the grid holding the piece's first cell, then the rest divided the same way.
  Cheap where the limits leave few ways to fill the grids; ``exact`` runs it with a small limit
  before its integer programmes.
- ``settle_at_cut``: where one cell (often a block with no buildings between compounds) cuts a
  piece in two or more sides, every partition of the piece has exactly one grid through that cell
  and divides the rest of each side into whole grids of its own. So each side is settled on its
  own: which shares of it (households and residents) can go to the grid through the cell, the
  rest of the side dividing into connected grids within the limits. Then one share per side must
  add up, with the cell, to a grid within the limits. The integer programmes find these pieces
  hard: their contiguity model has no notion of the cut.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import math

import numpy as np

from geogrid.partition.bisect import CellGraph, local_edges
from geogrid.partition.limits import Limits

if TYPE_CHECKING:
    from geogrid.partition.exact import _Window

MAX_SIDE = 24  # cells on the largest side of the cut, at most
MAX_STEPS = 3_000_000  # sets the side-by-side search looks at, at most (the same answer on any machine; about 12 s here)

# A set of cells is an int whose bit c stands for cell c: unions, differences and hashing are cheap.
Cells = int


class _OutOfWork(Exception):
    """The work limit was reached before an answer."""


def _bits(cells: Cells) -> list[int]:
    """The cells of a set, in ascending order."""
    out = []
    while cells:
        low = cells & -cells
        out.append(low.bit_length() - 1)
        cells ^= low
    return out


@dataclass
class _Piece:
    households: list[int]
    population: list[int]
    neighbours: list[Cells]
    limits: Limits  # the integer window as Limits (no cap: inf), so that its checks serve here too
    max_steps: int = MAX_STEPS
    steps: int = 0
    divisions: dict = field(default_factory=dict)  # cells -> their grids, or None where none fits
    allowed: dict = field(default_factory=dict)  # (households, residents) -> counts_allow, asked by the thousand

    def count(self, cells: Cells) -> tuple[int, int]:
        """The households and residents of a set of cells."""
        households, population = self.households, self.population
        h = p = 0
        while cells:
            low = cells & -cells
            c = low.bit_length() - 1
            h += households[c]
            p += population[c]
            cells ^= low
        return h, p

    def under_caps(self, h: int, p: int) -> bool:
        return h <= self.limits.max_households and p <= self.limits.max_population

    def within(self, h: int, p: int) -> bool:
        return bool(self.limits.within(h, p))

    def counts_allow(self, h: int, p: int) -> bool:
        """Some number of grids within the limits could hold these counts of a set of cells (a necessary condition)."""
        known = self.allowed.get((h, p))
        if known is None:
            lo, hi = self.limits.grid_range(h, p)
            known = self.allowed[h, p] = lo <= hi
        return known

    def step(self) -> None:
        self.steps += 1
        if self.steps > self.max_steps:
            raise _OutOfWork


def settle_at_cut(graph: CellGraph, nodes: np.ndarray, window: "_Window",
                  max_steps: int = MAX_STEPS) -> tuple[str, list[np.ndarray] | None] | None:
    """("found", grids) or ("infeasible", None) for ``nodes``; None where no cell cuts the piece
    into sides small enough, or the work limit is reached."""
    cut, sides = _best_cut(graph, nodes)
    if cut is None or max(len(side) for side in sides) > MAX_SIDE:
        return None
    piece = _piece(graph, nodes, window, max_steps)
    try:
        shares = [_shares(piece, cut, sum(1 << c for c in side)) for side in sides]
        return _answer(nodes, _combine(piece, cut, shares))
    except _OutOfWork:
        return None


def settle_whole(graph: CellGraph, nodes: np.ndarray, window: "_Window",
                 max_steps: int) -> tuple[str, list[np.ndarray] | None] | None:
    """The same answers for any piece, searched grid by grid from its first cell (None: the work limit
    was reached). Cheap where the limits leave few ways to fill the grids."""
    piece = _piece(graph, nodes, window, max_steps)
    try:
        return _answer(nodes, _divide(piece, (1 << len(nodes)) - 1))
    except _OutOfWork:
        return None


def _piece(graph: CellGraph, nodes: np.ndarray, window: "_Window", max_steps: int) -> _Piece:
    a, b, _ = local_edges(graph, nodes)
    neighbours = [0] * len(nodes)
    for u, v in zip(a.tolist(), b.tolist()):
        neighbours[u] |= 1 << v
        neighbours[v] |= 1 << u
    limits = Limits(window.h_lo, math.inf if window.h_hi is None else window.h_hi,
                    window.p_lo, math.inf if window.p_hi is None else window.p_hi)
    return _Piece(np.rint(graph.households[nodes]).astype(int).tolist(),
                  np.rint(graph.population[nodes]).astype(int).tolist(), neighbours, limits, max_steps)


def _answer(nodes: np.ndarray, grids: list[Cells] | None) -> tuple[str, list[np.ndarray] | None]:
    if grids is None:
        return "infeasible", None
    return "found", [np.sort(nodes[np.array(_bits(g), dtype=np.int64)]) for g in grids]


def _best_cut(graph: CellGraph, nodes: np.ndarray) -> tuple[int | None, list[list[int]]]:
    """The cell whose removal cuts the piece with the smallest largest side (lowest index on ties), and the
    sides, as positions in ``nodes``."""
    local = np.full(graph.size, -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))
    best, best_sides = None, []
    for cell in range(len(nodes)):
        sides = graph.components(np.delete(nodes, cell))
        if len(sides) > 1 and (best is None or max(map(len, sides)) < max(map(len, best_sides))):
            best, best_sides = cell, [local[side].tolist() for side in sides]
    return best, best_sides


def _connected_sets(piece: _Piece, root: int, allowed: Cells) -> Iterator[tuple[Cells, int, int]]:
    """Every connected set of ``allowed`` cells holding ``root`` whose counts stay under the caps, with
    its households and residents, each once: extension by frontier (in ascending order), cells set
    aside as they are passed over, depth first."""
    households, population, neighbours = piece.households, piece.population, piece.neighbours
    h_cap, p_cap = piece.limits.max_households, piece.limits.max_population
    h0, p0 = households[root], population[root]
    if not (h0 <= h_cap and p0 <= p_cap):
        return
    first = _bits(neighbours[root] & allowed)
    # each entry: members, frontier (ascending cells) and the same as a set, cells passed over, counts
    stack = [(1 << root, first, sum(1 << c for c in first), 0, h0, p0)]
    while stack:
        members, frontier, in_frontier, excluded, h, p = stack.pop()
        piece.steps += 1  # piece.step(), inline: once per set
        if piece.steps > piece.max_steps:
            raise _OutOfWork
        yield members, h, p
        children = []
        passed = excluded
        ahead = in_frontier  # the frontier's cells after the current one
        for k, cell in enumerate(frontier):
            bit = 1 << cell
            ahead ^= bit
            h2, p2 = h + households[cell], p + population[cell]
            if h2 <= h_cap and p2 <= p_cap:
                more = neighbours[cell] & allowed & ~(members | bit) & ~passed & ~in_frontier
                children.append((members | bit, frontier[k + 1:] + _bits(more), ahead | more, passed, h2, p2))
            passed |= bit
        stack.extend(reversed(children))


def _components(piece: _Piece, cells: Cells) -> list[Cells]:
    """The connected parts of a set of cells, by lowest cell."""
    neighbours = piece.neighbours
    parts = []
    while cells:
        seen = reach = cells & -cells
        while reach:
            grown = 0
            while reach:
                low = reach & -reach
                grown |= neighbours[low.bit_length() - 1]
                reach ^= low
            reach = grown & cells & ~seen
            seen |= reach
        cells &= ~seen
        parts.append(seen)
    return parts


def _divide(piece: _Piece, cells: Cells) -> list[Cells] | None:
    """Connected grids within the limits that divide ``cells`` exactly, or None where none do."""
    if cells in piece.divisions:
        return piece.divisions[cells]
    grids: list[Cells] | None = []
    for part in _components(piece, cells):
        h, p = piece.count(part)
        found = _divide_connected(piece, part, h, p) if piece.counts_allow(h, p) else None
        if found is None:
            grids = None
            break
        grids.extend(found)
    piece.divisions[cells] = grids
    return grids


def _divide_connected(piece: _Piece, cells: Cells, h: int, p: int) -> list[Cells] | None:
    first = (cells & -cells).bit_length() - 1
    for grid, gh, gp in _connected_sets(piece, first, cells):
        left = cells & ~grid
        if not piece.within(gh, gp) or (left and not piece.counts_allow(h - gh, p - gp)):
            continue
        rest = _divide(piece, left)
        if rest is not None:
            return [grid, *rest]
    return None


def _shares(piece: _Piece, cut: int, side: Cells) -> dict[tuple[int, int], tuple[Cells, list[Cells]]]:
    """Counts of each part of the side that can join the grid through ``cut`` (the rest of the side
    dividing into grids within the limits) -> that part and those grids; the empty part included."""
    shares = {}
    hc, pc = piece.households[cut], piece.population[cut]
    hs, ps = piece.count(side)
    for through, h, p in _connected_sets(piece, cut, side | 1 << cut):
        counts = (h - hc, p - pc)
        part = through & ~(1 << cut)
        left = side & ~part
        if counts in shares or (left and not piece.counts_allow(hs - counts[0], ps - counts[1])):
            continue
        rest = _divide(piece, left)
        if rest is not None:
            shares[counts] = (part, rest)
    return shares


def _combine(piece: _Piece, cut: int, shares: list[dict]) -> list[Cells] | None:
    """One share per side that, with the cut cell, makes a grid within the limits: all the grids, or None."""
    states: dict[tuple[int, int], list] = {(piece.households[cut], piece.population[cut]): []}
    for side in shares:
        joined: dict[tuple[int, int], list] = {}
        for (h, p), chosen in states.items():
            for (hs, ps), pick in side.items():
                total = (h + hs, p + ps)
                if total not in joined and piece.under_caps(*total):
                    piece.step()
                    joined[total] = [*chosen, pick]
        states = joined
    for total in sorted(states):
        if piece.within(*total):
            chosen = states[total]
            through = 1 << cut
            for part, _ in chosen:
                through |= part
            return [through, *(g for _, grids in chosen for g in grids)]
    return None

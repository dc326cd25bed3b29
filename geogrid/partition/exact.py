"""Exact answers where the heuristic leaves a grid outside a limit: can any partition fit, and which.

Two integer programmes, solved by OR-Tools CP-SAT with one worker and a deterministic work
limit (so the answer does not depend on the machine's speed or load):

- packing, without geometry: can the atoms (buildings, tower units) be grouped so that every
  group meets every limit? If not, no partition of the community can fit, whatever its shape;
- contiguity, on the cells' adjacency graph: can the cells be grouped into connected grids that
  all fit? Each cell joins the group of a representative, the lowest-numbered cell of that group,
  and reaches it through a chain of parents inside the group with strictly falling depth. A cell
  may only be represented by a cell it can reach along a path whose counts stay within the caps.
  Cells no two of which fit in one grid (the anchors: large towers, mostly) are numbered first, so
  each represents its own grid; this breaks the symmetry between grids (the programmes took a fifth
  less time in all at 500,000 households, a quarter less at 1,000,000). The last resort searches in
  the cells' own order instead, which proves some counts that the anchored order does not.

First the exhaustive searches of ``exhaustive`` look at a few thousand sets: that settles most
small pieces and those with few ways to fill their grids, at a fraction of the programmes' cost.
Then the contiguity programme is asked over all possible grid counts, the limits as hard
constraints and then as penalties started from the heuristic's grids. Where that decides nothing,
each grid of the heuristic's divisions outside a limit is freed with up to four connected grids around
it and that region alone is solved exactly, the rest fixed (a large-neighbourhood search, ``_mend``:
a grid of towers a few households short is often mended only by a cascade over several grids). Then
the programme is asked once per count k with each grid's window narrowed by what the other k - 1 grids hold
at least and at most (four grids of at most 1,000 residents for 3,967 residents: each holds at
least 967), which decides most of what is left. Where counts are still open and one cell cuts the
piece into small sides, the piece is settled exhaustively side by side (``exhaustive``); else
the counts still open are searched longer, once by default and once with quick restarts.

A found partition is then polished (fewest weighted boundary metres: along streets cheap,
through a compound dear) and kept only if every grid is connected and within every limit.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from ortools.sat.python import cp_model
from ortools.sat.python.cp_model_helper import SatParameters
from scipy.sparse.csgraph import dijkstra

from geogrid.partition.exhaustive import settle_at_cut, settle_whole
from geogrid.partition.bisect import CellGraph, label_of, local_edges, part_neighbours
from geogrid.partition.limits import Limits

# Work limits in CP-SAT's deterministic seconds (about one second of one core here).
PACKING_BUDGET = 1.0  # the packing programme
SEARCH_BUDGET = 0.1  # the contiguity programme, limits as hard constraints: most proofs take no search
REPAIR_BUDGET = 2.0  # the same with limits as penalties, started from the heuristic's grids
LAST_PROOF_BUDGET = 5.0  # last resort, shared by the counts still open: the hard programme searched longer
LAST_FIND_BUDGET = 2.0  # then searched with quick restarts, which finds partitions the default search misses
QUICK_STEPS = 20_000  # sets the exhaustive searches look at first, before the programmes (about 0.1 s)
SETTLE_WHOLE_CELLS = 40  # a piece this small that the first programmes leave open is searched exhaustively again,
SETTLE_WHOLE_STEPS = 500_000  # with this many sets (about 1-2 s where it decides; at 500,000 households it proved
# two pieces of 32 and 39 cells in 1.1 and 2.1 s that the programmes, the mending and the last resort took 8 and
# 12 s of CPU to prove)
POLISH_BUDGET = 0.25  # shortening the boundaries of a partition that fits
MEND_GRIDS = 5  # a grid outside a limit is re-solved with up to this many connected grids around it, itself included
MEND_BUDGET = 1.0  # the regions' programmes, shared by all hints of one piece
MEND_REGION_BUDGET = 0.25  # one region's programme at most
MEND_REGIONS = 300  # programmes built at most for one piece (building them costs more than most solves)
# CP-SAT's linear relaxation: its cuts prove packings impossible at once, but only slow the
# contiguity programme down (measured on the benchmark districts' broken communities).
PACKING_LINEARIZATION = 2
CONTIGUITY_LINEARIZATION = 0
MAX_OPTIONS = 8000  # (representative, cell) pairs at most; larger pieces are left to the heuristic
PACKING = "atom_packing"
CONTIGUITY = "contiguity"
PENALTY_HOUSEHOLD = 3  # weight of one household outside a window, against one resident


@dataclass
class Verdict:
    """What the programmes found for one piece: a partition within every limit, a proof that none exists, or neither."""

    status: str  # "found", "infeasible" or "unknown"
    parts: list[np.ndarray] | None = None
    proof: str | None = None  # PACKING or CONTIGUITY where status is "infeasible"
    closest: list[np.ndarray] | None = None  # otherwise: connected grids least outside the limits, if any


@dataclass
class _Window:
    """A grid's limits as whole numbers (None: no cap)."""

    h_lo: int
    h_hi: int | None
    p_lo: int
    p_hi: int | None


@dataclass
class _Model:
    """The contiguity programme and the variables needed to read or hint a solution."""

    model: cp_model.CpModel
    cells: np.ndarray  # the piece's nodes in the graph, local index -> node
    option: dict  # (representative, cell) -> BoolVar, local indices
    parent: dict  # (cell, parent) -> BoolVar
    depth: list
    neighbours: list[list[int]]
    edges: tuple[np.ndarray, np.ndarray, np.ndarray]
    slack: list = field(default_factory=list)


def settle(graph: CellGraph, nodes: np.ndarray, limits: Limits, hints: list[list[np.ndarray]]) -> Verdict:
    """Decide whether ``nodes`` can be divided into connected grids within ``limits``, and find such grids.

    ``hints`` are the heuristic's divisions, best first (at most one per grid count): each count's
    search starts from the division of that count, since where the solver starts decides much of
    what it finds within its work limit."""
    h, p = graph.households[nodes], graph.population[nodes]
    lo, hi = limits.grid_range(h.sum(), p.sum())
    window = _window(limits)
    if lo > hi or packing_feasible(h, p, window, (lo, hi)) is False:
        return Verdict("infeasible", proof=PACKING)
    windows = grid_windows(h, p, limits)
    found = _quick_search(graph, nodes, window)
    if found is None:
        found = _search(graph, nodes, window, windows, hints)
    if isinstance(found, Verdict):
        return found
    k = len(found)
    polished = _polish(graph, nodes, windows[k], k, found)
    for parts in (polished, found):
        if parts is not None and _fits(graph, parts, limits):
            return Verdict("found", parts)
    return Verdict("unknown")


def grid_windows(households: np.ndarray, population: np.ndarray, limits: Limits) -> dict[int, _Window]:
    """Each possible grid count k (at most one grid per cell) and each grid's window, narrowed for k."""
    lo, hi = limits.grid_range(households.sum(), population.sum())
    totals = int(np.rint(households).sum()), int(np.rint(population).sum())
    return {k: _narrowed(_window(limits), *totals, k) for k in range(lo, min(hi, len(households)) + 1)}


def _narrowed(window: _Window, households: int, population: int, k: int) -> _Window:
    """Each of k grids' window, given that the other k - 1 hold between their floors and their caps."""
    def narrowed(low: int, high: int | None, total: int) -> tuple[int, int | None]:
        cap = total - (k - 1) * low if high is None else min(high, total - (k - 1) * low)
        floor = low if high is None else max(low, total - (k - 1) * high)
        return floor, (cap if cap < total else None)

    return _Window(*narrowed(window.h_lo, window.h_hi, households), *narrowed(window.p_lo, window.p_hi, population))


def packing_feasible(households: np.ndarray, population: np.ndarray, window: "_Window",
                     counts: tuple[int, int]) -> bool | None:
    """Whether the atoms can be grouped into ``counts`` groups within the window (None: not decided)."""
    keep = (households > 0) | (population > 0)
    order = np.lexsort((-population[keep], -households[keep]))
    h = np.rint(households[keep][order]).astype(int)
    p = np.rint(population[keep][order]).astype(int)
    model = cp_model.CpModel()
    bins = min(counts[1], len(h))
    if bins < counts[0]:
        return False
    # atom i goes to a group numbered at most i: groups are numbered by their largest atom
    x = [[model.NewBoolVar("") for _ in range(min(i + 1, bins))] for i in range(len(h))]
    used = [model.NewBoolVar("") for _ in range(bins)]
    for row in x:
        model.AddExactlyOne(row)
    for k in range(bins):
        members = [(i, x[i][k]) for i in range(k, len(h))]
        for _, var in members:
            model.AddImplication(var, used[k])
        _bound(model, [(int(h[i]), var) for i, var in members], window.h_lo, window.h_hi, used[k])
        _bound(model, [(int(p[i]), var) for i, var in members], window.p_lo, window.p_hi, used[k])
        if k < counts[0]:
            model.Add(used[k] == 1)
        if k:
            model.AddImplication(used[k], used[k - 1])
    status, _ = _solve(model, PACKING_BUDGET, PACKING_LINEARIZATION)
    return _answer(status)


def _bound(model: cp_model.CpModel, terms: list, low: int, high: int | None, active) -> None:
    """low <= sum <= high, the floor only where the group is used."""
    total = sum(c * v for c, v in terms)
    if low > 0:
        model.Add(total >= low).OnlyEnforceIf(active)
    if high is not None:
        model.Add(total <= high)


def _answer(status: int) -> bool | None:
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return True
    return False if status == cp_model.INFEASIBLE else None


def _search(graph: CellGraph, nodes: np.ndarray, window: _Window, windows: dict[int, _Window],
            hints: list[list[np.ndarray]]) -> list[np.ndarray] | Verdict:
    """A partition within the limits, or the verdict where none was found.

    In turn, until one decides: a short search over all counts with the limits as hard
    constraints; the same with the limits as penalties, started from the best hint (an optimum
    above zero is a proof); a short search per count k with its narrowed window; each open count
    that has a hint of its count, with its narrowed window as penalties started from that hint
    (else the first open count from the best hint); the counts still open searched longer."""
    if not windows:  # more grids than cells
        return Verdict("infeasible", proof=CONTIGUITY)
    fewest, most = min(windows), max(windows)
    built = _build(graph, nodes, window, fewest, most)
    if built is None:
        return Verdict("unknown")
    status, solver = _solve(built.model, SEARCH_BUDGET)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _groups(built, solver)
    if status == cp_model.INFEASIBLE:
        return Verdict("infeasible", proof=CONTIGUITY)
    status, closest, misfit = _repair(graph, nodes, window, fewest, most, hints[0])
    if closest is not None and misfit < 0.5:
        return closest
    if status == cp_model.OPTIMAL:
        return Verdict("infeasible", proof=CONTIGUITY, closest=closest)
    if len(nodes) <= SETTLE_WHOLE_CELLS and (decided := settle_whole(graph, nodes, window, SETTLE_WHOLE_STEPS)):
        found = decided[1]  # a small piece the programmes could not decide: the exhaustive search often can
        return found if found is not None else Verdict("infeasible", proof=CONTIGUITY, closest=closest)
    if (mended := _mend(graph, window, hints)) is not None:
        return mended
    open_counts = []
    for k, narrowed in windows.items():
        built = _build(graph, nodes, narrowed, k, k)  # never too large: narrowed caps allow no more options
        status, solver = _solve(built.model, SEARCH_BUDGET)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return _groups(built, solver)
        if status != cp_model.INFEASIBLE:
            open_counts.append(k)
    if not open_counts:
        return Verdict("infeasible", proof=CONTIGUITY, closest=closest)
    by_count = {len(hint): hint for hint in reversed(hints) if len(hint) in open_counts}
    for k, hint in (sorted(by_count.items(), key=lambda kh: hints.index(kh[1])) or [(open_counts[0], hints[0])]):
        status, parts, misfit = _repair(graph, nodes, windows[k], k, k, hint)
        if parts is not None and misfit < 0.5:
            return parts
        if status == cp_model.OPTIMAL:
            open_counts.remove(k)
    if open_counts and (decided := settle_at_cut(graph, nodes, window)) is not None:
        found = decided[1]
        return found if found is not None else Verdict("infeasible", proof=CONTIGUITY, closest=closest)
    # in the cells' own order: it proves some counts the anchored order does not (and the reverse)
    programmes = [_build(graph, nodes, windows[k], k, k, anchored=False) for k in open_counts]
    return _last_resort(programmes, closest)


def _mend(graph: CellGraph, window: _Window, hints: list[list[np.ndarray]]) -> list[np.ndarray] | None:
    """A large-neighbourhood search from the heuristic's divisions, best first: each grid outside a limit
    (or in pieces) is freed with a few connected grids around it, and that region alone is solved exactly
    (any count of grids, the rest of the piece fixed), smallest regions first. Where towers leave a grid a
    few households short, the households it needs often come through a cascade over several grids (a
    neighbour takes a tower and gives houses on to the next), which no single move, chain or exchange
    finds and which the programme over the whole piece rarely reaches within its work limit.
    None where a hint's grid finds no region within the work limits."""
    work = _Work(MEND_BUDGET, MEND_REGIONS)
    for hint in hints:
        parts = _mend_one([part for part in hint if len(part)], graph, window, work)
        if parts is not None:
            return parts
        if work.spent():
            return None
    return None


@dataclass
class _Work:
    """What a search may still spend: deterministic seconds of the solver, and programmes to build."""

    budget: float
    programmes: int

    def spent(self) -> bool:
        return self.budget <= 0 or self.programmes <= 0


def _mend_one(parts: list[np.ndarray], graph: CellGraph, window: _Window, work: _Work) -> list[np.ndarray] | None:
    """Re-solve regions around the first misfit grid until none is left (each success removes at least one)."""
    while (misfits := [g for g, part in enumerate(parts) if not _fits_window(graph, part, window)]):
        for region in _regions(graph, parts, misfits[0]):
            if work.spent():
                return None
            solved = _solve_region(graph, np.sort(np.concatenate([parts[g] for g in region])), window, work)
            if solved is not None:
                parts = [part for g, part in enumerate(parts) if g not in region] + solved
                break
        else:
            return None
    return parts


def _regions(graph: CellGraph, parts: list[np.ndarray], g: int) -> list[tuple[int, ...]]:
    """The connected sets of up to MEND_GRIDS grids that hold grid ``g``, smallest first, then by grid numbers."""
    touching = part_neighbours(graph, label_of(graph.size, parts))
    layer, regions = {(g,)}, [(g,)]
    for _ in range(MEND_GRIDS - 1):
        layer = {tuple(sorted({*region, n})) for region in layer for q in region for n in touching.get(q, ())
                 if n not in region}
        regions.extend(sorted(layer))
    return regions


def _solve_region(graph: CellGraph, cells: np.ndarray, window: _Window, work: _Work) -> list[np.ndarray] | None:
    """Connected grids within the window that cover ``cells`` exactly (any count), if found within the work left."""
    h, p = graph.households[cells].sum(), graph.population[cells].sum()
    fewest = max(1, _ceil_ratio(h, window.h_hi), _ceil_ratio(p, window.p_hi))
    most = min(len(cells), _floor_ratio(h, window.h_lo), _floor_ratio(p, window.p_lo))
    if fewest > most:
        return None
    built = _build(graph, cells, window, fewest, most)
    if built is None:
        return None
    work.programmes -= 1
    # no presolve: on these small programmes it costs more than the search it saves
    status, solver = _solve(built.model, min(MEND_REGION_BUDGET, work.budget), presolve=False)
    work.budget -= solver.deterministic_time
    return _groups(built, solver) if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None


def _ceil_ratio(total: float, cap: int | None) -> int:
    return 0 if cap is None else math.ceil(round(total) / cap)


def _floor_ratio(total: float, floor: int) -> int:
    return 10**9 if floor <= 0 else math.floor(round(total) / floor)


def _fits_window(graph: CellGraph, part: np.ndarray, window: _Window) -> bool:
    """In one piece, with households and residents within the window."""
    h, p = round(graph.households[part].sum()), round(graph.population[part].sum())
    return (graph.is_connected(part) and window.h_lo <= h and (window.h_hi is None or h <= window.h_hi)
            and window.p_lo <= p and (window.p_hi is None or p <= window.p_hi))


def _quick_search(graph: CellGraph, nodes: np.ndarray, window: _Window) -> list[np.ndarray] | Verdict | None:
    """The exhaustive searches with a small work limit: many pieces are settled in a few thousand sets."""
    for search in (settle_at_cut, settle_whole):
        decided = search(graph, nodes, window, QUICK_STEPS)
        if decided is not None:
            return decided[1] if decided[1] is not None else Verdict("infeasible", proof=CONTIGUITY)
    return None


def _last_resort(programmes: list[_Model], closest: list[np.ndarray] | None) -> list[np.ndarray] | Verdict:
    """Each count still open (its programme), searched longer: by default (proofs mostly), then with quick
    restarts. The counts share one budget: at 500,000 households the proofs found here took under half of
    one count's share, while a piece with three counts open spent 23 s of CPU to decide nothing."""
    undecided = False
    share = len(programmes)
    for built in programmes:
        status, solver = _solve(built.model, LAST_PROOF_BUDGET / share)
        if status == cp_model.UNKNOWN:
            status, solver = _solve(built.model, LAST_FIND_BUDGET / share, quick_restarts=True)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return _groups(built, solver)
        undecided |= status != cp_model.INFEASIBLE
    return Verdict("unknown" if undecided else "infeasible", proof=None if undecided else CONTIGUITY,
                   closest=closest)


def _repair(graph: CellGraph, nodes: np.ndarray, window: _Window, fewest: int, most: int,
            hint: list[np.ndarray]) -> tuple[int, list[np.ndarray] | None, float]:
    """The limits as penalties, started from ``hint``: solver status, the grids least outside them and by how much."""
    soft = _build(graph, nodes, window, fewest, most, soft=True)
    _hint(soft, hint)
    soft.model.Minimize(sum(weight * var for var, weight in soft.slack))
    status, solver = _solve(soft.model, REPAIR_BUDGET)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return status, None, math.inf
    return status, _groups(soft, solver), solver.ObjectiveValue()


def _polish(graph: CellGraph, nodes: np.ndarray, window: _Window, k: int,
            parts: list[np.ndarray]) -> list[np.ndarray] | None:
    """The same limits and count with the shortest weighted boundary found from ``parts`` within the budget."""
    built = _build(graph, nodes, window, k, k)
    if built is None:
        return None
    _hint(built, parts)
    built.model.Maximize(_kept_edges(built))
    status, solver = _solve(built.model, POLISH_BUDGET)
    return _groups(built, solver) if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None


def _window(limits: Limits) -> _Window:
    def cap(value: float) -> int | None:
        return None if math.isinf(value) else math.floor(value)

    return _Window(math.ceil(limits.min_households), cap(limits.max_households),
                   math.ceil(limits.min_population), cap(limits.max_population))


def _solve(model: cp_model.CpModel, budget: float, linearization: int = CONTIGUITY_LINEARIZATION,
           quick_restarts: bool = False, presolve: bool = True) -> tuple[int, cp_model.CpSolver]:
    """One worker, a fixed seed and a deterministic work limit: the same answer on any machine.

    (Several workers interleaved on one thread are deterministic too, but OR-Tools 9.15 aborted the
    process in one of them, ``Check failed: heuristics.fixed_search != nullptr``.)"""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_deterministic_time = budget
    solver.parameters.linearization_level = linearization
    solver.parameters.cp_model_presolve = presolve
    if quick_restarts:
        solver.parameters.search_branching = SatParameters.PORTFOLIO_WITH_QUICK_RESTART_SEARCH
    return solver.Solve(model), solver


def _reach(n: int, a: np.ndarray, b: np.ndarray, weight: np.ndarray, cap: int | None) -> np.ndarray:
    """reach[r, i]: some path from r to i carries at most ``cap`` in all (both ends included)."""
    if cap is None:
        return np.ones((n, n), dtype=bool)
    head = np.concatenate([b, a])
    matrix = sp.csr_matrix((weight[head] + 1e-6, (np.concatenate([a, b]), head)), shape=(n, n))
    dist = dijkstra(matrix, directed=True, limit=cap + 0.5)
    return dist + weight[:, None] <= cap + 0.5


def _build(graph: CellGraph, nodes: np.ndarray, window: _Window, fewest: int, most: int,
           soft: bool = False, anchored: bool = True) -> _Model | None:
    """The contiguity programme for ``nodes`` in ``fewest`` to ``most`` grids (None where it would be too large).

    ``anchored``: cells no two of which fit in one grid come first, each representing its own grid."""
    anchors = _anchors(graph.households[nodes], graph.population[nodes], window) if anchored else []
    nodes = nodes[np.concatenate([np.array(anchors, dtype=np.int64), np.setdiff1d(np.arange(len(nodes)), anchors)])]
    n = len(nodes)
    a, b, w = local_edges(graph, nodes)
    h = np.rint(graph.households[nodes]).astype(int)
    p = np.rint(graph.population[nodes]).astype(int)
    allowed = _reach(n, a, b, h, window.h_hi) & _reach(n, a, b, p, window.p_hi) & np.triu(np.ones((n, n), bool))
    reps, cells = np.nonzero(allowed)
    if len(reps) > MAX_OPTIONS:
        return None
    model = cp_model.CpModel()
    option = {(int(r), int(i)): model.NewBoolVar("") for r, i in zip(reps, cells)}
    neighbours = [[] for _ in range(n)]
    for u, v in zip(a.tolist(), b.tolist()):
        neighbours[u].append(v)
        neighbours[v].append(u)
    built = _Model(model, nodes, option, {}, [model.NewIntVar(0, max(n - 1, 0), "") for _ in range(n)],
                   neighbours, (a, b, w))
    _assignment(built, n)
    for a in range(len(anchors)):
        model.Add(option[a, a] == 1)
    _group_limits(built, h, p, window, soft)
    model.AddLinearConstraint(sum(option[r, r] for r in range(n) if (r, r) in option), fewest, most)
    _parents(built, n)
    return built


def _anchors(households: np.ndarray, population: np.ndarray, window: _Window) -> list[int]:
    """Cells no two of which fit in one grid (a greedy clique, largest first): each is in a grid of its own,
    and numbered first it is that grid's representative, which breaks the symmetry between grids. A cell
    over a cap by itself is left out: it can be in no grid, and the programme is infeasible without it."""
    h_cap = math.inf if window.h_hi is None else window.h_hi
    p_cap = math.inf if window.p_hi is None else window.p_hi
    chosen: list[int] = []
    for c in np.lexsort((-population, -households)).tolist():
        if households[c] > h_cap or population[c] > p_cap:
            continue
        if all(households[c] + households[a] > h_cap or population[c] + population[a] > p_cap for a in chosen):
            chosen.append(c)
    return chosen


def _assignment(built: _Model, n: int) -> None:
    """Every cell in exactly one group; a group exists where its representative is in it."""
    by_cell: list[list] = [[] for _ in range(n)]
    for (r, i), var in built.option.items():
        by_cell[i].append(var)
        if r != i:
            built.model.AddImplication(var, built.option[r, r])
    for choices in by_cell:
        built.model.AddExactlyOne(choices)


def _group_limits(built: _Model, h: np.ndarray, p: np.ndarray, window: _Window, soft: bool) -> None:
    """Households and residents of each group within the window, or penalised outside it."""
    members: dict[int, list] = {}
    for (r, i), var in built.option.items():
        members.setdefault(r, []).append((i, var))
    for r, group in members.items():
        root = built.option.get((r, r))
        if root is None:
            continue
        for values, low, high, weight in ((h, window.h_lo, window.h_hi, PENALTY_HOUSEHOLD),
                                          (p, window.p_lo, window.p_hi, 1)):
            terms = [(int(values[i]), var) for i, var in group]
            if soft:
                _penalised(built, terms, low, high, root, weight)
            else:
                _bound(built.model, terms, low, high, root)


def _penalised(built: _Model, terms: list, low: int, high: int | None, root, weight: int) -> None:
    """Like ``_bound``, with a penalised slack for what falls short of the floor or passes the cap."""
    total = sum(c * v for c, v in terms)
    most = sum(c for c, _ in terms)
    if low > 0:
        short = built.model.NewIntVar(0, low, "")
        built.model.Add(total + short >= low).OnlyEnforceIf(root)
        built.slack.append((short, weight))
    if high is not None:
        over = built.model.NewIntVar(0, max(most, 0), "")
        built.model.Add(total - over <= high)
        built.slack.append((over, weight))


def _parents(built: _Model, n: int) -> None:
    """Each cell is a representative or has one parent in its group, one step closer to it."""
    reps_of: list[list[int]] = [[] for _ in range(n)]
    for r, i in built.option:
        if r != i:
            reps_of[i].append(r)
    model = built.model
    for i in range(n):
        choices = [built.option[i, i]] if (i, i) in built.option else []
        for j in built.neighbours[i]:
            if not any((r, j) in built.option for r in reps_of[i]):
                continue
            edge = model.NewBoolVar("")
            built.parent[i, j] = edge
            choices.append(edge)
            model.Add(built.depth[j] < built.depth[i]).OnlyEnforceIf(edge)
            for r in reps_of[i]:
                same = [built.option[r, j]] if (r, j) in built.option else []
                model.AddBoolOr([edge.Not(), built.option[r, i].Not(), *same])
        model.AddExactlyOne(choices)


def _kept_edges(built: _Model):
    """Weighted length of the cell edges inside grids (the more, the shorter the grids' boundaries)."""
    a, b, w = built.edges
    reps_of: dict[int, list[int]] = {}
    for r, i in built.option:
        reps_of.setdefault(i, []).append(r)
    terms = []
    for u, v, weight in zip(a.tolist(), b.tolist(), w.tolist()):
        inside = built.model.NewBoolVar("")
        for r in reps_of[u]:
            same = [built.option[r, v]] if (r, v) in built.option else []
            built.model.AddBoolOr([inside.Not(), built.option[r, u].Not(), *same])
        terms.append(max(1, round(weight)) * inside)
    return sum(terms)


def _hint(built: _Model, parts: list[np.ndarray]) -> None:
    """Start the search from ``parts``: representatives, parents and depths of a breadth-first forest."""
    local = np.full(int(built.cells.max()) + 1, -1)
    local[built.cells] = np.arange(len(built.cells))
    label = np.full(len(built.cells), -1)
    for g, part in enumerate(parts):
        label[local[part]] = g
    rep = {g: int(np.flatnonzero(label == g).min()) for g in range(len(parts)) if (label == g).any()}
    depth, parent = _forest(built.neighbours, label, rep)
    for (r, i), var in built.option.items():
        built.model.AddHint(var, int(rep.get(int(label[i])) == r))
    for (i, j), var in built.parent.items():
        built.model.AddHint(var, int(parent[i] == j))
    for i, var in enumerate(built.depth):
        built.model.AddHint(var, int(depth[i]))


def _forest(neighbours: list[list[int]], label: np.ndarray, rep: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    depth = np.zeros(len(label), dtype=int)
    parent = np.full(len(label), -1)
    seen = np.zeros(len(label), dtype=bool)
    for root in rep.values():
        seen[root] = True
        queue = deque([root])
        while queue:
            u = queue.popleft()
            for v in neighbours[u]:
                if not seen[v] and label[v] == label[u]:
                    seen[v], depth[v], parent[v] = True, depth[u] + 1, u
                    queue.append(v)
    return depth, parent


def _groups(built: _Model, solver: cp_model.CpSolver) -> list[np.ndarray]:
    rep = np.full(len(built.cells), -1)
    for (r, i), var in built.option.items():
        if solver.BooleanValue(var):
            rep[i] = r
    return [np.sort(built.cells[rep == r]) for r in np.unique(rep)]


def _fits(graph: CellGraph, parts: list[np.ndarray], limits: Limits) -> bool:
    """Every part non-empty, in one piece and within every limit."""
    return all(len(part) and graph.is_connected(part)
               and bool(limits.within(graph.households[part].sum(), graph.population[part].sum()))
               for part in parts)

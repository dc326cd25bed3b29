"""Divide a weighted cell graph into k contiguous parts that meet count limits.

Recursive bisection: each set is cut in two along one of several sweeps (four compass
directions and the graph's Fiedler vector), at the position that keeps both sides able to
hold their share of grids, cheapest in weighted boundary length (cuts along streets are
cheap, cuts through a compound dear) and nearest a proportional split. Then boundary
cells move between neighbouring parts, and a grid that still breaks a limit is redrawn
with its neighbours. What this leaves outside a limit, ``exact`` settles for the whole set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import laplacian
from scipy.sparse.linalg import eigsh

from geogrid.geo.precision import grid_positions
from geogrid.partition.limits import Limits

# compass sweeps: east, north, north-east, south-east, in integers so that projections of grid positions are exact
DIRECTIONS = np.array([[1, 0], [0, 1], [1, 1], [1, -1]], dtype=np.int64)
SCORE_DIGITS = 9  # split scores are compared at this many decimals, so that float noise cannot pick the cut
FIEDLER_STEPS = 1e6  # the Fiedler vector is read in this many steps of its largest entry
BALANCE_WEIGHT = 1.0
INFEASIBLE_PENALTY = 1000.0
CONNECTIVITY_TRIES = 12
REFINE_ROUNDS = 200


@dataclass
class CellGraph:
    """Cells of one community as a graph: positions, counts, areas and weighted edges."""

    xy: np.ndarray
    households: np.ndarray
    population: np.ndarray
    area: np.ndarray
    i: np.ndarray
    j: np.ndarray
    weight: np.ndarray

    @property
    def size(self) -> int:
        return len(self.households)

    def components(self, nodes: np.ndarray) -> list[np.ndarray]:
        """The connected pieces of a node set, largest households first, then by first node."""
        labels = _component_labels(self, nodes)
        pieces = [nodes[labels == c] for c in range(labels.max() + 1)] if len(nodes) else []
        return sorted(pieces, key=lambda p: (-self.households[p].sum(), p.min()))

    def is_connected(self, nodes: np.ndarray) -> bool:
        """Whether the node set is in one piece: every node reaches the lowest (no renumbering needed)."""
        return len(nodes) <= 1 or not _lowest_reached(self, nodes).any()


def local_edges(graph: CellGraph, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges with both ends in ``nodes``, renumbered to positions in ``nodes``."""
    local = np.full(graph.size, -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))
    a, b = local[graph.i], local[graph.j]
    keep = (a >= 0) & (b >= 0)
    return a[keep], b[keep], graph.weight[keep]


def _component_labels(graph: CellGraph, nodes: np.ndarray) -> np.ndarray:
    """Component of each node, numbered by lowest node (as scipy's connected_components numbers them)."""
    return np.unique(_lowest_reached(graph, nodes), return_inverse=True)[1]


def _lowest_reached(graph: CellGraph, nodes: np.ndarray) -> np.ndarray:
    """The lowest position in ``nodes`` that each node reaches inside them.

    Minimum-label propagation with pointer jumping: on the small node sets the heuristic checks by
    the thousand it is about four times faster than building a sparse matrix for scipy."""
    a, b, _ = local_edges(graph, nodes)
    labels = np.arange(len(nodes))
    while True:
        low = np.minimum(labels[a], labels[b])
        lowered = labels.copy()
        np.minimum.at(lowered, a, low)
        np.minimum.at(lowered, b, low)
        lowered = lowered[lowered]
        if np.array_equal(lowered, labels):
            return labels
        labels = lowered


def divide(graph: CellGraph, nodes: np.ndarray, k: int, limits: Limits) -> list[np.ndarray]:
    """Split ``nodes`` into ``k`` parts meeting ``limits`` where the counts allow."""
    parts = refine(graph, _bisect(graph, nodes, k, limits), limits)
    return recombine(graph, parts, limits)


def recombine(graph: CellGraph, parts: list[np.ndarray], limits: Limits, rounds: int = 4) -> list[np.ndarray]:
    """Redraw a grid that breaks a limit together with its neighbours (GerryChain's ReCom move).

    The union of the grid and one neighbour (then of the grid and all its neighbours) is cut
    again into as many grids; the new grids replace the old where the total violation drops.
    A union cut once is not cut again: the rounds meet the same unions over and over (a third of
    the redraws at 500,000 households).
    """
    parts = list(parts)
    drawn: dict[tuple[bytes, int], list[np.ndarray]] = {}
    for _ in range(rounds):
        changed = False
        for g in range(len(parts)):
            if violation(graph.households[parts[g]].sum(), graph.population[parts[g]].sum(), limits) <= 0:
                continue
            neighbours = sorted(part_neighbours(graph, label_of(graph.size, parts)).get(g, ()))
            for group in [[g, n] for n in neighbours] + [[g, *neighbours]]:
                if len(group) > 1 and _redraw(graph, parts, group, limits, drawn):
                    changed = True
                    break
        if not changed:
            break
    return parts


def label_of(size: int, parts: list[np.ndarray]) -> np.ndarray:
    """The part of each of ``size`` nodes (-1 for none)."""
    label = np.full(size, -1, dtype=np.int64)
    for g, part in enumerate(parts):
        label[part] = g
    return label


def _redraw(graph: CellGraph, parts: list[np.ndarray], group: list[int], limits: Limits,
            drawn: dict[tuple[bytes, int], list[np.ndarray]]) -> bool:
    """Cut the union of the ``group``'s parts again into as many; adopt the cut where it lowers their violation.
    ``drawn``: the cuts already made of each union (its sorted nodes, and the count of parts)."""
    def total(pieces):
        return sum(violation(graph.households[p].sum(), graph.population[p].sum(), limits) for p in pieces)

    nodes = np.sort(np.concatenate([parts[g] for g in group]))
    key = (nodes.tobytes(), len(group))
    if key not in drawn:
        drawn[key] = refine(graph, _bisect(graph, nodes, len(group), limits), limits)
    new = drawn[key]
    if len(new) != len(group) or total(new) >= total([parts[g] for g in group]) - 1e-12:
        return False
    if not all(len(p) and graph.is_connected(p) for p in new):
        return False
    for g, piece in zip(group, new):
        parts[g] = piece
    return True


def _bisect(graph: CellGraph, nodes: np.ndarray, k: int, limits: Limits) -> list[np.ndarray]:
    if k <= 1 or len(nodes) <= 1:
        return [nodes]
    k1 = k // 2
    left, right = _best_split(graph, nodes, k1, k - k1, limits)
    return _bisect(graph, left, k1, limits) + _bisect(graph, right, k - k1, limits)


def _best_split(graph: CellGraph, nodes: np.ndarray, k1: int, k2: int, limits: Limits):
    a, b, w = local_edges(graph, nodes)
    candidates = []  # (score, order index, position)
    orders = _sweep_orders(graph.xy[nodes])
    fiedler = _fiedler_order(a, b, w, len(nodes))
    if fiedler is not None:
        orders.append(fiedler)
    for o, order in enumerate(orders):
        score = np.round(_split_scores(graph, nodes, order, a, b, w, k1, k2, limits), SCORE_DIGITS)
        best = np.argsort(score, kind="stable")[:CONNECTIVITY_TRIES]
        candidates.extend((score[t], o, t) for t in best)
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    first = None
    for _, o, t in candidates[: CONNECTIVITY_TRIES * 2]:
        left, right = nodes[orders[o][: t + 1]], nodes[orders[o][t + 1:]]
        if first is None:
            first = (left, right)
        if graph.is_connected(left) and graph.is_connected(right):
            return left, right
    return first


def _sweep_orders(xy: np.ndarray) -> list[np.ndarray]:
    """Nodes ordered along each compass direction by their positions on the grid of ``grid_positions``
    (exact integers), ties by node order: equal inputs in any CRS give the same orders."""
    projections = grid_positions(xy) @ DIRECTIONS.T
    return [np.argsort(projections[:, d], kind="stable") for d in range(len(DIRECTIONS))]


def _split_scores(graph, nodes, order, a, b, w, k1, k2, limits) -> np.ndarray:
    """Score of cutting after each position of ``order`` (lower is better)."""
    m = len(order)
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.arange(m)
    # an edge enters the cut at its first end's position and leaves it at its last's; bincount adds in
    # input order, as np.add.at did (all entries, then all exits), at a fraction of its cost
    ra, rb = rank[a], rank[b]
    diff = np.bincount(np.concatenate([np.minimum(ra, rb), np.maximum(ra, rb)]), weights=np.concatenate([w, -w]),
                       minlength=m + 1)
    cut = np.cumsum(diff)[: m - 1]
    h = np.cumsum(graph.households[nodes][order])
    p = np.cumsum(graph.population[nodes][order])
    H, P = h[-1], p[-1]
    h, p = h[:-1], p[:-1]
    k = k1 + k2
    share = k1 / k
    # how far the smaller side's average grid strays from the overall average, relatively
    deviation = np.maximum(np.abs(h / max(H, 1) - share), np.abs(p / max(P, 1) - share)) * k / min(k1, k2)
    slack = max(limits.slack(H / k, P / k), 0.02)
    misfit = _violation(h, p, k1, limits) + _violation(H - h, P - p, k2, limits)
    scale = np.sqrt(max(graph.area[nodes].sum(), 1.0))  # about the length of a straight cut
    return cut / scale + BALANCE_WEIGHT * (deviation / slack) ** 2 + INFEASIBLE_PENALTY * misfit


def _violation(h, p, k, limits: Limits):
    """How far sets with totals (h, p) are from fitting k grids (0 where they fit)."""
    return (
        _relative_short(h, limits.min_households * k)
        + _relative_over(h, limits.max_households * k)
        + _relative_short(p, limits.min_population * k)
        + _relative_over(p, limits.max_population * k)
    )


def _relative_short(value, floor):
    return np.maximum(floor - value, 0) / max(floor, 1)


def _relative_over(value, ceiling):
    if np.isinf(ceiling):
        return np.zeros_like(value, dtype=float)
    return np.maximum(value - ceiling, 0) / max(ceiling, 1)


def _fiedler_order(a, b, w, m: int) -> np.ndarray | None:
    """Order of nodes along the Fiedler vector of the weighted graph, if it can be found."""
    if m < 8 or len(a) == 0:
        return None
    matrix = sp.coo_matrix((np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(m, m))
    lap = laplacian(matrix.tocsc(), normed=True)
    v0 = np.linspace(1.0, 2.0, m)
    try:
        _, vectors = eigsh(lap, k=2, sigma=-1e-3, which="LM", v0=v0)
    except Exception:  # noqa: BLE001 - a sweep order is optional; the compass sweeps remain
        return None
    vector = vectors[:, 1]
    if vector[np.argmax(np.abs(vector))] < 0:  # fix the sign so the order is deterministic
        vector = -vector
    # in steps of the largest entry: noise cannot reorder near-equal entries
    steps = np.rint(vector / max(np.abs(vector).max(), 1e-300) * FIEDLER_STEPS)
    return np.argsort(steps, kind="stable")


def violation(h: float, p: float, limits: Limits) -> float:
    """How far one part is from meeting every limit (0 if it does): ``_violation`` in plain floats,
    since the heuristic asks it of single parts by the ten thousand."""
    h, p = float(h), float(p)

    def short(value: float, floor: float) -> float:
        return max(floor - value, 0.0) / max(floor, 1)

    def over(value: float, ceiling: float) -> float:
        return 0.0 if math.isinf(ceiling) else max(value - ceiling, 0.0) / max(ceiling, 1)

    return (short(h, limits.min_households) + over(h, limits.max_households)
            + short(p, limits.min_population) + over(p, limits.max_population))


def refine(graph: CellGraph, parts: list[np.ndarray], limits: Limits) -> list[np.ndarray]:
    """Move boundary cells between neighbouring parts while that lowers the total violation."""
    label = label_of(graph.size, parts)
    in_set = label >= 0
    h = np.bincount(label[in_set], weights=graph.households[in_set], minlength=len(parts))
    p = np.bincount(label[in_set], weights=graph.population[in_set], minlength=len(parts))
    # each edge in both directions, once for all the moves
    src, dst = np.concatenate([graph.i, graph.j]), np.concatenate([graph.j, graph.i])
    weight = np.concatenate([graph.weight, graph.weight])
    for _ in range(REFINE_ROUNDS):
        bad = [g for g in range(len(parts)) if violation(h[g], p[g], limits) > 0]
        if not bad:
            break
        if any(_improve(graph, label, h, p, g, limits, (src, dst, weight)) for g in bad):
            continue
        if not any(_chain(graph, label, h, p, g, limits) or _swap(graph, label, h, p, g, limits) for g in bad):
            break
    return [np.flatnonzero(label == g) for g in range(len(parts))]


def _swap(graph, label, h, p, g, limits) -> bool:
    """Exchange a boundary cell of part ``g`` for one of a neighbouring part, where that lowers the
    two parts' violation: with large buildings no single cell fits the gap (a grid of two towers
    four households short), but the difference between two often does."""
    a, b = graph.i, graph.j
    la, lb = label[a], label[b]
    touching = np.unique(np.concatenate([lb[(la == g) & (lb >= 0)], la[(lb == g) & (la >= 0)]]))
    candidates = []  # (gain, cell of g, cell of the neighbour, neighbour)
    for r in touching[touching != g].tolist():
        mine = np.unique(np.concatenate([a[(la == g) & (lb == r)], b[(lb == g) & (la == r)]]))
        theirs = np.unique(np.concatenate([a[(la == r) & (lb == g)], b[(lb == r) & (la == g)]]))
        dh = graph.households[theirs][None, :] - graph.households[mine][:, None]  # what g gains
        dp = graph.population[theirs][None, :] - graph.population[mine][:, None]
        before = violation(h[g], p[g], limits) + violation(h[r], p[r], limits)
        after = _violation(h[g] + dh, p[g] + dp, 1, limits) + _violation(h[r] - dh, p[r] - dp, 1, limits)
        x, y = np.nonzero(after < before - 1e-12)
        candidates.extend(zip(np.round(after[x, y] - before, 9).tolist(), mine[x].tolist(), theirs[y].tolist(),
                              [r] * len(x)))
    for _, c, d, r in sorted(candidates)[: CONNECTIVITY_TRIES * 4]:
        label[c], label[d] = r, g
        if graph.is_connected(np.flatnonzero(label == g)) and graph.is_connected(np.flatnonzero(label == r)):
            dh, dp = graph.households[d] - graph.households[c], graph.population[d] - graph.population[c]
            h[g] += dh; p[g] += dp; h[r] -= dh; p[r] -= dp
            return True
        label[c], label[d] = g, r
    return False


def _chain(graph, label, h, p, g, limits, depth: int = 6) -> bool:
    """Pass one cell along a path of neighbouring parts, from a part with too much to one with room.

    For a part over its limits the path starts at ``g``; for one under them it ends there.
    Each hop moves the boundary cell whose counts best match what the part received, so
    the parts in between keep their totals. Kept only if the total violation drops.
    """
    over = violation(h[g] - 1e-9, p[g], limits) > 0 and (h[g] > limits.max_households or p[g] > limits.max_population)
    neighbours = part_neighbours(graph, label)
    paths, seen = [[g]], {g}
    for _ in range(depth):
        grown = []
        for path in paths:
            for nxt in sorted(neighbours.get(path[-1], ())):
                if nxt not in seen:
                    seen.add(nxt)
                    grown.append(path + [nxt])
        for path in grown:
            hops = path if over else path[::-1]
            if _try_hops(graph, label, h, p, hops, limits):
                return True
        paths = grown
    return False


def part_neighbours(graph: CellGraph, label: np.ndarray) -> dict[int, set[int]]:
    """Each part's neighbouring parts (label: each cell's part, -1 for none)."""
    a, b = label[graph.i], label[graph.j]
    keep = (a >= 0) & (b >= 0) & (a != b)
    out: dict[int, set[int]] = {}
    for x, y in zip(a[keep].tolist(), b[keep].tolist()):
        out.setdefault(x, set()).add(y)
        out.setdefault(y, set()).add(x)
    return out


def _try_hops(graph, label, h, p, hops, limits) -> bool:
    before = sum(violation(h[q], p[q], limits) for q in hops)
    saved = label.copy(), h.copy(), p.copy()
    carried = None  # counts of the cell that arrived in the current part
    for frm, to in zip(hops[:-1], hops[1:]):
        cell = _hop_cell(graph, label, frm, to, carried, h, p, limits)
        if cell is None:
            break
        label[cell] = to
        dh, dp = graph.households[cell], graph.population[cell]
        h[frm] -= dh; p[frm] -= dp; h[to] += dh; p[to] += dp
        carried = (dh, dp)
    else:
        if sum(violation(h[q], p[q], limits) for q in hops) < before - 1e-12:
            return True
    label[:], h[:], p[:] = saved
    return False


def _hop_cell(graph, label, frm, to, carried, h, p, limits):
    """The cell of ``frm`` next to ``to`` to hand over, keeping ``frm`` in one piece."""
    a, b = graph.i, graph.j
    la, lb = label[a], label[b]
    edge = ((la == frm) & (lb == to)) | ((lb == frm) & (la == to))
    cells = np.unique(np.where(la[edge] == frm, a[edge], b[edge]))
    if len(cells) == 0:
        return None
    dh, dp = graph.households[cells], graph.population[cells]
    if carried is None:  # the first part: what fixes it best
        cost = _violation(h[frm] - dh, p[frm] - dp, 1, limits) * 1000 + np.abs(dh)
    else:  # a part in between: give about what it got
        cost = np.abs(dh - carried[0]) / max(limits.max_households, 1) + np.abs(dp - carried[1]) / max(limits.max_population, 1)
        cost = cost + _violation(h[frm] - dh, p[frm] - dp, 1, limits) * 1000
    own = np.flatnonzero(label == frm)
    for idx in np.argsort(cost, kind="stable")[:CONNECTIVITY_TRIES]:
        rest = own[own != cells[idx]]
        if len(rest) and graph.is_connected(rest):
            return cells[idx]
    return None


def _improve(graph, label, h, p, g, limits, edges) -> bool:
    """Make the best single move of a boundary cell into or out of part ``g`` (``edges``: sources,
    targets and weights, each edge both ways)."""
    src, dst, weight = edges
    ls, ld = label[src], label[dst]
    across = (ls >= 0) & (ld >= 0) & (ls != ld) & ((ls == g) | (ld == g))
    cell, to = src[across], ld[across]  # move `cell` from its part into part `to`
    if len(cell) == 0:
        return False
    frm = label[cell]
    dh, dp = graph.households[cell], graph.population[cell]
    before = _violation(h[frm], p[frm], 1, limits) + _violation(h[to], p[to], 1, limits)
    after = _violation(h[frm] - dh, p[frm] - dp, 1, limits) + _violation(h[to] + dh, p[to] + dp, 1, limits)
    gain = before - after
    order = np.lexsort((cell, -weight[across], -gain))
    for idx in order[:CONNECTIVITY_TRIES * 4]:
        if gain[idx] <= 1e-12:
            return False
        c, f, t = cell[idx], frm[idx], to[idx]
        rest = np.flatnonzero(label == f)
        rest = rest[rest != c]
        if len(rest) == 0 or not graph.is_connected(rest):
            continue
        label[c] = t
        h[f] -= dh[idx]; p[f] -= dp[idx]; h[t] += dh[idx]; p[t] += dp[idx]
        return True
    return False

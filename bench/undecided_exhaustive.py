"""Do the communities the engine leaves undecided have any partition within every limit?

The engine's integer programmes stop at a deterministic work limit, and a piece they decide nothing
about is reported as not decided. This benchmark checks each such piece offline with Graphillion's
frontier-based search (``GraphSet.balanced_partitions``: every partition of a graph into k connected
parts whose weights lie within bounds, as a ZDD), per grid count, once with households and once with
residents as the weights. The two sets intersected are exactly the partitions of the piece's cells
within every limit. Its time and memory cannot be bounded in advance (minutes and tens of GiB on
some pieces), which is why the engine does not use it: each piece is checked in a child process
with a memory cap and a time limit, and "not decided" is a possible answer here too.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/undecided_exhaustive.py --households 500000 1000000
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import pickle
import platform
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geogrid.partition import exact, partition  # noqa: E402
from geogrid.partition.bisect import local_edges  # noqa: E402
from geogrid.sample.district import build  # noqa: E402

NO_CAP = 10**9  # Graphillion needs an upper bound for every weight
ENUMERATE_AT_MOST = 20_000_000  # partitions within the household limits few enough to check one by one
BATCH = 50_000


def undecided_pieces(households: int, workers: int) -> list[dict]:
    """Partition the synthetic district and keep what ``exact.settle`` could not decide."""
    layers = build(households=households, seed=0, incidents=0, cameras=0)
    settle, numbers = exact.settle, itertools.count()
    with tempfile.TemporaryDirectory() as folder:
        def recording(graph, nodes, limits, hints):
            verdict = settle(graph, nodes, limits, hints)
            if verdict.status == "unknown":
                with open(Path(folder) / f"{os.getpid()}-{next(numbers)}.pkl", "wb") as out:
                    pickle.dump(_piece(graph, nodes, limits), out)
            return verdict

        exact.settle = recording  # the pool's workers are forked after this, so they record too
        try:
            with ProcessPoolExecutor(workers) as pool:
                partition(layers["communities"], layers["buildings"], roads=layers["roads"],
                          villager_groups=layers["villager_groups"], executor=pool)
        finally:
            exact.settle = settle
        return [pickle.loads(path.read_bytes()) for path in sorted(Path(folder).glob("*.pkl"))]


def _piece(graph, nodes: np.ndarray, limits) -> dict:
    """The piece's cell graph and, per possible grid count, each grid's window (narrowed as the engine does)."""
    a, b, _ = local_edges(graph, nodes)
    windows = exact.grid_windows(graph.households[nodes], graph.population[nodes], limits)
    h = np.rint(graph.households[nodes]).astype(int)
    p = np.rint(graph.population[nodes]).astype(int)
    return {"cells": len(nodes), "households": h.tolist(), "population": p.tolist(),
            "edges": list(zip(a.tolist(), b.tolist())),
            "windows": {k: vars(window) for k, window in windows.items()}}


def count_partitions(piece: dict, answer) -> None:
    """Partitions within every limit, sent per grid count as each is counted (run in a child process:
    it may run out of memory). Where few partitions meet the household limits, their residents are
    checked one partition at a time; otherwise the two diagrams are intersected."""
    from graphillion import GraphSet

    GraphSet.set_universe([(u + 1, v + 1) for u, v in piece["edges"]])
    for k, window in piece["windows"].items():
        by_households = _balanced(GraphSet, piece["households"], window["h_lo"], window["h_hi"], k)
        if len(by_households) <= ENUMERATE_AT_MOST:
            count = _count_within(by_households, piece, window["p_lo"], window["p_hi"])
        else:
            count = len(by_households & _balanced(GraphSet, piece["population"], window["p_lo"], window["p_hi"], k))
        answer.send((k, count))


def _balanced(graph_set, values: list[int], low: int, high: int | None, k: int):
    weights = {i + 1: v for i, v in enumerate(values)}
    return graph_set.balanced_partitions(weight_list=weights, lower=low, upper=high or NO_CAP, num_comps=k)


def _count_within(partitions, piece: dict, low: int, high: int | None) -> int:
    """How many of ``partitions`` (edge sets whose components are the grids) keep every grid's residents within the window."""
    n, population = piece["cells"], np.asarray(piece["population"], dtype=float)
    within, batch = 0, []
    for edges in partitions:
        batch.append(edges)
        if len(batch) == BATCH:
            within += _batch_within(batch, n, population, low, high)
            batch = []
    return within + (_batch_within(batch, n, population, low, high) if batch else 0)


def _batch_within(batch: list, n: int, population: np.ndarray, low: int, high: int | None) -> int:
    """Components of many partitions at once: partition b's cell i is node b * n + i of one sparse graph."""
    rows = np.array([(b * n + u - 1, b * n + v - 1) for b, edges in enumerate(batch) for u, v in edges]).reshape(-1, 2)
    size = len(batch) * n
    matrix = sp.csr_matrix((np.ones(len(rows)), (rows[:, 0], rows[:, 1])), shape=(size, size))
    _, label = connected_components(matrix, directed=False)
    totals = np.bincount(label, weights=np.tile(population, len(batch)))
    owner = np.empty(len(totals), dtype=np.int64)
    owner[label] = np.repeat(np.arange(len(batch)), n)
    fits = (totals >= low) & (totals <= (NO_CAP if high is None else high))
    misfits = np.bincount(owner, weights=~fits, minlength=len(batch))
    return int((misfits == 0).sum())


def check(piece: dict, memory_gib: float, seconds: float) -> dict:
    """Count the piece's partitions within every limit under a memory cap and a time limit."""
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.Process(target=_capped, args=(piece, send, memory_gib))
    started = time.perf_counter()
    child.start()
    send.close()  # the child's end only: its death then ends the wait
    counts: dict[int, int] = {}
    try:
        while len(counts) < len(piece["windows"]):
            left = seconds - (time.perf_counter() - started)
            if not receive.poll(max(left, 0)):
                break
            k, count = receive.recv()
            counts[k] = count
    except EOFError:  # the child died: out of memory under the cap
        pass
    if child.is_alive():
        child.kill()
    child.join()
    row = {"cells": piece["cells"], "households": sum(piece["households"]), "grid_counts": list(piece["windows"]),
           "partitions": counts, "seconds": round(time.perf_counter() - started, 1)}
    if any(counts.values()):
        row["verdict"] = "partitions exist"
    elif len(counts) == len(piece["windows"]):
        row["verdict"] = "no partition"
    else:
        row["verdict"] = "not decided: " + ("time limit" if child.exitcode == -9 else "memory cap")
    return row


def _capped(piece: dict, answer, memory_gib: float) -> None:
    limit = int(memory_gib * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    count_partitions(piece, answer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, nargs="+", default=[500_000, 1_000_000])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--memory-gib", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=1200.0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/undecided_exhaustive.json"))
    args = parser.parse_args()
    rows = []
    for households in args.households:
        for piece in undecided_pieces(households, args.workers):
            row = {"district_households": households, **check(piece, args.memory_gib, args.seconds)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": platform.platform(), "cores": os.cpu_count(),
                                    "memory_gib": args.memory_gib, "seconds": args.seconds, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()

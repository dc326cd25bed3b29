"""Partition time against the size of a district, from 1,000 to 1,000,000 households.

Each size is a synthetic district from ``geogrid.sample.district.build`` (same generator as the
committed sample). Runs with one process and with a pool of all cores, and records the
wall time, the peak memory of the run, the share of grids within every limit (overall and
among communities where a partition within every limit is not ruled out) and how many
communities were proven unable to meet every limit, by kind of proof.

    .venv/bin/python bench/partition_scaling.py --households 1000 10000 100000 500000 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geogrid.partition import partition  # noqa: E402
from geogrid.sample.district import build  # noqa: E402


def run(layers: dict, workers: int) -> dict:
    started = time.perf_counter()
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            result = partition(layers["communities"], layers["buildings"], roads=layers["roads"],
                               villager_groups=layers["villager_groups"], executor=pool)
    else:
        result = partition(layers["communities"], layers["buildings"], roads=layers["roads"],
                           villager_groups=layers["villager_groups"])
    seconds = time.perf_counter() - started
    total = result.report["total"]
    return {"workers": workers, "seconds": round(seconds, 2), "grids": total["grid_count"],
            "within_limits_share": total["within_limits_share"],
            "within_limits_share_where_feasible": total["within_limits_share_where_feasible"],
            "grids_outside_limits_unproven": total["grids_outside_limits_unproven"],
            "grids_outside_limits_by_proof": total["grids_outside_limits_by_proof"],
            "grids_in_several_parts": total["grids_in_several_parts"],
            "communities_feasible_partition": total["communities_feasible_partition"],
            "communities_by_proof": total["communities_by_proof"], "flags": total["flags"],
            "mean_compactness": total["mean_compactness"],
            "boundary_on_streets_share": total["boundary_on_streets_share"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, nargs="+", default=[1000, 10_000, 100_000, 500_000, 1_000_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    parser.add_argument("--out", type=Path, default=Path("bench/results/partition_scaling.json"))
    args = parser.parse_args()
    rows = []
    for households in args.households:
        started = time.perf_counter()
        layers = build(households=households, seed=0, incidents=0, cameras=0)
        made = time.perf_counter() - started
        row = {"households": int(layers["buildings"]["households"].sum()), "buildings": len(layers["buildings"]),
               "communities": len(layers["communities"]), "generate_seconds": round(made, 1), "runs": []}
        for workers in args.workers:
            row["runs"].append(run(layers, workers))
        row["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(json.dumps(row), flush=True)
        rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": platform.platform(), "cores": os.cpu_count(),
                                    "python": platform.python_version(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()

"""Keeping a plan up to date: re-partition after a year of changes, with and without the previous plan.

A synthetic district (``geogrid.sample.district.build``) is partitioned; then a year of changes is applied
(a share of buildings change their households and residents by up to ±20%, a share are
demolished; villager groups keep their counts) and the district is partitioned again twice, in
the same run: with the previous plan (``previous_grids``/``previous_assignments``, what
``geogrid partition --previous`` does) and from scratch. For each it records the run time, the
share of households (of buildings in both plans) whose grid changed, the share of the previous
grids kept with the same code, and the share of grids within every limit where a partition
within every limit is not ruled out. Reference: the UK's census output areas were maintained
this way with under 5% change.

    .venv/bin/python bench/partition_maintenance.py --households 100000 500000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geogrid.partition import partition  # noqa: E402
from geogrid.partition.report import _moved, _moved_share  # noqa: E402
from geogrid.sample.district import build  # noqa: E402


def a_year_later(buildings, rng: np.random.Generator, changed: float, demolished: float):
    """Buildings after a year: ``changed`` of them with households and residents scaled by 0.8-1.2,
    ``demolished`` of them gone; and the ids of the buildings changed or demolished."""
    gone = rng.random(len(buildings)) < demolished
    out = buildings[~gone].copy()
    picked = rng.random(len(out)) < changed
    factor = rng.uniform(0.8, 1.2, int(picked.sum()))
    for column in ("households", "population"):
        values = out[column].to_numpy(float)
        values[picked] = np.maximum(1, np.round(values[picked] * factor))
        out[column] = values.astype(int)
    touched = set(buildings["building_id"][gone]) | set(out["building_id"][picked])
    return out, int(picked.sum()), int(gone.sum()), touched


def timed(layers: dict, buildings, pool, **previous) -> tuple[object, float]:
    started = time.perf_counter()
    result = partition(layers["communities"], buildings, roads=layers["roads"],
                       villager_groups=layers["villager_groups"], executor=pool, **previous)
    return result, round(time.perf_counter() - started, 2)


def summary(result, before, seconds: float) -> dict:
    total = result.report["total"]
    old_codes = set(before.grids["grid_code"])
    same = before.grids.merge(result.grids, on=["grid_code", "households", "population"])
    return {"seconds": seconds, "grids": total["grid_count"],
            "households_moved_share": _moved_share(_moved(before.assignments, result.assignments)),
            "previous_grids_kept_share": round(len(same) / len(old_codes), 4),
            "previous_codes_still_used_share": round(len(old_codes & set(result.grids["grid_code"])) / len(old_codes), 4),
            "within_limits_share": total["within_limits_share"],
            "within_limits_share_where_feasible": total["within_limits_share_where_feasible"],
            "grids_outside_limits_unproven": total["grids_outside_limits_unproven"],
            "grids_outside_limits_by_proof": total["grids_outside_limits_by_proof"],
            "grids_in_several_parts": total["grids_in_several_parts"],
            "communities_feasible_partition": total["communities_feasible_partition"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, nargs="+", default=[100_000, 500_000])
    parser.add_argument("--changed", type=float, default=0.05, help="share of buildings whose counts change")
    parser.add_argument("--demolished", type=float, default=0.01, help="share of buildings demolished")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=Path("bench/results/partition_maintenance.json"))
    args = parser.parse_args()
    rows = []
    with ProcessPoolExecutor(args.workers) as pool:
        for households in args.households:
            layers = build(households=households, seed=0, incidents=0, cameras=0)
            before, seconds = timed(layers, layers["buildings"], pool)
            later, changed, demolished, touched = a_year_later(layers["buildings"], np.random.default_rng(1),
                                                               args.changed, args.demolished)
            kept, kept_seconds = timed(layers, later, pool, previous_grids=before.grids,
                                       previous_assignments=before.assignments)
            fresh, fresh_seconds = timed(layers, later, pool)
            buildings = layers["buildings"]
            untouched = set(buildings["community_code"]) - set(buildings.loc[buildings["building_id"].isin(touched),
                                                                              "community_code"])
            row = {"households": int(layers["buildings"]["households"].sum()), "buildings": len(layers["buildings"]),
                   "communities": len(layers["communities"]), "first_run_seconds": seconds,
                   "buildings_changed": changed, "buildings_demolished": demolished,
                   "communities_untouched": len(untouched),
                   "with_previous": summary(kept, before, kept_seconds),
                   "from_scratch": summary(fresh, before, fresh_seconds)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": platform.platform(), "cores": os.cpu_count(),
                                    "python": platform.python_version(), "changed": args.changed,
                                    "demolished": args.demolished, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()

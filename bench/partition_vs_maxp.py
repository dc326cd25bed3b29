"""Side by side: geogrid's partition and PySAL spopt's MaxPHeuristic on the same communities.

Both work on the same spatial units: the buildings' tessellation cells (momepy), so that
MaxP gets a contiguity graph and its regions tile the community like our grids.
MaxP has only a floor (threshold 300 households); we report how many of its regions meet
both limits (300-500 households, at most 1,000 residents), its run time and compactness.

    .venv/bin/python bench/partition_vs_maxp.py --sizes 200 500 1000 2000 --out bench/results/maxp.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geogrid.partition import partition  # noqa: E402
from geogrid.partition.atoms import tessellate  # noqa: E402
from geogrid.partition.scores import polsby_popper  # noqa: E402
from geogrid.partition.rules import Rules  # noqa: E402
from tests.synthetic import METRIC, community  # noqa: E402


def community_of(buildings: int, seed: int = 0):
    """A synthetic town community with about ``buildings`` walk-up buildings (12-36 households)."""
    side = np.sqrt(buildings * 40 * 28)
    for _ in range(4):  # the lattice loses buildings at edges and streets: grow until the count fits
        made = community(np.random.default_rng(seed), width=side * 1.1, height=side, households=(12, 36),
                         people_per_household=2.7)
        if abs(len(made[1]) - buildings) <= buildings * 0.03:
            break
        side *= np.sqrt(buildings / len(made[1]))
    return made


def within(households: np.ndarray, population: np.ndarray, rules: Rules) -> np.ndarray:
    return (households >= rules.min_households) & (households <= rules.max_households) & (
        population <= rules.max_population)


def run_geogrid(communities, buildings, roads, rules: Rules) -> dict:
    started = time.perf_counter()
    result = partition(communities, buildings, roads=roads, rules=rules)
    seconds = time.perf_counter() - started
    grids = result.grids
    return {
        "seconds": round(seconds, 3),
        "regions": int(len(grids)),
        "within_both_limits": round(float(within(grids["households"], grids["population"], rules).mean()), 4),
        "over_500_households": round(float((grids["households"] > rules.max_households).mean()), 4),
        "over_1000_residents": round(float((grids["population"] > rules.max_population).mean()), 4),
        "mean_compactness": round(float(grids["compactness"].mean()), 4),
    }


def run_maxp(communities, buildings, rules: Rules) -> dict:
    from libpysal.weights import Rook
    from spopt.region import MaxPHeuristic

    metric = buildings.to_crs(METRIC).reset_index(drop=True)
    metric["compound"] = ""
    metric["units"] = None
    outline = communities.to_crs(METRIC).geometry.iloc[0]
    cells, _ = tessellate(metric, gpd.GeoSeries([outline], crs=METRIC))
    units = gpd.GeoDataFrame({"households": metric["households"].to_numpy(),
                              "population": metric["population"].to_numpy()},
                             geometry=cells.to_numpy()[: len(metric)], crs=METRIC)
    started = time.perf_counter()
    weights = Rook.from_dataframe(units, use_index=False, silence_warnings=True)
    model = MaxPHeuristic(units, weights, attrs_name=["households", "population"], threshold_name="households",
                          threshold=rules.min_households, top_n=2, verbose=False)
    np.random.seed(0)
    model.solve()
    seconds = time.perf_counter() - started
    labels = np.asarray(model.labels_)
    regions = units.assign(label=labels).dissolve("label", aggfunc="sum")
    geoms = regions.geometry.to_numpy()
    return {
        "seconds": round(seconds, 3),
        "regions": int(len(regions)),
        "within_both_limits": round(float(within(regions["households"], regions["population"], rules).mean()), 4),
        "over_500_households": round(float((regions["households"] > rules.max_households).mean()), 4),
        "over_1000_residents": round(float((regions["population"] > rules.max_population).mean()), 4),
        "mean_compactness": round(float(polsby_popper(geoms).mean()), 4),
        "multipart_regions": int((shapely.get_num_geometries(geoms) > 1).sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 500, 1000, 2000])
    parser.add_argument("--out", type=Path, default=Path("bench/results/partition_vs_maxp.json"))
    parser.add_argument("--skip-maxp", action="store_true")
    args = parser.parse_args()
    rules = Rules()
    rows = []
    for size in args.sizes:
        communities, buildings, roads = community_of(size)
        row = {"buildings": int(len(buildings)), "households": int(buildings["households"].sum()),
               "geogrid": run_geogrid(communities, buildings, roads, rules)}
        if not args.skip_maxp:
            row["maxp"] = run_maxp(communities, buildings, rules)
            row["speedup"] = round(row["maxp"]["seconds"] / max(row["geogrid"]["seconds"], 1e-9), 1)
        print(json.dumps(row), flush=True)
        rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                                    "rows": rows}, indent=2))


if __name__ == "__main__":
    main()

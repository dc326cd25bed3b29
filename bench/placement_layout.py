"""The service's placement layout over ~8,000 published grids: build time, one-point lookups, suggestions.

The grids are bench/locate.py's Voronoi district. The layout is what geogrid.store.placement keeps
per store (a GridIndex without raster, rebuilt after each publishing); reports are placed one point
at a time, and a point in no grid asks for the grids within 100 m.

    .venv/bin/python bench/placement_layout.py [--grids 8000] [--points 20000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.locate import coverage  # noqa: E402
from geogrid.store.placement import GridLayout  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=8000)
    parser.add_argument("--points", type=int, default=20000)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    grids = coverage(args.grids, rng)
    rows = [(code, code[:14], code[:10], code[:6], shapely.to_wkb(g))
            for code, g in zip(grids["grid_code"], grids.geometry, strict=True)]
    builds = []
    for _ in range(3):
        start = time.perf_counter()
        layout = GridLayout.of("bench", rows)
        builds.append(time.perf_counter() - start)
    minx, miny, maxx, maxy = grids.total_bounds
    lon, lat = rng.uniform(minx, maxx, args.points), rng.uniform(miny, maxy, args.points)
    start = time.perf_counter()
    found = [layout.grid_at(x, y) for x, y in zip(lon.tolist(), lat.tolist(), strict=True)]
    per_point = (time.perf_counter() - start) / args.points
    lost = [(x, y) for (x, y), f in zip(zip(lon.tolist(), lat.tolist()), found, strict=True) if f is None][:2000]
    layout.grids_near(*lost[0])  # the metric index is built on first use
    start = time.perf_counter()
    near = [layout.grids_near(x, y) for x, y in lost]
    per_near = (time.perf_counter() - start) / max(len(lost), 1)
    print(f"{len(grids)} grids: layout built in {min(builds) * 1000:.1f} ms (best of 3); "
          f"grid_at {per_point * 1e6:.1f} µs per point ({sum(f is not None for f in found)} of {args.points} in a grid); "
          f"grids_near {per_near * 1e6:.1f} µs per point in no grid ({sum(bool(n) for n in near)} of {len(lost)} "
          f"with a grid within 100 m)")


if __name__ == "__main__":
    main()

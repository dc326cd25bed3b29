"""Agreement between input CRSs: the same district given in WGS-84, GCJ-02, CGCS2000 and a projected CRS.

Each variant is read the way the command line reads it (``to_wgs84`` with its CRS, GCJ-02 with
``--input-crs gcj02``) and partitioned; the figure is the share of buildings whose grid code is
the same as in the WGS-84 run (goal: at least 99.9%).

    .venv/bin/python bench/crs_stability.py --data data/sample [--communities 360702-001-001 ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.crs_variants import agreement, read_sample, run, variants  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/sample"))
    parser.add_argument("--communities", nargs="*", default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    plans, seconds = {}, {}
    for name, layers in variants(read_sample(args.data, args.communities)).items():
        started = time.perf_counter()
        plans[name] = run(layers)
        seconds[name] = round(time.perf_counter() - started, 2)
    result = {name: agreement(plans["wgs84"], plan) | {"seconds": seconds[name]} for name, plan in plans.items()}
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

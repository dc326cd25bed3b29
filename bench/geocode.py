"""Address geocoding at city size: build the gazetteer of 112,850 buildings and answer 5,000 noisy queries.

The city is 25 renamed, shifted copies of the sample's buildings (tests/test_geocode.py's renamed_copies), the
queries noisy rewrites of random addresses (seed 0). Prints build and query times and the share right and wrong.

    .venv/bin/python bench/geocode.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geogrid.geo.geocode import Gazetteer  # noqa: E402
from tests.test_geocode import noisy_queries, renamed_copies  # noqa: E402


def main() -> None:
    city = renamed_copies(gpd.read_file(ROOT / "data" / "sample" / "buildings.geojson"))
    start = time.perf_counter()
    gazetteer = Gazetteer(city)
    built = time.perf_counter() - start
    texts, truth = noisy_queries(city)
    start = time.perf_counter()
    results = gazetteer.geocode(texts)
    queried = time.perf_counter() - start
    right = np.mean([r.building_id == t for r, t in zip(results, truth)])
    wrong = np.mean([r.building_id not in (None, t) for r, t in zip(results, truth)])
    print(f"{len(city):,} buildings: built in {built:.2f} s; {len(texts):,} queries in {queried:.2f} s "
          f"({len(texts) / queried:,.0f}/s); right {right:.1%}, wrong {wrong:.2%}")


if __name__ == "__main__":
    main()

"""The assessment (考核) over 1,000,000 cases: the domain's computation at each level, from columns in memory.

Synthetic history: 8,000 grids in 200 communities and 10 streets, cases spread over 2025, 90% closed, one in
five rated by the reporter, 8% dispatched by the street to the category's department (dispatch, check-in,
handle and, for closed cases, the street's assess, each a trace step), one in fifty reopened. Timed: best and
median of several runs of geogrid.incidents.assessment.assess per level. The store's reading of these columns
(geogrid.store.assessment.read_history) is not included: see docs/BENCHMARKS.md.

    .venv/bin/python bench/assessment.py                 # 1,000,000 cases, 5 runs
    .venv/bin/python bench/assessment.py --cases 200000 --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geogrid.incidents.assessment import LEVELS, assess, load_formula  # noqa: E402
from geogrid.incidents.taxonomy import load_taxonomy  # noqa: E402

YEAR = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
HOUR = 3600.0


def history(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """n synthetic cases and the trace steps the assessment reads."""
    rng = np.random.default_rng(seed)
    taxonomy = load_taxonomy()
    codes = list(taxonomy.categories)
    grid = rng.integers(0, 8000, n)
    grid_codes = np.array([f"360702-{g // 800:03d}-{g // 40 % 20:03d}-{g % 40:02d}" for g in range(8000)])
    category = np.array(codes)[rng.integers(0, len(codes), n)]
    closed = rng.random(n) < 0.9
    reported = YEAR + rng.random(n) * 365 * 86400
    cases = pd.DataFrame({
        "id": np.arange(1, n + 1),
        "category": pd.Categorical(category),
        "grid_code": pd.Categorical(grid_codes[grid]),
        "community_code": pd.Categorical(np.array([c[:14] for c in grid_codes])[grid]),
        "street_code": pd.Categorical(np.array([c[:10] for c in grid_codes])[grid]),
        "status": pd.Categorical(np.where(closed, "closed", "accepted")),
        "reported_at": reported,
        "deadline_at": reported + 72 * HOUR,
        "hours_to_close": np.where(closed, rng.lognormal(3, 1, n), np.nan),
        "was_overdue": rng.random(n) < 0.1,
        "rating": np.where(closed & (rng.random(n) < 0.2), rng.integers(1, 6, n), np.nan),
        "reopen_count": (rng.random(n) < 0.02).astype(int),
    }).set_index("id")
    dispatched = np.flatnonzero(rng.random(n) < 0.08)
    m = len(dispatched)
    departments = np.array([taxonomy.categories[c].department for c in codes])
    at = reported[dispatched] + rng.uniform(1, 48, m) * HOUR
    check_in = at + rng.lognormal(0, 1, m) * HOUR
    handle = check_in + rng.lognormal(3, 1, m) * HOUR
    assessed = closed[dispatched]
    steps = [
        pd.DataFrame({"incident_id": dispatched + 1, "action": "dispatch", "at": at,
                      "department": departments[pd.Categorical(category[dispatched], categories=codes).codes],
                      "rating": np.nan, "order": 0}),
        pd.DataFrame({"incident_id": dispatched + 1, "action": "check_in", "at": check_in, "department": None,
                      "rating": np.nan, "order": 1}),
        pd.DataFrame({"incident_id": dispatched + 1, "action": "handle", "at": handle, "department": None,
                      "rating": np.nan, "order": 2}),
        pd.DataFrame({"incident_id": dispatched[assessed] + 1, "action": "assess", "at": handle[assessed] + HOUR,
                      "department": None, "rating": rng.integers(1, 6, int(assessed.sum())).astype(float),
                      "order": 3}),
    ]
    events = pd.concat(steps, ignore_index=True).sort_values(["incident_id", "order"], kind="stable")
    events["id"] = np.arange(1, len(events) + 1)
    return cases, events.drop(columns="order").reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    cases, events = history(args.cases)
    print(f"history: {len(cases):,} cases, {len(events):,} trace steps in {time.perf_counter() - started:.1f} s")
    formula, taxonomy = load_formula(), load_taxonomy()
    level3 = {code: c.deadline_hours[2] for code, c in taxonomy.categories.items()}
    now = datetime(2026, 1, 1, tzinfo=UTC)
    print("| level | rows | best s | median s |\n|---|---:|---:|---:|")
    for level in LEVELS:
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            rows = assess(cases, events, level, formula, level3, now)
            times.append(time.perf_counter() - start)
        print(f"| {level} | {len(rows):,} | {min(times):.3f} | {statistics.median(times):.3f} |")


if __name__ == "__main__":
    main()

"""The assessment (考核) over 1,000,000 cases: the domain's computation at each level, from columns in memory.

Synthetic history: 8,000 grids in 200 communities and 10 streets, cases spread over 2025, 90% closed, one in
five rated by the reporter, 8% dispatched by the street to the category's department (dispatch, check-in,
handle and, for closed cases, the street's assess, each a trace step), one in fifty reopened. Timed: best and
median of several runs of geogrid.incidents.assessment.assess per level. The store's reading of these columns
(geogrid.store.assessment.read_history) is not included: see docs/BENCHMARKS.md.

    .venv/bin/python bench/assessment.py                 # 1,000,000 cases, 5 runs
    .venv/bin/python bench/assessment.py --cases 200000 --runs 3
    .venv/bin/python bench/assessment.py --store postgis --runs 3   # through a PostGIS store (bench/stats.py's city)
    .venv/bin/python bench/assessment.py --store postgis --database geogrid_bench_kept   # filled once, then kept

With --store, a fresh store gets bench/stats.py's synthetic city and its cases (COPY), 8% of them dispatched with
their dispatch, check-in and handle steps, and the whole path is timed: the first read_history (which fills the
in-memory snapshots), read_history_sql once, then warm read_history (every case of the district and its steps)
and the assessment at each level from it. With --database NAME the PostGIS database of that name is filled on
the first run and kept (drop it by hand afterwards), so that two versions of the code can be timed back to back
on the same data without filling it again.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import statistics
import tempfile
import sys
import time
from datetime import UTC, datetime
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

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


def store_steps(url: str, cases: int, seed: int = 0) -> int:
    """COPY trace steps for 8% of the store's cases (ids 1..cases): dispatch, check-in, handle; how many."""
    import psycopg

    rng = np.random.default_rng(seed)
    chosen = np.flatnonzero(rng.random(cases) < 0.08) + 1
    conninfo = url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        reported = dict(conn.execute("SELECT id, extract(epoch FROM reported_at) FROM incidents "
                                     "WHERE id = ANY(%s)", [chosen.tolist()]).fetchall())
        start = np.array([float(reported[i]) for i in chosen]) + rng.uniform(1, 48, len(chosen)) * HOUR
        times = {"dispatch": start, "check_in": start + rng.lognormal(0, 1, len(chosen)) * HOUR}
        times["handle"] = times["check_in"] + rng.lognormal(3, 1, len(chosen)) * HOUR
        departments = np.array(["urban_management", "justice", "housing"])[rng.integers(0, 3, len(chosen))]
        text = io.StringIO()
        for action, at in times.items():
            stamps = pd.to_datetime(at, unit="s", utc=True).strftime("%Y-%m-%d %H:%M:%S+00")
            data = [f'{{"department": "{d}"}}' if action == "dispatch" else "{}" for d in departments]
            pd.DataFrame({"incident_id": chosen, "at": stamps, "username": "bench", "action": action,
                          "from_status": "escalated", "to_status": "handled", "from_level": 3, "to_level": 3,
                          "data": data}).to_csv(text, sep="\t", header=False, index=False,
                                                 quoting=csv.QUOTE_NONE, quotechar="\x01")
        with conn.cursor().copy("COPY incident_events (incident_id, at, username, action, from_status, to_status, "
                                "from_level, to_level, data) FROM STDIN") as copy:
            copy.write(text.getvalue())
        conn.execute("VACUUM ANALYZE incident_events")
    return 3 * len(chosen)


@contextlib.contextmanager
def kept_store(name: str, count: int) -> Iterator[str]:
    """The PostGIS database name, filled with the city, count cases and their steps when it does not exist yet."""
    import psycopg
    from city import PG_ADMIN
    from stats import fill

    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    if not exists:
        print(fill("postgis", url, count), flush=True)
        print(f"trace steps: {store_steps(url, count):,}", flush=True)
    yield url


def through_the_store(kind: str, count: int, runs: int, database: str | None = None) -> None:
    """Fill a fresh store (or use the kept database), then time read_history and each level's assessment from
    it."""
    from stats import DISTRICT, fill, store

    from geogrid.db.engine import make_engine
    from geogrid.db.session import session_scope
    from geogrid.store.assessment import assessment_rows, read_history, read_history_sql

    with contextlib.ExitStack() as stack:
        if database:
            url = stack.enter_context(kept_store(database, count))
        else:
            url = stack.enter_context(store(kind, Path(stack.enter_context(tempfile.TemporaryDirectory()))))
            started = time.perf_counter()
            print(fill(kind, url, count), flush=True)
            print(f"trace steps: {store_steps(url, count):,}; filled in {time.perf_counter() - started:.0f} s",
                  flush=True)
        engine = make_engine(url)
        formula, taxonomy = load_formula(), load_taxonomy()
        now = datetime(2026, 1, 1, tzinfo=UTC)
        print("| step | best s | median s |\n|---|---:|---:|")
        with session_scope(engine) as session:
            start = time.perf_counter()  # the process's first use reads every case's columns and every step
            read_history(session, area=DISTRICT, since=None, until=None, category=None)
            print(f"| first read_history (fills the snapshots) | {time.perf_counter() - start:.3f} | |")
            start = time.perf_counter()
            read_history_sql(session, area=DISTRICT, since=None, until=None, category=None)
            print(f"| read_history_sql (straight from the store) | {time.perf_counter() - start:.3f} | |", flush=True)
            timings = {"read_history": []} | {level: [] for level in LEVELS}
            for _ in range(runs):
                start = time.perf_counter()
                history = read_history(session, area=DISTRICT, since=None, until=None, category=None)
                timings["read_history"].append(time.perf_counter() - start)
                for level in LEVELS:
                    start = time.perf_counter()
                    assessment_rows(session, level, formula, taxonomy, now=now, history=history)
                    timings[level].append(time.perf_counter() - start)
            for name, times in timings.items():
                print(f"| {name} | {min(times):.3f} | {statistics.median(times):.3f} |", flush=True)
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--store", choices=["postgis", "spatialite"], help="time the whole path through a store")
    parser.add_argument("--database", help="with --store postgis: fill this database once and keep it")
    args = parser.parse_args()
    if args.database and args.store != "postgis":
        parser.error("--database needs --store postgis")
    if args.store:
        through_the_store(args.store, args.cases, args.runs, args.database)
        return
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

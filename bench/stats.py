"""Incident statistics over 1,000,000 incidents in a district of 8,000 grids, on PostGIS and on SpatiaLite.

For each store: a fresh database gets the synthetic city of ``bench/city.py`` (one district, 10
streets, 200 communities, 8,000 published grids), then 1,000,000 incidents spread over the grids and
over 2025 (COPY on PostgreSQL, executemany on SQLite; 80% closed, hours to close log-normal, one in
ten late), then ANALYZE. Timed, best and median of several runs, for the whole district:
``area_stats`` at each level, ``weekly_trend``, ``grid_counts``, ``points`` and H3 density of the points.

    .venv/bin/python bench/stats.py                          # both stores, results in bench/results/
    .venv/bin/python bench/stats.py --stores spatialite --incidents 200000
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import shapely
from sqlalchemy import update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from city import CityShape, build, store  # noqa: E402

from geogrid.db.engine import make_engine  # noqa: E402
from geogrid.incidents.density import h3_density  # noqa: E402
from geogrid.db.migrate import upgrade  # noqa: E402
from geogrid.db.session import session_scope  # noqa: E402
from geogrid.db.models import Incident  # noqa: E402
from geogrid.store import stats  # noqa: E402
from geogrid.store.incident_columns import columns_of  # noqa: E402
from geogrid.store.plans import published_grids  # noqa: E402

DISTRICT = "360702"
YEAR_START = np.datetime64("2025-01-01T00:00:00", "s")
SECONDS_IN_YEAR = 365 * 86_400
CATEGORIES = np.array(["garbage", "noise", "road", "water", "parking", "other"])
COLUMNS = ["token", "category", "description", "channel", "media_urls", "attributes", "suggestions", "lon", "lat",
           "grid_code", "community_code", "street_code", "district_code", "status", "level", "reported_at",
           "level_since", "deadline_at", "was_overdue", "hours_to_close", "reopen_count", "updated_at"]


def incidents(grids: pd.DataFrame, centres: np.ndarray, count: int, seed: int = 0) -> pd.DataFrame:
    """count incident rows over the grids (busier grids get more) and over 2025, as text-ready columns."""
    rng = np.random.default_rng(seed)
    weight = rng.gamma(2.0, 1.0, len(grids))
    where = rng.choice(len(grids), count, p=weight / weight.sum())
    reported = YEAR_START + rng.integers(0, SECONDS_IN_YEAR, count).astype("timedelta64[s]")
    closed = rng.random(count) < 0.8
    hours = np.round(rng.lognormal(3.0, 1.0, count), 3)
    late = rng.random(count) < 0.1
    stamp = np.datetime_as_string(reported, unit="s")
    deadline = np.datetime_as_string(reported + np.timedelta64(72, "h"), unit="s")
    return pd.DataFrame({
        "token": np.char.add("bench-", np.arange(count).astype(str)),
        "category": CATEGORIES[rng.integers(0, CATEGORIES.size, count)],
        "description": "", "channel": "app", "media_urls": "[]", "attributes": "{}", "suggestions": "[]",
        "lon": centres[where, 0] + rng.normal(0, 0.001, count),
        "lat": centres[where, 1] + rng.normal(0, 0.001, count),
        "grid_code": grids["grid_code"].to_numpy()[where],
        "community_code": grids["community_code"].to_numpy()[where],
        "street_code": grids["street_code"].to_numpy()[where],
        "district_code": grids["district_code"].to_numpy()[where],
        "status": np.where(closed, "closed", "accepted"),
        "level": 1,
        "reported_at": stamp, "level_since": stamp, "deadline_at": deadline,
        "was_overdue": late,
        "hours_to_close": np.where(closed, hours, np.nan),
        "reopen_count": 0,
        "updated_at": stamp,
    })


def load_postgres(url: str, frame: pd.DataFrame) -> None:
    """COPY the incidents in (text format, timestamps in UTC), then VACUUM ANALYZE."""
    text = io.StringIO()
    frame.assign(reported_at=frame["reported_at"] + "+00", level_since=frame["level_since"] + "+00",
                 deadline_at=frame["deadline_at"] + "+00", updated_at=frame["updated_at"] + "+00") \
        .to_csv(text, sep="\t", header=False, index=False, na_rep="\\N")
    conninfo = url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        with conn.cursor().copy(f"COPY incidents ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            copy.write(text.getvalue())
        conn.execute("VACUUM ANALYZE incidents")


def load_sqlite(engine: object, frame: pd.DataFrame) -> None:
    """executemany the incidents in one transaction (timestamps as SQLAlchemy stores them), then ANALYZE."""
    frame = frame.assign(**{c: frame[c].str.replace("T", " ") + ".000000"
                            for c in ("reported_at", "level_since", "deadline_at", "updated_at")})
    frame["was_overdue"] = frame["was_overdue"].astype(int)
    rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN")
        cursor.executemany(f"INSERT INTO incidents ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                           rows)
        cursor.execute("COMMIT")
        cursor.execute("ANALYZE")
    finally:
        raw.close()


def fill(kind: str, url: str, count: int) -> dict[str, object]:
    """The city and count incidents in a fresh store; row counts and load times."""
    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    counts = build(engine, CityShape(buildings_per_grid=1))
    city_seconds = time.perf_counter() - started
    with session_scope(engine) as session:
        grids = published_grids(session, DISTRICT)
    centres = shapely.get_coordinates(grids.geometry.representative_point().values)
    frame = incidents(pd.DataFrame(grids.drop(columns="geometry")), centres, count)
    started = time.perf_counter()
    load_postgres(url, frame) if kind == "postgis" else load_sqlite(engine, frame)
    load_seconds = time.perf_counter() - started
    engine.dispose()
    return {**counts, "incidents": count, "city_seconds": round(city_seconds, 1),
            "incident_load_seconds": round(load_seconds, 1)}


def best_of(runs: int, run: Callable[[], object]) -> tuple[float, float, object]:
    """Best and median seconds over runs (after one warm-up run), and the last answer."""
    answer, times = run(), []
    for _ in range(runs):
        start = time.perf_counter()
        answer = run()
        times.append(time.perf_counter() - start)
    return min(times), float(np.median(times)), answer


def measure(url: str, runs: int) -> dict[str, dict[str, float]]:
    """Seconds for each statistic over the whole district."""
    engine = make_engine(url)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    calls: dict[str, Callable[[object], object]] = {
        **{f"area_stats {level}": (lambda s, lv=level: stats.area_stats(s, lv, area=DISTRICT, now=now))
           for level in stats.LEVELS},
        "weekly_trend": lambda s: stats.weekly_trend(s, area=DISTRICT),
        "grid_counts": lambda s: stats.grid_counts(s, area=DISTRICT),
        "points": lambda s: stats.points(s, area=DISTRICT),
        "points + h3_density res 9": lambda s: h3_density(*stats.points(s, area=DISTRICT), 9)["features"],
    }
    found = {}
    with session_scope(engine) as session:
        start = time.perf_counter()
        columns_of(session)  # the process's first statistic reads every case's columns once
        found["first use: read the columns"] = {"best_s": round(time.perf_counter() - start, 3)}
        print(f"  first use: reading the incident columns {found['first use: read the columns']['best_s']} s")
    with session_scope(engine) as session:
        session.execute(update(Incident).where(Incident.id == 1).values(status="closed", updated_at=datetime.now(UTC)))
    with session_scope(engine) as session:
        start = time.perf_counter()
        stats.area_stats(session, "grid", area=DISTRICT, now=now)
        found["area_stats grid after one case changed"] = {"best_s": round(time.perf_counter() - start, 3)}
        print(f"  area_stats grid after one case changed {found['area_stats grid after one case changed']['best_s']} s")
    with session_scope(engine) as session:
        for name, call in calls.items():
            best, median, answer = best_of(runs, lambda c=call: c(session))
            found[name] = {"best_s": round(best, 3), "median_s": round(median, 3), "size": _size(answer)}
            print(f"  {name:<22} best {best:6.3f} s  median {median:6.3f} s  ({found[name]['size']} rows)", flush=True)
    engine.dispose()
    return found


def _size(answer: object) -> int:
    """Rows in an answer (points: how many)."""
    return len(answer[0]) if isinstance(answer, tuple) else len(answer)  # type: ignore[arg-type]


def main() -> None:
    """Fill each store and time the statistics; print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stores", nargs="+", default=["postgis", "spatialite"], choices=["postgis", "spatialite"])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, object] = {"machine": platform.platform(), "python": platform.python_version(),
                                  "cpus": os.cpu_count(), "incidents": args.incidents}
    with tempfile.TemporaryDirectory() as folder:
        for kind in args.stores:
            with store(kind, Path(folder)) as url:
                print(f"{kind}: loading", flush=True)
                loaded = fill(kind, url, args.incidents)
                print(f"{kind}: {loaded}", flush=True)
                results[kind] = {"load": loaded, "seconds": measure(url, args.runs)}
    out = ROOT / "bench" / "results" / f"stats-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()

"""The case desk's queue (GET /api/v1/desk) for a street leader over 1,000,000 cases on PostGIS, 20 concurrent users.

A fresh PostGIS store gets bench/stats.py's synthetic city (one district, 10 streets, 200 communities, 8,000 grids)
and its 1,000,000 cases (80% closed), whose open ones are then spread over the workflow: a tenth each reported and
accepted in the grid, escalated and accepted in the community, escalated to the street, dispatched, checked in and
handled at the street (the rest accepted in the grid), with deadlines from two days past to four days ahead. A street
leader of the first street signs in; uvicorn serves the API in its own process (one worker, as ``geogrid serve``);
wrk drives GET /api/v1/desk (the first page of 100 cases, the counts per state) with 1, then 20 connections back to
back for a fixed time after a warm-up, then with a state filter, and reports p50, p95 and p99 latency. Also timed in-process:
the store's queue alone (geogrid.store.desk.queue), best and median of several runs.

    apt-get install wrk
    .venv/bin/python bench/desk_queue.py                          # 1,000,000 cases, 20 clients, 15 s each
    .venv/bin/python bench/desk_queue.py --cases 200000 --seconds 5
    .venv/bin/python bench/desk_queue.py --url postgresql+psycopg://postgres@127.0.0.1:5432/NAME   # a filled store
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from api_latency import server, wrk, LUA  # noqa: E402
from city import PG_ADMIN, store  # noqa: E402
from stats import fill  # noqa: E402

from api.deps import Principal  # noqa: E402
from geogrid.db.engine import make_engine  # noqa: E402
from geogrid.db.version import QUERY as VERSION_QUERY  # noqa: E402
from geogrid.db.session import session_scope  # noqa: E402
from geogrid.store import desk  # noqa: E402
from geogrid.store.users import add_user, get_user, set_password  # noqa: E402

STREET = "360702001"
USER, PASSWORD = "bench-street", secrets.token_urlsafe(12)
SPREAD = """
UPDATE incidents SET
  status = (ARRAY['reported','accepted','escalated','accepted','escalated','dispatched','checked_in','handled',
                  'accepted','accepted'])[id % 10 + 1],
  level = (ARRAY[1,1,2,2,3,3,3,3,1,1])[id % 10 + 1],
  department = CASE WHEN id % 10 IN (5, 6, 7) THEN (ARRAY['urban_management','housing','justice'])[id % 3 + 1] END,
  deadline_at = now() + ((id % 144) - 48) * interval '1 hour',
  updated_at = now() - interval '1 day'
WHERE status <> 'closed'
"""


def spread(url: str) -> dict[str, int]:
    """Spread the open cases over the workflow's states and levels; cases per state."""
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(SPREAD)
        conn.execute("VACUUM ANALYZE incidents")
        return dict(conn.execute("SELECT status, count(*) FROM incidents GROUP BY status").fetchall())


def street_leader(url: str) -> None:
    """The street leader whose desk is timed (this run's password; a kept store's user gets it too)."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        if get_user(session, USER) is None:
            add_user(session, USER, PASSWORD, "leader", STREET)
        else:
            set_password(session, USER, PASSWORD)
    engine.dispose()


def in_process(url: str, runs: int) -> dict[str, float]:
    """The store's queue for the street leader, in this process, as the API asks for it (with the store's data
    version, which keys the desk's areas): best and median seconds."""
    engine = make_engine(url)
    user = Principal(USER, "leader", STREET)
    times = []
    with session_scope(engine) as session:
        version = session.scalar(text(VERSION_QUERY))
        for _ in range(runs):
            started = time.perf_counter()
            found = desk.queue(session, user, desk.DeskFilters(), datetime.now(UTC), limit=100, version=version)
            times.append(time.perf_counter() - started)
    engine.dispose()
    return {"best_s": round(min(times), 4), "median_s": round(statistics.median(times), 4), "total": found.total,
            "counts": found.counts}


def explain(url: str) -> str:
    """PostgreSQL's plan of the queue's page (to see the partial index used)."""
    engine = make_engine(url)
    user = Principal(USER, "leader", STREET)
    from sqlalchemy import select

    from geogrid.db.models import Incident
    from geogrid.store.incidents import visible_to

    with session_scope(engine) as session:
        mine = desk.awaiting(user, desk.desk_of(session, user))
        query = select(Incident.id).where(mine, visible_to(user)).order_by(Incident.deadline_at).limit(100)
        compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
        rows = session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars().all()
    engine.dispose()
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--url", help="a store already filled by this benchmark (kept afterwards)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (geogrid serve --workers)")
    parser.add_argument("--keep", action="store_true", help="keep the new store (its URL is printed) for --url")
    args = parser.parse_args()
    results: dict[str, object] = {"machine": platform.platform(), "python": platform.python_version(),
                                  "cpus": os.cpu_count(), "cases": args.cases, "clients": args.clients}
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "report.lua"
        script.write_text(LUA)
        with (_given(args.url) if args.url else _kept() if args.keep else store("postgis", Path(folder))) as url:
            if not args.url:
                started = time.perf_counter()
                print(fill("postgis", url, args.cases), flush=True)
                results["states"] = spread(url)
                results["fill_s"] = round(time.perf_counter() - started, 1)
                print(f"filled in {results['fill_s']} s: {results['states']}", flush=True)
            street_leader(url)
            results["store_queue"] = in_process(url, 7)
            print(f"store queue: {results['store_queue']}", flush=True)
            print(explain(url), flush=True)
            os.environ["GEOGRID_WARM_STATISTICS"] = "false"  # the statistics' start-up read would run beside the load
            results["workers"] = args.workers
            with server(url, Path(folder), args.workers) as base:
                bearer = httpx.post(base + "/api/v1/auth/token", data={"username": USER, "password": PASSWORD},
                                    timeout=30).json()["access_token"]
                results["http"] = {}
                for name, path in {"desk": "/api/v1/desk?limit=100",
                                   "desk_handled": "/api/v1/desk?limit=100&status=handled"}.items():
                    probe = httpx.get(base + path, headers={"Authorization": f"Bearer {bearer}"}, timeout=60)
                    probe.raise_for_status()
                    wrk(base + path, bearer, args.clients, args.warmup, script)
                    results["http"][name] = {}
                    for clients in (1, args.clients):
                        row = wrk(base + path, bearer, clients, args.seconds, script)
                        row |= {"bytes": len(probe.content), "total": probe.json()["total"]}
                        results["http"][name][clients] = row
                        print(f"{name}: {clients} clients p50 {row['p50_ms']:.1f} ms p95 {row['p95_ms']:.1f} ms "
                              f"p99 {row['p99_ms']:.1f} ms, {row['requests_per_s']} req/s, {row['bytes']} bytes, "
                              f"{row['total']} cases", flush=True)
    out = ROOT / "bench" / "results" / f"desk_queue-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"written {out}")


class _kept:
    """A new PostGIS database left in place afterwards (drop it by hand when done)."""

    def __enter__(self) -> str:
        name = f"geogrid_bench_desk_{secrets.token_hex(4)}"
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        print(f"store kept: {url}", flush=True)
        return url

    def __exit__(self, *exc: object) -> None:
        return None


class _given:
    """A store named on the command line, kept as it is."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    main()

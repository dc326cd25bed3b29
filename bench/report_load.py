"""Reports submitted over HTTP: POST /api/v1/incidents on SpatiaLite and on PostGIS, loaded by wrk; none may be lost.

For each store: a fresh database gets the synthetic city of ``bench/city.py`` (8,000 published
grids; ``bench/api_latency.py``'s helpers build it, start uvicorn in its own process and run wrk),
and a leader who may report. A few thousand random points, each inside a known grid, are written
into a wrk Lua script that POSTs one JSON report per request, cycling through the points, each
report with a unique ``external_id``. The Lua ``response`` callback counts answers by status and
writes the external id of every 201 to a file. After a short warm-up, each number of connections
runs for a fixed time; then the store is checked: every acknowledged (201) report is stored (none
lost), each in the grid its point was drawn in, each with its ``report`` event. CPU per request is read
(psutil) for the uvicorn process and the database's PostgreSQL backends. Stored reports that
wrk never saw answered are requests still in flight when wrk stopped (at most one per connection).

Finally one report is profiled in-process (no HTTP): the pieces of ``create_incident`` timed with
``time.perf_counter`` over ``--profile-reports`` reports, and cProfile's top costs, on each store.

    apt-get install wrk
    .venv/bin/python bench/report_load.py                        # both stores, results in bench/results/
    .venv/bin/python bench/report_load.py --stores postgis --clients 8 --seconds 10
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import platform
import pstats
import secrets
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
import numpy as np
import psutil
import psycopg
import shapely
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_latency import ROOT, TOKEN_PATH, fill, server, wrk
from city import PG_ADMIN, store
from city import CityShape

from api.deps import Principal
from api.routers.incidents import incident_json
from geogrid.db.engine import make_engine, read_options, single_statement_options
from geogrid.db.models import Incident, IncidentEvent
from geogrid.db.session import make_sessionmaker, session_scope
from geogrid.incidents import filing
from geogrid.store import incidents as incidents_store
from geogrid.store import placement
from geogrid.store.plans import published_grids
from geogrid.store import users as users_store
from geogrid.store.users import add_user
from geogrid.incidents.taxonomy import load_taxonomy

LEADER, LEADER_PASSWORD = "bench-leader", secrets.token_urlsafe(12)
GOAL = {"reports_per_s": 600, "p95_ms": 50}  # issue 19, at 16 connections on a 2-core machine

LUA = r"""
local tag = "%(tag)s"
local folder = "%(folder)s"
local categories = {%(categories)s}
local points = {%(points)s}
local npoints = #points / 2
local started = 0

function setup(thread)
  thread:set("tid", started)
  started = started + 1
end

function init(args)
  n, created, replayed, other = 0, 0, 0, 0
  statuses = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  ids = io.open(string.format("%%s/%%s-t%%d.ids", folder, tag, tid), "w")
  ids:setvbuf("line")
  errors = nil
end

function request()
  n = n + 1
  local k = (tid * 7919 + n) %% npoints
  local body = string.format('{"category":"%%s","channel":"grid_patrol","description":"load test report",'
    .. '"location":{"lon":%%.7f,"lat":%%.7f,"crs":"wgs84"},"external_id":"%%s-t%%d-%%d-p%%d"}',
    categories[n %% #categories + 1], points[2 * k + 1], points[2 * k + 2], tag, tid, n, k)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status == 201 then
    created = created + 1
    ids:write(string.match(body, '"external_id":"([^"]*)"') or "?", "\n")
  elseif status == 200 then
    replayed = replayed + 1
  else
    other = other + 1
    if errors == nil then
      errors = io.open(string.format("%%s/%%s-t%%d.errors", folder, tag, tid), "w")
    end
    errors:write(key, " ", string.sub(body, 1, 300), "\n")
    errors:flush()
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %%d, "seconds": %%.3f, "socket_errors": %%d, "bad_status": %%d, '
    .. '"connect_errors": %%d, "read_errors": %%d, "write_errors": %%d, "timeouts": %%d, '
    .. '"p50_ms": %%.3f, "p90_ms": %%.3f, "p95_ms": %%.3f, "p99_ms": %%.3f, "max_ms": %%.3f, "mean_ms": %%.3f}\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout, e.status,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000))
end
"""


# --- data -----------------------------------------------------------------------------------------


def add_leader(url: str) -> None:
    engine = make_engine(url)
    with session_scope(engine) as session:
        add_user(session, LEADER, LEADER_PASSWORD, "leader", "360702")
    engine.dispose()


def sample_points(url: str, n: int, seed: int = 1) -> tuple[np.ndarray, list[str]]:
    """n random lon/lat points, each strictly inside a random published grid, and that grid's code."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        grids = published_grids(session)
    engine.dispose()
    rng = np.random.default_rng(seed)
    geoms = grids.geometry.to_numpy()
    codes = grids["grid_code"].to_numpy()
    chosen = rng.integers(0, len(geoms), n)
    points, owners = np.empty((n, 2)), []
    for i, g in enumerate(chosen):
        shapely.prepare(geoms[g])
        minx, miny, maxx, maxy = geoms[g].bounds
        while True:
            x, y = rng.uniform(minx, maxx, 32), rng.uniform(miny, maxy, 32)
            inside = np.flatnonzero(shapely.contains_xy(geoms[g], x, y))
            if inside.size:
                points[i] = x[inside[0]], y[inside[0]]
                break
        owners.append(str(codes[g]))
    return points, owners


def leader_token(base: str) -> str:
    answer = httpx.post(base + TOKEN_PATH, data={"username": LEADER, "password": LEADER_PASSWORD}, timeout=30)
    answer.raise_for_status()
    return answer.json()["access_token"]


# --- one load run and its check -------------------------------------------------------------------------


def lua_script(folder: Path, tag: str, points: np.ndarray, categories: list[str]) -> Path:
    flat = ",".join(f"{lon:.7f},{lat:.7f}" for lon, lat in points)
    path = folder / f"{tag}.lua"
    path.write_text(LUA % {"tag": tag, "folder": str(folder), "points": flat,
                           "categories": ",".join(f'"{c}"' for c in categories)})
    return path


def load(base: str, bearer: str, clients: int, seconds: float, folder: Path, tag: str,
         points: np.ndarray, categories: list[str]) -> dict:
    """One wrk run; the 201s' external ids and any error bodies are left in folder as tag-t*.ids/.errors."""
    script = lua_script(folder, tag, points, categories)
    row = wrk(base + "/api/v1/incidents", bearer, clients, seconds, script)
    acknowledged = [line for f in sorted(folder.glob(f"{tag}-t*.ids")) for line in f.read_text().split()]
    errors = [line for f in sorted(folder.glob(f"{tag}-t*.errors")) for line in f.read_text().splitlines()]
    row.update(clients=clients, tag=tag, created_201=len(acknowledged), error_samples=errors[:5],
               non_2xx=row["bad_status"], acknowledged=acknowledged)
    return row


def check(url: str, tag: str, acknowledged: list[str], owners: list[str], settle: float = 2.0) -> dict:
    """Compare the store with what wrk was told: every 201 stored, in the right grid, with its event."""
    time.sleep(settle)  # requests in flight when wrk stopped finish on the server
    engine = make_engine(url)
    with session_scope(engine) as session:
        rows = session.execute(select(Incident.id, Incident.external_id, Incident.grid_code)
                               .where(Incident.external_id.like(f"{tag}-%"))).all()
        ids = [r.id for r in rows]
        events = session.scalar(select(func.count()).select_from(IncidentEvent)
                                .where(IncidentEvent.action == "report",
                                       IncidentEvent.incident_id.in_(select(Incident.id).where(
                                           Incident.external_id.like(f"{tag}-%"))))) if ids else 0
    engine.dispose()
    stored = {r.external_id: r.grid_code for r in rows}
    acked = set(acknowledged)
    wrong = sum(1 for ext, grid in stored.items() if grid != owners[int(ext.rsplit("-p", 1)[1])])
    return {"stored": len(stored), "acknowledged_201": len(acked), "duplicates_in_201s": len(acknowledged) - len(acked),
            "lost": len(acked - stored.keys()), "stored_not_acknowledged": len(stored.keys() - acked),
            "without_grid": sum(1 for g in stored.values() if g is None), "in_wrong_grid": wrong,
            "report_events": events}


class CpuMeter:
    """CPU seconds used by the server (all its threads and worker processes) and by the PostgreSQL backends of its database."""

    def __init__(self, base: str, url: str) -> None:
        port = base.rsplit(":", 1)[1]
        self.server = next(p for p in psutil.process_iter(["cmdline"])
                           if "uvicorn" in (p.info["cmdline"] or []) and port in (p.info["cmdline"] or []))
        self.database = url.rsplit("/", 1)[1] if url.startswith("postgresql") else None

    def _backends(self) -> dict[int, float]:
        if self.database is None:
            return {}
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,))]
        found = {}
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                t = psutil.Process(pid).cpu_times()
                found[pid] = t.user + t.system
        return found

    def read(self) -> tuple[float, dict[int, float]]:
        """The server's CPU seconds (with --workers N, its worker processes' too) and each backend's."""
        total = 0.0
        for process in (self.server, *self.server.children(recursive=True)):
            with contextlib.suppress(psutil.Error):
                t = process.cpu_times()
                total += t.user + t.system
        return total, self._backends()

    @staticmethod
    def used(before: tuple[float, dict[int, float]], after: tuple[float, dict[int, float]]) -> dict[str, float]:
        database = sum(v - before[1].get(pid, 0.0) for pid, v in after[1].items())
        return {"server_cpu_s": round(after[0] - before[0], 2), "postgres_cpu_s": round(database, 2)}


# --- in-process profile -----------------------------------------------------------------------------------


class Pieces:
    """Wall time per named piece, summed over calls (wrapping module functions and methods)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started

        setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def __enter__(self) -> Pieces:
        self._undo: list = []
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)


def answerable(taxonomy) -> list[str]:
    """The categories a report needs no answer for (no required question): the load sends none."""
    return [code for code, category in taxonomy.categories.items()
            if not any(a.required and a.variable for a in category.attributes)]


def profile_in_process(url: str, points: np.ndarray, n: int, tag: str) -> dict:
    """What one report costs without HTTP, as the endpoint does it: the user looked up, then in the report's
    session (on PostgreSQL autocommit: geogrid.db.engine.single_statement_options) create_incident, the JSON
    answer, commit. Pieces timed over n reports, then cProfile over n more."""
    taxonomy = load_taxonomy()
    engine = make_engine(url, pool_size=2)
    factory = make_sessionmaker(engine.execution_options(**read_options(engine)))  # as the API reads the user
    reports = make_sessionmaker(engine.execution_options(**single_statement_options(engine)))
    categories = answerable(taxonomy)

    def one(i: int, run: str) -> None:
        lon, lat = points[i % len(points)]
        report = incidents_store.Report(category=categories[i % len(categories)], channel="grid_patrol",
                                        description="load test report", x=float(lon), y=float(lat), crs="wgs84",
                                        external_id=f"{tag}-{run}-{i}")
        with factory() as session:
            user = users_store.get_user(session, LEADER)
        principal = Principal(user.username, user.role, user.scope, user.department)
        with reports() as session:
            incident, _ = incidents_store.create_incident(session, report, principal.username, taxonomy, None)
            incident_json(incident, principal, taxonomy)
            session.flush()  # the trace row: keeps commit's time to COMMIT alone
            session.commit()

    for i in range(20):  # warm caches and the pool
        one(i, "warm")
    with Pieces() as pieces:
        pieces.wrap(filing, "locate", "filing.locate (point to WGS-84)")
        pieces.wrap(placement, "stamp", "placement.stamp (SELECT; only to build a layout)")
        pieces.wrap(placement.GridLayout, "grid_at", "GridLayout.grid_at (in memory: GridIndex, no raster)")
        pieces.wrap(incidents_store, "_insert", "_insert (INSERT incident and its event; one statement on PostgreSQL)")
        pieces.wrap(incidents_store, "_persistent", "_persistent (the ORM object of the new case)")
        pieces.wrap(incidents_store, "from_shape", "from_shape (point WKB)")
        from sqlalchemy.orm import Session, SessionTransaction
        pieces.wrap(Session, "flush", "session.flush (nothing left to write)")
        pieces.wrap(SessionTransaction, "commit", "COMMIT (none on PostgreSQL: the INSERT committed)")
        pieces.wrap(users_store, "get_user", "get_user (auth lookup)")
        import api.routers.incidents as router_mod
        pieces.wrap(router_mod.workflow, "allowed_actions", "incident_json: allowed_actions")
        pieces.wrap(incidents_store, "create_incident", "create_incident total")
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(n):
            one(i, "pieces")
        total, cpu = time.perf_counter() - started, time.process_time() - cpu
    per = {k: round(v / n * 1000, 3) for k, v in sorted(pieces.seconds.items(), key=lambda kv: -kv[1])}
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for i in range(n):
        one(i, "cprofile")
    profiler.disable()
    profiled = time.perf_counter() - started
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(18)
    by_tottime = text.getvalue()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(35)
    engine.dispose()
    return {"reports": n, "ms_per_report": round(total / n * 1000, 3), "cpu_ms_per_report": round(cpu / n * 1000, 3),
            "reports_per_s_one_thread": round(n / total, 1),
            "pieces_ms_per_report": per, "cprofile_ms_per_report": round(profiled / n * 1000, 3),
            "cprofile_by_tottime": _trim(by_tottime), "cprofile_by_cumulative": _trim(text.getvalue())}


def _trim(report: str) -> str:
    lines = report.splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(line.replace(str(ROOT) + "/", "").replace(sys.prefix, "<venv>") for line in lines[start:] if line.strip())


# --- main -------------------------------------------------------------------------------------------------


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", nargs="+", default=["spatialite", "postgis"], choices=["spatialite", "postgis"])
    parser.add_argument("--clients", type=int, nargs="+", default=[4, 8, 16], help="concurrent connections, one run each")
    parser.add_argument("--seconds", type=float, default=15.0, help="load time per run")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--points", type=int, default=4000, help="distinct report points, cycled")
    parser.add_argument("--profile-reports", type=int, default=500, help="in-process reports to profile (0: none)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/report_load.json")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark drives the server with wrk: apt-get install wrk")
    shape = CityShape()
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
              "city": {"grids": shape.grids}, "clients": args.clients, "seconds_per_run": args.seconds,
              "server_workers": args.workers, "goal": GOAL, "stores": {}}
    categories = answerable(load_taxonomy())
    rows = []
    with tempfile.TemporaryDirectory(prefix="geogrid-report-load-") as tmp:
        for kind in args.stores:
            folder = Path(tmp) / kind
            folder.mkdir()
            with store(kind, folder) as url:
                loaded = fill(url, shape)
                add_leader(url)
                points, owners = sample_points(url, args.points)
                print(f"{kind}: {loaded}; {len(points)} report points", flush=True)
                result = report["stores"][kind] = {"loaded": loaded, "runs": []}
                run_id = secrets.token_hex(3)
                with server(url, folder, args.workers) as base:
                    bearer = leader_token(base)
                    meter = CpuMeter(base, url)
                    warm = load(base, bearer, max(args.clients), args.warmup, folder, f"w{run_id}", points, categories)
                    result["warmup"] = {k: v for k, v in warm.items() if k != "acknowledged"} | check(
                        url, warm["tag"], warm["acknowledged"], owners)
                    for n in args.clients:
                        before = load_average()
                        cpu = meter.read()
                        row = load(base, bearer, n, args.seconds, folder, f"r{run_id}c{n}", points, categories)
                        row.update(CpuMeter.used(cpu, meter.read()))
                        answered = max(row["requests"], 1)
                        row["server_cpu_ms_per_request"] = round(row["server_cpu_s"] / answered * 1000, 2)
                        row["postgres_cpu_ms_per_request"] = round(row["postgres_cpu_s"] / answered * 1000, 2)
                        row.update(check(url, row["tag"], row.pop("acknowledged"), owners), load_before=before)
                        row["reports_per_s"] = round(row["created_201"] / row["seconds"], 1)
                        result["runs"].append(row)
                        rows.append((kind, row))
                        print(f"  {n:3d} connections: {row['reports_per_s']:6.1f} reports/s  p50 {row['p50_ms']:6.1f}  "
                              f"p95 {row['p95_ms']:6.1f}  p99 {row['p99_ms']:6.1f} ms  non-2xx {row['non_2xx']}  "
                              f"socket errors {row['socket_errors']}  201s {row['created_201']}  stored {row['stored']}  "
                              f"lost {row['lost']}  without grid {row['without_grid']}  CPU/request: server "
                              f"{row['server_cpu_ms_per_request']} ms, postgres {row['postgres_cpu_ms_per_request']} ms  "
                              f"(load before: {before})",
                              flush=True)
                        if row["error_samples"]:
                            print("    first errors:", *row["error_samples"], sep="\n      ")
                if args.profile_reports:
                    before = load_average()
                    prof = profile_in_process(url, points, args.profile_reports, f"prof{run_id}")
                    result["in_process"] = prof | {"load_before": before}
                    print(f"  in-process: {prof['ms_per_report']} ms per report, {prof['cpu_ms_per_report']} ms CPU "
                          f"({prof['reports_per_s_one_thread']}/s on one thread; load before {before})")
                    for piece, ms in prof["pieces_ms_per_report"].items():
                        print(f"    {piece:45s} {ms:7.3f} ms")
                    print(prof["cprofile_by_tottime"])
    print()
    print(markdown(rows))
    met = [r for k, r in rows if k == "postgis" and r["reports_per_s"] >= GOAL["reports_per_s"]
           and r["p95_ms"] < GOAL["p95_ms"] and r["lost"] == 0 and r["non_2xx"] == 0 and r["socket_errors"] == 0]
    if "postgis" in args.stores:
        report["goal_met_on_postgis_at_clients"] = [r["clients"] for r in met]
        print(f"\ngoal (>= {GOAL['reports_per_s']} reports/s, p95 < {GOAL['p95_ms']} ms, none lost) on PostGIS: "
              + (f"met at {report['goal_met_on_postgis_at_clients']} connections" if met else "NOT met"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


def markdown(rows: list[tuple[str, dict]]) -> str:
    lines = ["| store | connections | reports/s | p50 ms | p95 ms | p99 ms | non-2xx | socket errors | 201s | stored | lost | "
             "stored, cut off | without grid | server CPU ms/req | postgres CPU ms/req | load before |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for kind, r in rows:
        lines.append(f"| {'PostGIS' if kind == 'postgis' else 'SpatiaLite'} | {r['clients']} | {r['reports_per_s']:.0f} | "
                     f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['non_2xx']} | {r['socket_errors']} | "
                     f"{r['created_201']:,} | {r['stored']:,} | {r['lost']} | {r['stored_not_acknowledged']} | "
                     f"{r['without_grid']} | {r['server_cpu_ms_per_request']} | {r['postgres_cpu_ms_per_request']} | "
                     f"{r['load_before']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

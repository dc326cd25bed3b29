"""The leader page in headless Chromium over 8,000 grids and 1,000,000 incidents, against a folium page that inlines it all.

A fresh store (SpatiaLite by default, or PostGIS) gets the synthetic city of ``bench/city.py`` (one
district, 10 streets, 200 communities, 8,000 published grids) and 1,000,000 incidents over 2025 in
bulk (``bench/stats.py``: COPY on PostgreSQL, executemany on SQLite), and a leader of the district.
uvicorn serves it on 127.0.0.1 in its own process. Headless Chromium (Playwright, /usr/bin/chromium)
opens /maps/leader as the leader, each time in a fresh browser context with the HTTP cache off, and
we record:

- time to interactive: from navigation start until leader.js resolves ``window.geogridReady`` (the
  heat map, the choropleth and the table drawn), after the first run (a cold server) median of the rest;
- bytes transferred: every response's encoded length as Chromium's network layer reports it (CDP
  ``Network.loadingFinished``: headers and body as sent), until the network is idle, and per request.

The reference is the page one would write with folium alone: a HeatMap of 100,000 of the incidents
and the 8,000 grids as one GeoJson layer, inlined in one HTML file (its scripts from our vendored
copies), served by a plain HTTP server on loopback and opened the same way; its time is until the load
event and two animation frames after it (the heat map drawn).

    .venv/bin/python bench/leader_page.py                      # results in bench/results/
    .venv/bin/python bench/leader_page.py --incidents 200000 --runs 3 --store postgis
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import stats as stats_bench  # noqa: E402  (bench/stats.py: the store, the incidents and their bulk load)

from geogrid.db.engine import make_engine  # noqa: E402
from geogrid.db.session import session_scope  # noqa: E402
from geogrid.store.plans import published_grids  # noqa: E402
from geogrid.store.users import add_user  # noqa: E402

CHROMIUM = os.environ.get("GEOGRID_CHROMIUM", "/usr/bin/chromium")
LEADER, PASSWORD = "bench-leader", secrets.token_urlsafe(12)
DISTRICT = stats_bench.DISTRICT
VIEWPORT = {"width": 1280, "height": 800}
GOAL_SECONDS, GOAL_BYTES = 2.0, 5_000_000


# --- store and server ---------------------------------------------------------------------------------------


def fill(kind: str, url: str, count: int) -> dict[str, object]:
    """The city, count incidents and a leader of the district."""
    loaded = stats_bench.fill(kind, url, count)
    engine = make_engine(url)
    with session_scope(engine) as session:
        add_user(session, LEADER, PASSWORD, "leader", DISTRICT)
    engine.dispose()
    return loaded


@contextlib.contextmanager
def server(url: str, folder: Path) -> Iterator[str]:
    """uvicorn (one worker) serving the app on a free loopback port, in its own process group."""
    port = _free_port()
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "GEOGRID_DATABASE_URL": url, "GEOGRID_DATA_DIR": str(folder), "GEOGRID_DEMO": "false",
           "GEOGRID_SECRET_KEY": secrets.token_urlsafe(32), "PYTHONPATH": path}
    command = [sys.executable, "-m", "uvicorn", "api.app:served_app", "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--no-access-log", "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server stopped with code {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/openapi.json", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start within a minute")
            time.sleep(0.3)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        process.wait(timeout=30)


@contextlib.contextmanager
def static_server(folder: Path) -> Iterator[str]:
    """A plain HTTP server over folder on a free loopback port (for the reference page)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def token(base: str) -> str:
    answer = httpx.post(base + "/api/v1/auth/token", data={"username": LEADER, "password": PASSWORD}, timeout=30)
    answer.raise_for_status()
    return answer.json()["access_token"]


# --- the reference: folium alone ------------------------------------------------------------------------------


def reference_page(url: str, folder: Path, points: int) -> dict[str, object]:
    """Write folder/reference.html: folium, a HeatMap of `points` incidents and every grid as GeoJson, inlined."""
    import folium
    import numpy as np
    from folium.plugins import HeatMap

    from maps.assets import localize

    engine = make_engine(url)
    with session_scope(engine) as session:
        grids = published_grids(session, DISTRICT)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT lat, lon FROM incidents WHERE lat IS NOT NULL").fetchall()
    engine.dispose()
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(rows), size=min(points, len(rows)), replace=False)
    started = time.perf_counter()
    centre = grids.geometry.union_all().centroid
    m = folium.Map(location=[centre.y, centre.x], zoom_start=12, tiles=None, prefer_canvas=True)
    HeatMap([[rows[i][0], rows[i][1]] for i in chosen], radius=12).add_to(m)
    folium.GeoJson(grids[["grid_code", "households", "geometry"]].to_json(), name="grids",
                   style_function=lambda _: {"color": "#555", "weight": 1, "fillOpacity": 0.1}).add_to(m)
    localize(m, prefix="/static/vendor")
    path = folder / "reference.html"
    m.save(str(path))
    (folder / "static").symlink_to(ROOT / "maps" / "static", target_is_directory=True)
    return {"points": int(len(chosen)), "grids": int(len(grids)), "html_bytes": path.stat().st_size,
            "build_seconds": round(time.perf_counter() - started, 2)}


# --- measuring in Chromium ----------------------------------------------------------------------------------


def open_once(browser, url: str, token_: str | None, ready_js: str) -> dict[str, object]:
    """Open url in a fresh context (cache off); seconds until ready_js is true, bytes per request, API timings."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    if token_:
        context.add_cookies([{"name": "geogrid_token", "value": token_, "url": url}])
        context.add_init_script(f"window.localStorage.setItem('geogrid_token', '{token_}');")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    urls: dict[str, str] = {}
    sizes: dict[str, int] = {}
    bodies: dict[str, int] = {}
    errors: list[str] = []
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.dataReceived", lambda e: bodies.__setitem__(e["requestId"], bodies.get(e["requestId"], 0)
                                                                 + e["dataLength"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url, wait_until="commit", timeout=180_000)
    page.wait_for_function(ready_js, timeout=180_000, polling=20)
    seconds = page.evaluate("(window.geogridReadyAt || window.referenceReadyAt) / 1000")
    page.wait_for_load_state("networkidle", timeout=180_000)
    timing = page.evaluate("""() => ({
        dom: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd / 1000,
        load: performance.getEntriesByType('navigation')[0].loadEventEnd / 1000,
        resources: performance.getEntriesByType('resource').map(e => ({
          url: e.name, start: e.startTime / 1000, wait: (e.responseStart - e.requestStart) / 1000,
          end: e.responseEnd / 1000}))})""")
    context.close()
    per_url = {_short(urls.get(rid, rid)): n for rid, n in sizes.items()}
    return {"seconds": round(seconds, 3), "bytes": sum(sizes.values()), "body_bytes": sum(bodies.values()),
            "requests": len(sizes), "per_request_bytes": per_url, "dom_content_loaded_s": round(timing["dom"], 3),
            "load_s": round(timing["load"], 3),
            "api": {_short(r["url"]): {"start_s": round(r["start"], 3), "server_wait_s": round(r["wait"], 3),
                                       "end_s": round(r["end"], 3)}
                    for r in timing["resources"] if "/api/" in r["url"]},
            "errors": errors}


def _short(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def repeat(browser, url: str, token_: str | None, ready_js: str, runs: int) -> dict[str, object]:
    """A first (cold) run, then runs more: the median seconds and the last run's detail."""
    first = open_once(browser, url, token_, ready_js)
    rest = [open_once(browser, url, token_, ready_js) for _ in range(runs)]
    last = rest[-1] if rest else first
    times = [r["seconds"] for r in rest] or [first["seconds"]]
    print(f"  first {first['seconds']:.2f} s, runs {', '.join(f'{t:.2f}' for t in times)} s; "
          f"{last['bytes'] / 1e6:.2f} MB in {last['requests']} requests", flush=True)
    return {"first_seconds": first["seconds"], "seconds": times, "median_seconds": round(statistics.median(times), 3),
            "bytes": last["bytes"], "body_bytes": last["body_bytes"], "requests": last["requests"],
            "detail": last, "first_detail": first}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", default="spatialite", choices=["spatialite", "postgis"])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--reference-points", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    results: dict[str, object] = {"machine": platform.platform(), "python": platform.python_version(),
                                  "cpus": os.cpu_count(), "store": args.store, "incidents": args.incidents}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with stats_bench.store(args.store, folder) as url:
            print(f"{args.store}: loading the city and {args.incidents:,} incidents", flush=True)
            results["load"] = fill(args.store, url, args.incidents)
            print(f"  {results['load']}", flush=True)
            site = folder / "reference"
            site.mkdir()
            results["reference_page"] = reference_page(url, site, args.reference_points)
            print(f"reference page: {results['reference_page']}", flush=True)
            with sync_playwright() as p, server(url, folder) as base, static_server(site) as plain:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
                print("leader page", flush=True)
                results["leader_page"] = repeat(browser, base + "/maps/leader", token(base),
                                                "window.geogridReadyAt !== undefined", args.runs)
                print("folium reference", flush=True)
                ready = ("document.readyState === 'complete' && (window.referenceReadyAt || (requestAnimationFrame("
                         "() => requestAnimationFrame(() => { window.referenceReadyAt = performance.now(); })), false))")
                results["folium_reference"] = repeat(browser, plain + "/reference.html", None, ready, args.runs)
                browser.close()
    leader, reference = results["leader_page"], results["folium_reference"]
    results["goal"] = {"seconds": GOAL_SECONDS, "bytes": GOAL_BYTES,
                       "met": leader["median_seconds"] < GOAL_SECONDS and leader["bytes"] < GOAL_BYTES}
    print(f"leader page: {leader['median_seconds']:.2f} s, {leader['bytes'] / 1e6:.2f} MB; "
          f"folium reference: {reference['median_seconds']:.2f} s, {reference['bytes'] / 1e6:.2f} MB")
    out = ROOT / "bench" / "results" / f"leader_page-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"written {out}")


if __name__ == "__main__":
    main()

"""The application factory: settings, database, job runner, error handlers and routers."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette_compress import CompressMiddleware, add_compress_type

from api import auth
from api.background import JobRunner
from api.deps import SessionSlots
from api.docs import add_docs
from api.notify import Notifier
from api.openapi import use_gis_conventions
from api.error_schema import document_errors
from api.errors import DEFAULT_STATUS_CODES, add_exception_handlers
from api.guards import Guards
from api.security import LoginThrottle
from api.routers import (
    assessment,
    cameras,
    editing,
    grids,
    hierarchy,
    imports,
    incidents,
    jobs,
    media,
    ogc,
    open311,
    pages,
    plans,
    stats,
    tiles,
)
from geogrid import __version__
from geogrid.db.loop_pool import loop_pool
from geogrid.db.engine import WRITE, make_engine, read_options, single_statement_options
from geogrid.db.session import make_sessionmaker
from geogrid.db.version import VersionReader
from api.settings import Settings, get_settings
from geogrid.store import placement
from geogrid.store.answers import AnswerCache
from geogrid.store.incident_columns import columns_of
from geogrid.store.photo_store import photo_store
from maps.assets import static_dir

REQUEST_THREADS = 8  # threads running synchronous endpoints; more only contend for the GIL
# requests holding a database session at once (the rest wait, without a thread); no more than the threads,
# so that a request holding a lock (SQLite's write lock, a row lock) always finds a thread to commit in
# while the others wait for that lock in theirs
REQUEST_SESSIONS = REQUEST_THREADS
JOB_WORKERS = 2
ANSWER_CACHE_BYTES = 128 * 2**20
# JSON, GeoJSON and vector tiles are compressed, with brotli for clients that accept it and gzip for the others
# (1,000 buildings: 2.4 MB of GeoJSON); brotli quality 4 and gzip level 5 get most of the gain for a fraction of
# the CPU. starlette-compress compresses only the types it lists (text, JSON, GeoJSON, XML, MVT, ...): files that
# are compressed already (zip, XLSX, PNG, JPEG) are left alone; ours that it does not list are added here
COMPRESS = {"minimum_size": 1000, "brotli_quality": 4, "gzip_level": 5, "zstd": False}
COMPRESSED_TYPES = ("text/csv", "application/geopackage+sqlite3", "application/schema+json",
                    "application/vnd.oai.openapi+json", "application/vnd.google-earth.kml+xml")
for _type in COMPRESSED_TYPES:
    add_compress_type(_type)
# a connection for each request session, job and the statistics warm-up, kept open (no connect per request);
# the overflow serves endpoints that open a second session of their own
POOL = {"pool_size": REQUEST_SESSIONS + JOB_WORKERS + 1, "max_overflow": 10, "pool_recycle": 1800}
DESCRIPTION = (
    "Grid management (网格化管理): the district → street/town → community hierarchy, second-level grids "
    "and their plan versions. Sign in at POST /api/v1/auth/token and send the token as "
    "'Authorization: Bearer <token>'."
)
TAGS = [
    {"name": "Accounts", "description": "Sign in and see who you are."},
    {"name": "Hierarchy", "description": "The area tree with roll-ups of the published grids."},
    {"name": "Grids", "description": "Second-level grids as GeoJSON."},
    {"name": "Partition jobs", "description": "Automatic partition of a community in the background."},
    {"name": "Plans", "description": "Plan versions: list, view, compare, publish, export."},
    {"name": "Imports", "description": "Upload source layers, all or nothing."},
    {"name": "Cameras", "description": "Camera points, their coverage per grid, the cameras nearest a case."},
    {"name": "Incidents", "description": "Reports placed in grids, escalated and closed (吹哨报到), with their trace."},
    {"name": "Statistics", "description": "Closure statistics per area and week; density per grid, H3 cell, heat and hot spots."},
    {"name": "Open311", "description": "Open311 GeoReport v2 at /open311/v2 for 311 apps: services (categories) and "
     "service requests (incidents) in XML or JSON; discovery at /open311/discovery.{xml,json}."},
]
# Routes are matched in this order, each router's in turn: incidents first, since reports are the busiest writes
# (it was tenth: a report was matched against every route of the nine before it). No path of theirs matches a path
# of the routers it now precedes, so every request still goes to the same route.
ROUTERS = (
    incidents, auth, hierarchy, grids, jobs, plans, imports, editing, ogc, tiles, media, cameras, stats, assessment,
    open311, pages,
)


def served_app(settings: Settings | None = None) -> FastAPI:
    """The API as `geogrid serve` runs it: create_app's, whose objects made at start are frozen (gc.freeze) once
    its lifespan has begun. They live as long as the process, and the collector's full passes walked them all
    again: at 700 reports/s, 1 report in 100 waited about 190 ms for one (p99 186-191 ms; frozen, 48-53 ms).
    Not for tests, whose many apps would never be collected."""
    return create_app(settings, freeze_at_start=True)


def create_app(settings: Settings | None = None, freeze_at_start: bool = False) -> FastAPI:
    """The API over the store settings point at (default: GEOGRID_* environment variables)."""
    settings = settings or get_settings()
    engine = make_engine(str(settings.database_url), **POOL)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
        await anyio.to_thread.run_sync(runner.fail_orphans)
        if app.state.loop_pool is not None:
            await app.state.loop_pool.open()
        if settings.demo:
            settings.demo = await anyio.to_thread.run_sync(_demo_store, app)
        if settings.warm_statistics:
            threading.Thread(target=_warm_statistics, args=(app,), name="warm-statistics", daemon=True).start()
        if freeze_at_start:
            gc.freeze()
        yield
        runner.shutdown()
        if app.state.loop_pool is not None:
            await app.state.loop_pool.close()
        app.state.notifier.close()
        app.state.versions.close()
        engine.dispose()

    app = FastAPI(title="geogrid", version=__version__, description=DESCRIPTION, openapi_tags=TAGS, lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # our own /docs and /redoc (api.docs), with no CDN
    app.state.settings = settings
    app.state.engine = engine
    app.state.photos = photo_store(settings)  # the photo folder or S3 bucket (no connection until a photo)
    app.state.notifier = Notifier(settings.webhook_retries, settings.webhook_backoff_seconds,
                                  settings.webhook_timeout_seconds)
    app.state.sessions = make_sessionmaker(engine)
    app.state.read_sessions = make_sessionmaker(engine.execution_options(**read_options(engine)))
    app.state.write_sessions = make_sessionmaker(engine.execution_options(**{WRITE: True}))
    app.state.report_sessions = make_sessionmaker(engine.execution_options(**single_statement_options(engine)))
    app.state.session_slots = SessionSlots(REQUEST_SESSIONS)
    app.state.store_key = placement.store_key(engine)  # whose kept grid layout reports are placed by
    # reports on PostgreSQL are written from the event loop (geogrid.store.incidents.report_on_loop), over a pool
    # of their own opened by the lifespan
    app.state.loop_pool = (loop_pool(str(settings.database_url), REQUEST_SESSIONS)
                           if engine.dialect.name == "postgresql" else None)
    # SQLite has one writer at a time: writing requests queue here, in order, rather than in SQLite's busy
    # handler, which sleeps between tries
    app.state.write_slots = SessionSlots(1) if engine.dialect.name == "sqlite" else app.state.session_slots
    app.state.answers = AnswerCache(ANSWER_CACHE_BYTES)  # tiles, GeoJSON and the hierarchy, per data version
    app.state.versions = VersionReader(str(settings.database_url))
    app.state.principals = {}  # bearer token -> (data version, expiry, signed-in user); see api.deps.current_user
    runner = JobRunner(app.state.write_sessions, workers=JOB_WORKERS)
    app.state.jobs = runner  # its jobs live in the store: any worker answers their polling
    app.state.login_throttle = LoginThrottle(settings.login_account_failures, settings.login_address_failures,
                                             settings.login_lock_seconds, settings.login_window_seconds)
    add_exception_handlers(app, DEFAULT_STATUS_CODES)
    document_errors(app)
    for module in ROUTERS:
        app.include_router(module.router)
    app.add_middleware(Guards)  # NUL, sign-in before a body, body limits, security headers: one layer
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")  # the maps' scripts, styles, fonts
    add_docs(app)
    use_gis_conventions(app)
    app.add_middleware(CompressMiddleware, **COMPRESS)
    return app


def _demo_store(app: FastAPI) -> bool:
    """Whether demo mode may stay on: only over a store made from the sample (said loudly in the log); else off."""
    from api import demo

    logger = logging.getLogger("geogrid.api")
    try:
        with app.state.sessions() as session:
            sample = demo.made_from_sample(session)
    except Exception:  # noqa: BLE001 - a store not migrated yet: no demo key for it
        sample = False
    if sample:
        logger.warning(demo.DEMO_WARNING)
    else:
        logger.warning("demo mode is off: the store was not made from the sample district")
    return sample


def _warm_statistics(app: FastAPI) -> None:
    """Read the incident columns for statistics once at start, so that the first leader does not wait for it."""
    try:
        with app.state.sessions() as session:
            columns_of(session)
    except Exception:  # noqa: BLE001 - a store not migrated yet, or gone: the first request will say so
        logging.getLogger("geogrid.api").warning("could not prepare the statistics at start", exc_info=True)

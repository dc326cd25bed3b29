"""`geogrid serve`: migrate the store, fill an empty embedded one with the demo district, run the API."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from api.settings import Settings

err = Console(stderr=True)
# uvloop and httptools (both installed by uvicorn[standard]) by name: "auto" would fall back to asyncio's loop
# and h11 (slower per request) without a word if either went missing
SERVER = {"loop": "uvloop", "http": "httptools"}


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="SQLAlchemy URL (default: GEOGRID_DATABASE_URL or the embedded file)."),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (each with its own memory; jobs and data live in the store).")
    ] = 1,
) -> None:
    """Start the HTTP API (docs at /docs). An empty embedded store in demo mode gets the sample district first."""
    import uvicorn
    from sqlalchemy.exc import ArgumentError, OperationalError

    from api.app import served_app
    from geogrid.errors import InputError
    from api.settings import get_settings

    settings = Settings(database_url=database_url) if database_url else get_settings()
    try:
        prepare(settings)
    except (InputError, ArgumentError, OperationalError) as exc:
        err.print(
            "[bold red]error:[/]", escape(" ".join(str(getattr(exc, "orig", None) or exc).split())), highlight=False
        )
        raise typer.Exit(2) from None
    say_photo_store(settings)
    if workers == 1:
        uvicorn.run(served_app(settings), host=host, port=port, **SERVER)
        return
    # each worker process builds its app from the environment: pass on what the command line chose
    os.environ["GEOGRID_DATABASE_URL"] = str(settings.database_url)
    os.environ.setdefault("GEOGRID_DATA_DIR", str(settings.data_dir))
    os.environ.setdefault("GEOGRID_DEMO", str(bool(settings.demo)).lower())
    uvicorn.run("api.app:served_app", factory=True, host=host, port=port, workers=workers, **SERVER)


def prepare(settings: Settings) -> None:
    """Run the migrations; on an empty embedded store in demo mode, load the demo district and users. Demo mode
    (published passwords, the demo Open311 key) stays on only for a store made from the sample, and says so."""
    from api import demo
    from geogrid.db.engine import make_engine
    from geogrid.db.migrate import upgrade
    from geogrid.db.session import session_scope

    url = str(settings.database_url)
    upgrade(url)
    if not settings.demo:
        return
    engine = make_engine(url)
    users: list = []
    try:
        with session_scope(engine) as session:
            if settings.embedded and demo.is_empty(session):
                err.print("empty store: loading the sample district (a few seconds)…")
                users = demo.load(session, demo.sample_layers(), say=err.print)
            sample = demo.made_from_sample(session)
    finally:
        engine.dispose()
    if not sample:
        settings.demo = False
        err.print("[bold yellow]demo mode is off:[/] this store was not made from the sample district, so no demo "
                  "key or password applies to it", highlight=False)
        return
    for user in users:
        err.print(
            f"demo user {user.username!r} ({user.role}, scope {user.scope}), password {user.password!r}",
            soft_wrap=True,
        )
    err.print(f"[bold white on red] {escape(demo.DEMO_WARNING)} [/]", highlight=False)


def say_photo_store(settings: Settings) -> None:
    """Say where case photos are kept, or that the store does not answer now (the service starts all the same: its
    uploads answer 503 until the store answers)."""
    from geogrid.store.photo_store import LocalFolder, StoreUnavailable, photo_store

    store = photo_store(settings)
    where = f"{store.label} {settings.photo_dir}" if isinstance(store, LocalFolder) else \
        f"{store.label} at {settings.media_s3_endpoint_url or 'AWS S3'}"
    try:
        store.check()
    except StoreUnavailable as exc:
        err.print(f"[bold yellow]warning:[/] {escape(str(exc))} (photos: {escape(where)})", highlight=False,
                  soft_wrap=True)
        return
    err.print(f"photos are kept in the {escape(where)}", highlight=False, soft_wrap=True)

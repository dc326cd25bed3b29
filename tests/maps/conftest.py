"""Fixtures for page tests: Debian's Chromium, headless, driven by Playwright, and a folder for screenshots."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path(os.environ.get("GEOGRID_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


@dataclass
class PageLog:
    """A browser page and what it did: requested URLs, console errors and uncaught page errors."""

    page: Page
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def remote_requests(self) -> list[str]:
        """Requested URLs that are not local (file:, data:, about:, blob:)."""
        return [url for url in self.requests if not url.startswith(LOCAL_SCHEMES)]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium; the test fails (never skips) when it is not installed."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh (it installs Debian's chromium package)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page_log(browser: Browser) -> Iterator[PageLog]:
    """A fresh 1280x800 page whose requests, console errors and page errors are recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    log = PageLog(page)
    page.on("request", lambda request: log.requests.append(request.url))
    page.on("console", lambda msg: log.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))
    yield log
    context.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """tests/artifacts (git-ignored): screenshots and other files a person may look at after a run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# --- the running service -------------------------------------------------------------------------------------


@dataclass
class LiveService:
    """geogrid served by uvicorn on 127.0.0.1 over a seeded store (the sample district with cases and cameras)."""

    base_url: str
    settings: object
    users: dict[str, tuple[str, str]]
    store_url: str

    def token(self, username: str) -> str:
        """A bearer token for a seeded user."""
        from api.tokens import create_token

        return create_token(self.settings, username)  # type: ignore[arg-type]

    def open(self, browser: Browser, username: str | None, path: str, *, viewport: dict | None = None,
             csp: bool = False) -> PageLog:
        """A new page signed in as username (None: signed out) that has opened path; requests and errors logged.
        The pages' Content-Security-Policy forbids eval, which Playwright's wait_for_function needs: it is
        bypassed unless csp is True (tests/maps/test_pages.py opens every page with it enforced)."""
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800}, locale="zh-CN",
                                      bypass_csp=not csp)
        if username:
            token = self.token(username)
            context.add_cookies([{"name": "geogrid_token", "value": token, "url": self.base_url, "httpOnly": True,
                                  "sameSite": "Strict"}])
        page = context.new_page()
        log = PageLog(page)
        page.on("request", lambda request: log.requests.append(request.url))
        page.on("console", lambda msg: log.console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))
        page.goto(self.base_url + path)
        return log

    def remote(self, log: PageLog) -> list[str]:
        """Requests of the page to any host but this service."""
        return [u for u in log.remote_requests() if not u.startswith(self.base_url)]


@pytest.fixture(scope="session")
def live_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """The app with every router, over a SpatiaLite copy of a seeded sample district, served on a free port."""
    from api import demo
    from geogrid.sample.district import build
    from tests.api.conftest import PASSWORD, extra_users, make_settings, migrate_or_fail
    from geogrid.db.engine import make_engine
    from geogrid.db.session import session_scope
    from geogrid.store.users import add_user

    folder = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{folder / 'store.sqlite'}"
    layers = build(households=8000, seed=0, incidents=1500, cameras=40)
    kinds = {kind: layers[name] for kind, name in (demo.SAMPLE_FILES | {e: e for e in demo.SAMPLE_EXTRAS}).items()}
    migrate_or_fail(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        users = {u.username: (u.role, u.scope) for u in demo.load(session, kinds)}
        streets = sorted(kinds["streets"]["street_code"].astype(str))
        first = min(c for c, s in zip(kinds["communities"]["community_code"], kinds["communities"]["street_code"])
                    if s == streets[0])
        for username, role, scope in extra_users(streets, first):
            add_user(session, username, PASSWORD, role, scope)
            users[username] = (role, scope)
    engine.dispose()
    settings = make_settings(url, folder).model_copy(update={"max_upload_mb": 20})
    with serving(settings) as base_url:
        yield LiveService(base_url, settings, users, url)


@contextmanager
def serving(settings: object) -> Iterator[str]:
    """The app with these settings served by uvicorn on a free port of 127.0.0.1: its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    from api.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the service did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

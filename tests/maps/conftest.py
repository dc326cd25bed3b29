"""Fixtures for page tests: Debian's Chromium, headless, driven by Playwright, and a folder for screenshots."""

from __future__ import annotations

import os
from collections.abc import Iterator
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

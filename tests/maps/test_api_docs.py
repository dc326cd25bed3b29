"""/docs (Swagger UI) and /redoc in Chromium: each draws the API and asks nothing of any host but ours.

Every request the page makes is recorded (those to other hosts are then refused, so that the test does not
depend on the network); the CSP is bypassed so that a request it would block is seen all the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Route

from tests.api.conftest import make_settings, migrate_or_fail
from tests.maps.conftest import serving

PAGES = {"/docs": ".opblock", "/redoc": "[data-section-id]"}  # what shows the API is drawn
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over an empty store (the documentation reads nothing from it), served on a free port."""
    folder = tmp_path_factory.mktemp("docs")
    url = f"sqlite:///{folder / 'store.sqlite'}"
    migrate_or_fail(url)
    with serving(make_settings(url, folder)) as served:
        yield served


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("path", PAGES)
def test_the_api_docs_ask_nothing_of_another_host(browser: Browser, base_url: str, path: str, viewport: str,
                                                   artifacts_dir: Path) -> None:
    context = browser.new_context(viewport=VIEWPORTS[viewport], bypass_csp=True)
    requests: list[str] = []
    errors: list[str] = []

    def only_ours(route: Route) -> None:
        if route.request.url.startswith((base_url + "/", "data:", "blob:")):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_ours)
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(base_url + path)
        page.wait_for_selector(PAGES[path], timeout=60_000)  # the operations are drawn
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(artifacts_dir / f"api{path.replace('/', '-')}-{viewport}.png"))
    finally:
        context.close()
    assert errors == []
    assert base_url + "/openapi.json" in requests
    assert any(url.startswith(base_url + "/static/vendor/") and url.endswith(".js") for url in requests)
    others = [url for url in requests if not url.startswith((base_url + "/", "data:", "blob:"))]
    assert others == [], f"{path} asked other hosts for {others}"

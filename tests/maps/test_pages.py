"""The map pages behind sign-in: the login page works in a real browser and each role lands on its page."""

from __future__ import annotations

from maps.assets import external_urls


def test_signing_in_in_the_browser_leads_to_the_page_of_the_role(live_service, browser, artifacts_dir) -> None:
    log = live_service.open(browser, None, "/maps/leader", csp=True)
    page = log.page
    assert "/maps/login" in page.url
    page.fill("#username", "leader")
    page.fill("#password", "wrong-password")
    page.click("button[type=submit]")
    page.wait_for_selector("#login-error:has-text('错误')")
    page.fill("#password", "leader-demo")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/maps/leader" in url and "/login" not in url)
    cookie = next(c for c in page.context.cookies() if c["name"] == "geogrid_token")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"  # the token is out of every script's reach
    assert "geogrid_token" not in page.evaluate("document.cookie")
    assert page.evaluate("Object.keys(window.localStorage)") == []
    assert log.page_errors == [] and live_service.remote(log) == []
    page.screenshot(path=str(artifacts_dir / "page_login_then_leader.png"))
    page.context.close()


def test_a_role_cannot_open_another_roles_page(live_service, browser) -> None:
    for username, path in (("worker", "/maps/planner"), ("worker", "/maps/leader"), ("leader", "/maps/worker"),
                           ("planner", "/maps/leader")):
        log = live_service.open(browser, username, path)
        assert "不能打开" in log.page.inner_text("#refusal"), (username, path)
        log.page.context.close()


def test_the_login_page_loads_nothing_from_elsewhere(live_service) -> None:
    import httpx

    html = httpx.get(live_service.base_url + "/maps/login?lang=en").text
    assert external_urls(html) == [] and "Sign in" in html


def test_every_page_works_under_its_content_security_policy(live_service, browser) -> None:
    for username, path in (("planner", "/maps/planner"), ("worker", "/maps/worker"), ("leader", "/maps/leader")):
        log = live_service.open(browser, username, path, csp=True)
        log.page.wait_for_selector(".leaflet-container .leaflet-map-pane", state="attached")
        log.page.wait_for_load_state("networkidle")
        blocked = [e for e in log.console_errors if "Content Security Policy" in e]
        assert blocked == [] and log.page_errors == [], (path, blocked, log.page_errors)
        assert log.page.evaluate("typeof window.geogrid.api") == "function"
        log.page.context.close()

"""The map pages behind sign-in: the login page works in a real browser and each role lands on its page."""

from __future__ import annotations

from maps.assets import external_urls


def test_signing_in_in_the_browser_leads_to_the_page_of_the_role(live_service, browser, artifacts_dir) -> None:
    log = live_service.open(browser, None, "/maps/leader")
    page = log.page
    assert "/maps/login" in page.url
    page.fill("#username", "leader")
    page.fill("#password", "wrong-password")
    page.click("button[type=submit]")
    page.wait_for_selector("#login-error:has-text('错误')")
    page.fill("#password", "leader-demo")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/maps/leader" in url and "/login" not in url)
    assert page.evaluate("window.localStorage.getItem('geogrid_token')")
    assert log.page_errors == [] and live_service.remote(log) == []
    page.screenshot(path=str(artifacts_dir / "page_login_then_leader.png"))
    page.context.close()


def test_a_role_cannot_open_another_roles_page(live_service, browser) -> None:
    for username, path in (("worker", "/maps/planner"), ("worker", "/maps/leader"), ("leader", "/maps/worker"),
                           ("planner", "/maps/leader")):
        log = live_service.open(browser, username, path)
        assert "does not open" in log.page.content(), (username, path)
        log.page.context.close()


def test_the_login_page_loads_nothing_from_elsewhere(live_service) -> None:
    import httpx

    html = httpx.get(live_service.base_url + "/maps/login?lang=en").text
    assert external_urls(html) == [] and "Sign in" in html

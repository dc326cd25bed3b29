"""The leader page in a real browser against the running service: the heat map, the choropleth and the table
drawn from the statistics API, drilling down, the category and time filters, the playback, a leader of one
community, English labels and a phone screen."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

PAGE = "/maps/leader"
NUMBERS = ("count", "closure_rate", "overdue_open", "closed_late", "median_hours_to_close", "per_1000_households")


def api(live_service, username: str, path: str, **params) -> dict:
    answer = httpx.get(live_service.base_url + path, params=params, timeout=60,
                       headers={"Authorization": f"Bearer {live_service.token(username)}"})
    answer.raise_for_status()
    return answer.json()


def opened(live_service, browser, username: str = "leader", path: str = PAGE, **kwargs):
    """The page, once leader.js says the heat map, the choropleth and the table are drawn."""
    log = live_service.open(browser, username, path, **kwargs)
    log.page.wait_for_function("window.geogridReadyAt !== undefined", timeout=30_000)
    log.page.wait_for_load_state("networkidle")
    return log


def table(page) -> dict[str, dict[str, str]]:
    """The table's rows: code -> {key: data-value} of every cell, and the name shown."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#area-table tbody tr[data-code]')]
        .map(tr => [tr.dataset.code, Object.fromEntries([...tr.cells].map(td =>
            [td.dataset.key, td.dataset.key === 'name' ? td.textContent : td.dataset.value]))]))""")


def assert_table_equals(page, rows: list[dict]) -> None:
    shown = table(page)
    assert list(shown) == [r["code"] for r in rows]
    for row in rows:
        cells = shown[row["code"]]
        assert cells["name"] == (row["name"] or row["code"])
        for key in NUMBERS:
            if row[key] is None:
                assert cells[key] == "", (row["code"], key)
            else:
                assert float(cells[key]) == pytest.approx(row[key], rel=1e-12, abs=1e-12), (row["code"], key)


def drawn_paths(page) -> list[str]:
    """Codes of the choropleth's SVG paths on the map."""
    return page.eval_on_selector_all(".leaflet-overlay-pane svg path[data-code]", "ps => ps.map(p => p.dataset.code)")


def heat_pixels(page) -> int:
    """How many pixels of the heat layer's canvas are painted."""
    return page.evaluate("""() => { const c = document.querySelector('canvas.leaflet-heatmap-layer');
        if (!c || !c.width || !c.height) return 0;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")


def api_requests(log, path: str) -> list[dict[str, list[str]]]:
    return [parse_qs(urlsplit(u).query) for u in log.requests if urlsplit(u).path == path]


def wait_for_table(page, rows: list[dict]) -> None:
    codes = [r["code"] for r in rows]
    page.wait_for_function("""codes => { const shown = [...document.querySelectorAll('#area-table tbody tr[data-code]')]
        .map(tr => tr.dataset.code); return JSON.stringify(shown) === JSON.stringify(codes); }""", arg=codes)


def test_the_page_draws_heat_choropleth_and_the_table_of_the_api(live_service, browser, artifacts_dir) -> None:
    log = opened(live_service, browser)
    page = log.page
    scope = live_service.users["leader"][1]
    assert log.console_errors == [] and log.page_errors == []
    assert live_service.remote(log) == []
    assert page.locator("canvas.leaflet-heatmap-layer").count() == 1 and heat_pixels(page) > 1000
    heat = api(live_service, "leader", "/api/v1/density/heat", area=scope, zoom=13)
    assert heat["points"] and len(heat["points"]) < heat["total"]  # aggregated cells, not one point per case
    streets = api(live_service, "leader", "/api/v1/density/areas", area=scope, level="street")
    assert sorted(drawn_paths(page)) == sorted(f["id"] for f in streets["features"]) and len(streets["features"]) > 1
    rows = api(live_service, "leader", "/api/v1/stats/areas", area=scope, level="street")["rows"]
    assert sum(r["count"] for r in rows) > 0
    assert_table_equals(page, rows)
    shown = page.inner_text("#area-table tbody")
    first = rows[0]
    assert f"{first['closure_rate'] * 100:.1f}%" in shown and str(first["count"]) in shown
    assert "领导驾驶舱" in page.inner_text("#title") and "办结率" in page.inner_text("#area-table thead")
    assert not any("/api/v1/incidents" in u for u in log.requests)  # never every raw case
    page.screenshot(path=str(artifacts_dir / "leader_page.png"))
    page.context.close()


def test_clicking_a_street_drills_down_to_its_communities(live_service, browser, artifacts_dir) -> None:
    log = opened(live_service, browser)
    page = log.page
    streets = api(live_service, "leader", "/api/v1/stats/areas", level="street")["rows"]
    street = max(streets, key=lambda r: r["count"])
    communities = api(live_service, "leader", "/api/v1/stats/areas", area=street["code"], level="community")["rows"]
    page.locator(f".leaflet-overlay-pane svg path[data-code='{street['code']}']").click(force=True)
    wait_for_table(page, communities)
    page.wait_for_load_state("networkidle")
    assert_table_equals(page, communities)
    assert sorted(drawn_paths(page)) == sorted(r["code"] for r in communities)
    assert street["name"] in page.inner_text("#crumbs")
    # a table row goes one level further: the community's grids
    community = next(r for r in communities if r["count"])
    grids = api(live_service, "leader", "/api/v1/stats/areas", area=community["code"], level="grid")["rows"]
    page.click(f"#area-table tr[data-code='{community['code']}']")
    wait_for_table(page, grids)
    assert_table_equals(page, grids)
    page.wait_for_function("n => document.querySelectorAll('.leaflet-overlay-pane svg path[data-code]').length === n",
                           arg=len(grids))
    # and the crumbs lead back up
    page.click("#crumbs a >> nth=0")
    wait_for_table(page, streets)
    assert log.console_errors == [] and log.page_errors == []
    page.context.close()


def test_the_category_and_time_filters_change_the_table(live_service, browser) -> None:
    log = opened(live_service, browser)
    page = log.page
    every = api(live_service, "leader", "/api/v1/stats/areas", level="street")["rows"]
    categories = api(live_service, "leader", "/api/v1/taxonomy")["categories"]
    chosen = next(code for code in categories
                  if any(r["count"] for r in api(live_service, "leader", "/api/v1/stats/areas", level="street",
                                                 category=code)["rows"]))
    page.select_option("#category", chosen)
    one = api(live_service, "leader", "/api/v1/stats/areas", level="street", category=chosen)["rows"]
    assert [r["count"] for r in one] != [r["count"] for r in every]
    page.wait_for_function("""total => [...document.querySelectorAll('#area-table td[data-key=count]')]
        .reduce((s, td) => s + Number(td.dataset.value), 0) === total""", arg=sum(r["count"] for r in one))
    page.wait_for_load_state("networkidle")
    assert_table_equals(page, one)
    heat = api_requests(log, "/api/v1/density/heat")
    assert heat[-1]["category"] == [chosen]
    # a time window: the second half of the weeks
    weeks = api(live_service, "leader", "/api/v1/stats/trend", category=chosen)["weeks"]
    since = weeks[len(weeks) // 2]["week_start"]
    page.fill("#since", since)
    page.dispatch_event("#since", "change")
    windowed = api(live_service, "leader", "/api/v1/stats/areas", level="street", category=chosen, since=since)["rows"]
    assert sum(r["count"] for r in windowed) < sum(r["count"] for r in one)
    page.wait_for_function("""total => [...document.querySelectorAll('#area-table td[data-key=count]')]
        .reduce((s, td) => s + Number(td.dataset.value), 0) === total""", arg=sum(r["count"] for r in windowed))
    page.wait_for_load_state("networkidle")
    assert_table_equals(page, windowed)
    page.wait_for_function("since => document.getElementById('window').innerText.startsWith('地图与表格显示: 全时段 ' + since)",
                           arg=since, timeout=10_000)  # the trend answers after the table
    assert log.console_errors == [] and log.page_errors == []
    page.context.close()


def test_playback_steps_the_heat_map_week_by_week(live_service, browser) -> None:
    log = opened(live_service, browser)
    page = log.page
    weeks = api(live_service, "leader", "/api/v1/stats/trend")["weeks"]
    assert len(weeks) > 3
    page.click("#play")
    page.wait_for_function("Number(document.getElementById('window').dataset.step) >= 2", timeout=15_000)
    page.click("#play")  # pause
    step = int(page.get_attribute("#window", "data-step"))
    page.wait_for_timeout(1500)
    assert int(page.get_attribute("#window", "data-step")) == step  # paused
    text = page.inner_text("#window")
    assert weeks[step]["week_start"] in text and f"第 {step + 1} 周 / 共 {len(weeks)} 周" in text
    windows = [(q["since"][0], q["until"][0]) for q in api_requests(log, "/api/v1/density/heat") if "since" in q]
    assert [w[0] for w in windows[:3]] == [weeks[i]["week_start"] for i in range(3)]
    assert all(w[0] < w[1] for w in windows)
    assert page.locator("#trend rect.current").count() == 1
    page.click("#whole")
    page.wait_for_function("document.getElementById('window').dataset.step === ''")
    assert "since" not in api_requests(log, "/api/v1/density/heat")[-1]
    assert log.console_errors == [] and log.page_errors == []
    page.context.close()


def test_a_leader_of_one_community_sees_only_it(live_service, browser) -> None:
    log = opened(live_service, browser, "leader_c")
    page = log.page
    community = live_service.users["leader_c"][1]
    grids = api(live_service, "leader_c", "/api/v1/stats/areas", level="grid")["rows"]
    assert grids and all(r["code"].startswith(community) for r in grids)
    assert_table_equals(page, grids)
    assert drawn_paths(page) and all(code.startswith(community) for code in drawn_paths(page))
    for path in ("/api/v1/density/areas", "/api/v1/density/heat", "/api/v1/stats/trend"):
        asked = api_requests(log, path)
        assert asked and all(q["area"] == [community] for q in asked), path
    assert page.locator("#area-table tr.leader-drill").count() == 0  # grids are the bottom
    assert log.console_errors == [] and log.page_errors == []
    page.context.close()


def test_english_and_a_phone_screen(live_service, browser, artifacts_dir) -> None:
    log = opened(live_service, browser, "leader", PAGE + "?lang=en")
    page = log.page
    assert "Closure rate" in page.inner_text("#area-table thead") and "Leader dashboard" in page.inner_text("#title")
    assert "All categories" in page.inner_text("#category")
    page.context.close()
    log = opened(live_service, browser, "leader_s", viewport={"width": 390, "height": 844})
    page = log.page
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    assert page.locator("#area-table tbody tr[data-code]").count() > 0
    assert heat_pixels(page) > 0 and drawn_paths(page)
    assert page.locator("#panel").bounding_box()["y"] > page.locator(".folium-map").bounding_box()["y"]
    page.screenshot(path=str(artifacts_dir / "leader_phone.png"))
    assert log.console_errors == [] and log.page_errors == [] and live_service.remote(log) == []
    page.context.close()


def test_the_h3_and_hot_spot_layers_load_when_switched_on(live_service, browser) -> None:
    log = opened(live_service, browser)
    page = log.page
    assert not api_requests(log, "/api/v1/density/h3") and not api_requests(log, "/api/v1/density/hotspots")
    page.check(".leaflet-control-layers-overlays label:nth-child(3) input")
    page.wait_for_function("window.geogridLeader.layers.h3.getLayers().length > 0")
    cells = api(live_service, "leader", "/api/v1/density/h3", area=live_service.users["leader"][1],
                zoom=api_requests(log, "/api/v1/density/h3")[-1]["zoom"][0])
    assert page.evaluate("window.geogridLeader.layers.h3.getLayers().length") == len(cells["features"])
    page.check(".leaflet-control-layers-overlays label:nth-child(4) input")
    page.wait_for_load_state("networkidle")
    assert api_requests(log, "/api/v1/density/hotspots")
    assert log.console_errors == [] and log.page_errors == []
    page.context.close()


def last_request(log, path: str) -> dict[str, list[str]]:
    asked = api_requests(log, path)
    assert asked, path
    return asked[-1]


def settled(page) -> None:
    """Wait until every load the page started has answered and been drawn."""
    page.evaluate("window.geogridLeader.settled()")


def show_step(page, step: int) -> None:
    """Move the week slider to step, as a user dragging it does."""
    page.evaluate("""step => { const s = document.getElementById('step'); s.value = String(step);
        s.dispatchEvent(new Event('input')); }""", step)
    page.wait_for_function("step => document.getElementById('window').dataset.step === String(step)", arg=step)
    settled(page)


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_every_layer_and_the_table_follow_the_time_window(live_service, browser, artifacts_dir, viewport) -> None:
    log = opened(live_service, browser, viewport=viewport)
    page = log.page
    scope = live_service.users["leader"][1]
    weeks = api(live_service, "leader", "/api/v1/stats/trend")["weeks"]
    whole = api(live_service, "leader", "/api/v1/stats/areas", level="street")["rows"]
    page.evaluate("""() => { const map = window[JSON.parse(document.getElementById('geogrid-config').textContent).mapName];
        const layers = window.geogridLeader.layers; map.addLayer(layers.h3); map.addLayer(layers.spots); }""")
    settled(page)
    page.select_option("#width", "2")
    page.select_option("#speed", "225")
    assert page.evaluate("window.geogridLeader.state.stepMs") == 225
    step = len(weeks) // 2
    show_step(page, step)
    since, until = weeks[step]["week_start"], weeks[step + 2]["week_start"]  # two weeks: until is excluded
    for path in ("/api/v1/density/heat", "/api/v1/density/areas", "/api/v1/density/h3", "/api/v1/density/hotspots"):
        asked = last_request(log, path)
        assert (asked["since"], asked["until"], asked["area"]) == ([since], [until], [scope]), path
    rows = api(live_service, "leader", "/api/v1/stats/areas", level="street", since=since, until=until)["rows"]
    assert [r["count"] for r in rows] != [r["count"] for r in whole]
    assert_table_equals(page, rows)
    cells = api(live_service, "leader", "/api/v1/density/h3", area=scope, since=since, until=until,
                zoom=last_request(log, "/api/v1/density/h3")["zoom"][0])
    assert page.evaluate("window.geogridLeader.layers.h3.getLayers().length") == len(cells["features"])
    label = page.inner_text("#window")
    total = weeks[step]["count"] + weeks[step + 1]["count"]
    assert label.startswith(f"地图与表格显示: {since} – ") and f"第 {step + 1}–{step + 2} 周 / 共 {len(weeks)} 周" in label
    assert f"{total} 件" in label
    assert page.locator("#trend rect.current").count() == 2
    # the hot spots of that window: drawn when there are any, else said on the map instead of a blank layer
    spots = api(live_service, "leader", "/api/v1/density/hotspots", area=scope, since=since, until=until)
    marked = [f for f in spots["features"] if str(f["properties"].get("label", "")).startswith(("hot", "cold"))]
    notice = page.locator(".leader-notice")
    assert notice.is_visible() == (not marked)
    assert page.evaluate("window.geogridLeader.layers.spots.getLayers().length") == len(marked)
    if not marked:
        assert notice.inner_text() == "当前时段没有显著的热点或冷点"
    # one legend per layer on the map, none for a layer switched off
    shown = page.eval_on_selector_all(".leader-legends .leader-legend:not(.hidden)", "ls => ls.map(l => l.dataset.layer)")
    assert shown == ["heat", "areas", "h3", "spots"]
    assert "每千户案件数" in page.inner_text(".leader-legend[data-layer=areas]")
    page.screenshot(path=str(artifacts_dir / f"leader_window_{viewport['width']}.png"))
    page.evaluate("""() => window[JSON.parse(document.getElementById('geogrid-config').textContent).mapName]
        .removeLayer(window.geogridLeader.layers.h3)""")
    assert page.locator(".leader-legend[data-layer=h3]").is_hidden()
    # the whole period again: every layer and the table without a window
    page.click("#whole")
    page.wait_for_function("document.getElementById('window').dataset.step === ''")
    settled(page)
    for path in ("/api/v1/density/heat", "/api/v1/density/areas", "/api/v1/density/hotspots"):
        assert "since" not in last_request(log, path), path
    assert_table_equals(page, whole)
    assert page.inner_text("#window").startswith("地图与表格显示: 全时段 ")
    assert log.console_errors == [] and log.page_errors == [] and live_service.remote(log) == []
    page.context.close()


def test_the_hot_spot_notice_replaces_a_blank_layer(live_service, browser, artifacts_dir) -> None:
    """One week of cases is too few for a significant hot spot anywhere: the map says so."""
    log = opened(live_service, browser)
    page = log.page
    scope = live_service.users["leader"][1]
    weeks = api(live_service, "leader", "/api/v1/stats/trend")["weeks"]
    quiet = next(i for i, w in enumerate(weeks)
                 if not [f for f in api(live_service, "leader", "/api/v1/density/hotspots", area=scope,
                                        since=w["week_start"], until=weeks[i + 1]["week_start"])["features"]
                         if str(f["properties"].get("label", "")).startswith(("hot", "cold"))])
    page.check(".leaflet-control-layers-overlays label:nth-child(4) input")
    show_step(page, quiet)
    assert page.locator(".leader-notice").is_visible()
    assert page.locator(".leader-notice").inner_text() == "当前时段没有显著的热点或冷点"
    assert "当前时段没有显著的热点或冷点" in page.inner_text(".leader-legend[data-layer=spots]")
    page.screenshot(path=str(artifacts_dir / "leader_no_hot_spots.png"))
    page.click("#whole")
    page.wait_for_function("document.getElementById('window').dataset.step === ''")
    settled(page)
    whole = api(live_service, "leader", "/api/v1/density/hotspots", area=scope)
    any_spot = any(str(f["properties"].get("label", "")).startswith(("hot", "cold")) for f in whole["features"])
    assert page.locator(".leader-notice").is_visible() == (not any_spot)
    assert log.console_errors == [] and log.page_errors == []
    page.context.close()


ADD_H3 = """() => window[JSON.parse(document.getElementById('geogrid-config').textContent).mapName]
    .addLayer(window.geogridLeader.layers.h3)"""


def test_the_legends_are_one_control_closed_on_a_phone(live_service, browser, artifacts_dir) -> None:
    """On a 390x844 phone the legends are one button at the map's corner (closed at first); opened, they show only
    the legends of the layers on the map. On a desktop they are open at first."""
    log = opened(live_service, browser, viewport={"width": 390, "height": 844})
    page = log.page
    settled(page)
    toggle = page.locator(".leader-legend-toggle")
    assert toggle.get_attribute("aria-expanded") == "false" and toggle.get_attribute("title") == "展开图例"
    assert page.locator(".leader-legend-body").is_hidden()
    on = page.evaluate("""() => { const map = window[JSON.parse(document.getElementById('geogrid-config')
        .textContent).mapName]; const layers = window.geogridLeader.layers;
        return Object.keys(layers).filter(name => map.hasLayer(layers[name])); }""")
    assert on == ["heat", "areas"] and toggle.inner_text() == "图例 · 2"
    closed = page.locator(".leader-legends").bounding_box()
    map_box = page.locator(".folium-map").bounding_box()
    assert closed["width"] * closed["height"] < 0.02 * map_box["width"] * map_box["height"]  # a button, not a panel
    page.screenshot(path=str(artifacts_dir / "leader_legends_phone_closed.png"))

    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true" and toggle.get_attribute("title") == "收起图例"
    visible = page.eval_on_selector_all(".leader-legend", "ls => ls.filter(l => l.offsetParent).map(l => l.dataset.layer)")
    assert visible == on
    assert "每千户案件数" in page.inner_text(".leader-legend[data-layer=areas]")
    opened_box = page.locator(".leader-legends").bounding_box()
    assert opened_box["height"] > closed["height"]
    assert abs((opened_box["y"] + opened_box["height"]) - (closed["y"] + closed["height"])) < 2  # the button stays
    page.screenshot(path=str(artifacts_dir / "leader_legends_phone_open.png"))
    page.evaluate(ADD_H3)
    settled(page)
    visible = page.eval_on_selector_all(".leader-legend", "ls => ls.filter(l => l.offsetParent).map(l => l.dataset.layer)")
    assert visible == ["heat", "areas", "h3"] and toggle.inner_text() == "图例 · 3"
    toggle.click()
    assert page.locator(".leader-legend-body").is_hidden() and toggle.get_attribute("aria-expanded") == "false"
    assert log.console_errors == [] and log.page_errors == []
    page.context.close()

    log = opened(live_service, browser, path=PAGE + "?lang=en")
    page = log.page
    toggle = page.locator(".leader-legend-toggle")
    assert toggle.get_attribute("aria-expanded") == "true" and toggle.inner_text() == "Legend · 2"
    assert page.locator(".leader-legend[data-layer=areas]").is_visible()
    page.context.close()

"""The grid worker page in a real browser against the running service: the worker's grid, buildings, open cases
and cameras as the API gives them, on a phone and a desktop; reporting a case by tapping the map; accepting,
handling and escalating cases; English labels; the Amap (GCJ-02) shift; and nothing of another grid."""

from __future__ import annotations

import httpx
import pytest
from shapely.geometry import Point, shape
from shapely.ops import unary_union

PAGE = "/maps/worker"
OPEN_STATES = ("reported", "accepted", "escalated", "dispatched", "checked_in")  # handled: waiting for verification
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


def api(live_service, path: str, username: str = "worker", method: str = "GET", **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {live_service.token(username)}"}
    return httpx.request(method, live_service.base_url + path, headers=headers, timeout=60, **kwargs)


def scope(live_service) -> str:
    return live_service.users["worker"][1]


def open_cases(live_service) -> list[dict]:
    params = [("area", scope(live_service)), ("limit", 1000)] + [("status", s) for s in OPEN_STATES]
    answer = api(live_service, "/api/v1/incidents", params=params)
    answer.raise_for_status()
    return answer.json()["items"]


def case(live_service, incident_id: int) -> dict:
    answer = api(live_service, f"/api/v1/incidents/{incident_id}")
    answer.raise_for_status()
    return answer.json()


def opened(live_service, browser, path: str = PAGE, viewport: dict | None = None, block_tiles: bool = False):
    """The page, once worker.js says the grid, buildings, cases and cameras are drawn."""
    log = live_service.open(browser, "worker", path, viewport=viewport)
    log.page.wait_for_function("window.geogridReadyAt !== undefined || window.geogridError !== undefined",
                               timeout=30_000)
    assert log.page.evaluate("window.geogridError") is None
    log.page.wait_for_load_state("networkidle")
    return log


def shown(page) -> dict[str, list[str]]:
    """What the page shows: ids of the grid, building paths, case markers, case rows, overdue rows, cameras."""
    return page.evaluate("""() => {
        const ids = (sel, key) => [...document.querySelectorAll(sel)].map(n => n.dataset[key]);
        return {grid: ids('.leaflet-overlay-pane path[data-grid]', 'grid'),
                buildings: ids('.leaflet-overlay-pane path[data-building]', 'building'),
                markers: ids('.leaflet-marker-pane .worker-case[data-id]', 'id'),
                rows: ids('#case-list li[data-id]', 'id'),
                overdue: ids('#case-list li.worker-overdue[data-id]', 'id'),
                building_rows: ids('#building-list li[data-building]', 'building'),
                cameras: ids('.leaflet-marker-pane .worker-camera[data-camera]', 'camera')}; }""")


def free_spot(live_service) -> tuple[float, float]:
    """A WGS-84 point well inside the worker's grid and away from its buildings, cases and cameras."""
    grid = api(live_service, f"/api/v1/grids/{scope(live_service)}").json()
    area = shape(grid["geometry"]).buffer(-0.0002)
    taken = [shape(f["geometry"]).buffer(0.0002) for f in grid["buildings"]["features"]]
    taken += [Point(c["location"]["lon"], c["location"]["lat"]).buffer(0.0003) for c in open_cases(live_service)
              if c["location"]["lon"] is not None]
    cameras = api(live_service, "/api/v1/cameras", params={"near_m": 100}).json()["features"]
    taken += [Point(f["geometry"]["coordinates"]).buffer(0.0003) for f in cameras]
    free = area.difference(unary_union(taken))
    assert not free.is_empty
    point = free.representative_point()
    return point.x, point.y


def tap(page, lon: float, lat: float) -> None:
    """Click the map where the WGS-84 point is drawn (shifted on an Amap base map), once it stands still."""
    page.wait_for_function("""() => { const m = window.geogrid.map();
        return !m._animatingZoom && !(m._panAnim && m._panAnim._inProgress); }""")
    x, y = page.evaluate("""([lon, lat]) => { const m = window.geogrid.map();
        const p = m.latLngToContainerPoint(window.geogrid.toDisplay(lon, lat));
        const box = m.getContainer().getBoundingClientRect(); return [box.left + p.x, box.top + p.y]; }""", [lon, lat])
    page.mouse.click(x, y)


def report_at(live_service, page, lon: float, lat: float, description: str) -> dict:
    """Tap the map at the point, fill the form, submit; the case as the API then stores it."""
    tap(page, lon, lat)
    page.wait_for_selector("#report-form:not(.worker-hidden)")
    page.select_option("#report-category", "city_management")
    page.fill("#report-description", description)
    page.fill("#report-address", "红旗大道165号门口")
    page.click("#report-submit")
    page.wait_for_function("d => document.querySelector('#case-detail:not(.worker-hidden) .worker-desc')?.textContent === d",
                           arg=description)
    incident_id = int(page.get_attribute("#case-detail", "data-id"))
    return case(live_service, incident_id)


def new_case(live_service, description: str) -> dict:
    """A case reported in the worker's grid through the API (status reported, level 1)."""
    lon, lat = free_spot(live_service)
    body = {"category": "environment_sanitation", "description": description,
            "location": {"lon": lon, "lat": lat, "crs": "wgs84"}}
    answer = api(live_service, "/api/v1/incidents", method="POST", json=body)
    answer.raise_for_status()
    created = answer.json()
    assert created["grid_code"] == scope(live_service) and created["status"] == "reported"
    return created


def act_on_page(live_service, page, incident_id: int, action: str, expected: str, note: str = "") -> dict:
    """Open the case from the list, press the action's button (with a note); the case once the API has the new
    status."""
    page.click(f"#case-list li[data-id='{incident_id}'] button")
    # once drawn from the fetched case: a note typed while the detail is drawn again could land in the old field
    page.wait_for_selector(f"#case-detail[data-id='{incident_id}']:not([aria-busy]) button[data-action='{action}']")
    if note:
        page.fill("#action-note", note)
    page.click(f"#case-detail button[data-action='{action}']")
    page.wait_for_selector(f"#case-detail[data-id='{incident_id}'][data-status='{expected}']")
    return case(live_service, incident_id)


@pytest.mark.parametrize("device, viewport", [("phone", PHONE), ("desktop", DESKTOP)])
def test_the_page_shows_the_grid_buildings_open_cases_and_cameras_of_the_api(
    live_service, browser, artifacts_dir, device, viewport
) -> None:
    log = opened(live_service, browser, viewport=viewport)
    page = log.page
    assert log.console_errors == [] and log.page_errors == []
    assert live_service.remote(log) == []
    grid = api(live_service, f"/api/v1/grids/{scope(live_service)}").json()
    cases = open_cases(live_service)
    cameras = api(live_service, "/api/v1/cameras", params={"near_m": 100}).json()["features"]
    on_page = shown(page)
    assert on_page["grid"] == [scope(live_service)]
    buildings = sorted(f["id"] for f in grid["buildings"]["features"])
    assert sorted(on_page["buildings"]) == buildings and sorted(on_page["building_rows"]) == buildings
    assert cases and sorted(on_page["rows"]) == sorted(str(c["id"]) for c in cases)
    assert sorted(on_page["markers"]) == sorted(str(c["id"]) for c in cases if c["location"]["lon"] is not None)
    assert sorted(on_page["overdue"]) == sorted(str(c["id"]) for c in cases if c["overdue"])
    assert any(c["overdue"] for c in cases)  # the sample grid has overdue cases: they stand out
    assert page.locator(".leaflet-marker-pane .worker-case.worker-overdue").count() == sum(c["overdue"] for c in cases)
    assert sorted(on_page["cameras"]) == sorted(f["id"] for f in cameras)
    assert any(f["properties"]["grid_code"] != scope(live_service) for f in cameras)  # cameras near it, too
    assert {f["properties"]["grid_code"] for f in cameras} >= {scope(live_service)}
    # households and addresses of the buildings, Chinese labels and state names by default
    addresses = page.inner_text("#building-list")
    for feature in grid["buildings"]["features"]:
        assert feature["properties"]["address"] in addresses
        assert f"{feature['properties']['households']} 户" in addresses
    assert "我的网格" in page.inner_text("#title") and "待办案件" in page.inner_text("#panel")
    first = page.locator("#case-list li[data-id]").first
    assert cases_by_id(cases)[int(first.get_attribute("data-id"))]["overdue"]  # overdue cases come first
    assert "截止" in first.inner_text() and "已超期" in first.inner_text()
    taxonomy = api(live_service, "/api/v1/taxonomy").json()
    assert taxonomy["states"][cases[0]["status"]]["zh"] in page.inner_text("#case-list")
    if device == "phone":
        assert_phone_layout(page)
    page.screenshot(path=str(artifacts_dir / f"worker_page_{device}.png"))
    page.context.close()


def cases_by_id(cases: list[dict]) -> dict[int, dict]:
    return {c["id"]: c for c in cases}


def assert_phone_layout(page) -> None:
    """The panel is a bottom sheet under the map, nothing overflows sideways, and every case row and the sheet's
    handle are big enough to tap."""
    map_box = page.locator(".folium-map").bounding_box()
    panel_box = page.locator("#panel").bounding_box()
    assert panel_box["y"] >= map_box["y"] + map_box["height"] - 1 and panel_box["width"] >= 380
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for box in [b.bounding_box() for b in page.locator("#case-list li[data-id] button").all()]:
        assert box["height"] >= 44 and box["width"] >= 300
    handle = page.locator("#sheet-handle")
    assert handle.is_visible() and handle.bounding_box()["height"] >= 36
    assert page.evaluate("document.getElementById('panel').scrollLeft") == 0
    handle.click()
    page.wait_for_function("document.querySelector('.folium-map').getBoundingClientRect().height < 844 * 0.4")
    handle.click()
    page.wait_for_function("document.querySelector('.folium-map').getBoundingClientRect().height > 844 * 0.5")
    assert page.evaluate("document.getElementById('panel').scrollLeft") == 0


def test_tapping_the_map_in_the_grid_reports_a_case_there(live_service, browser, artifacts_dir) -> None:
    log = opened(live_service, browser, viewport=PHONE)
    page = log.page
    # a tap outside the grid opens no form
    grid = shape(api(live_service, f"/api/v1/grids/{scope(live_service)}").json()["geometry"])
    minx, miny, maxx, maxy = grid.bounds
    outside = (minx - 0.0004, (miny + maxy) / 2)
    assert not grid.contains(Point(outside))
    page.evaluate("([lon, lat]) => window.geogrid.map().panTo(window.geogrid.toDisplay(lon, lat), {animate: false})",
                  list(outside))
    tap(page, *outside)
    page.wait_for_selector("#geogrid-toast.error")
    assert page.locator("#report-form.worker-hidden").count() == 1
    page.reload()
    page.wait_for_function("window.geogridReadyAt !== undefined", timeout=30_000)
    # a tap inside it, the form, and the case the API then lists in the worker's grid
    lon, lat = free_spot(live_service)
    created = report_at(live_service, page, lon, lat, "井盖缺失，行人易跌落")
    assert created["grid_code"] == scope(live_service) and created["status"] == "reported"
    assert created["category"] == "city_management" and created["channel"] == "grid_patrol"
    assert created["address"] == "红旗大道165号门口" and created["reported_by"] == "worker"
    assert created["location"]["input"]["crs"] == "wgs84"
    assert created["location"]["lon"] == pytest.approx(lon, abs=3e-5)
    assert created["location"]["lat"] == pytest.approx(lat, abs=3e-5)
    assert created["id"] in [c["id"] for c in open_cases(live_service)]
    page.wait_for_selector(f"#case-list li[data-id='{created['id']}']")
    page.wait_for_selector(f".leaflet-marker-pane .worker-case[data-id='{created['id']}']")
    assert sorted(shown(page)["rows"]) == sorted(str(c["id"]) for c in open_cases(live_service))
    assert log.page_errors == [] and live_service.remote(log) == []
    page.screenshot(path=str(artifacts_dir / "worker_page_reported.png"))
    page.context.close()


def test_accepting_handling_and_escalating_from_the_page_change_the_status(live_service, browser, artifacts_dir) -> None:
    first = new_case(live_service, "垃圾桶满溢")
    second = new_case(live_service, "楼道堆放杂物")
    log = opened(live_service, browser, viewport=PHONE)
    page = log.page
    accepted = act_on_page(live_service, page, first["id"], "accept", "accepted")
    assert accepted["status"] == "accepted" and accepted["trace"][-1]["username"] == "worker"
    escalated = act_on_page(live_service, page, first["id"], "escalate", "escalated")
    assert escalated["status"] == "escalated" and escalated["level"] == 2
    assert page.locator("#case-detail button[data-action]").count() == 0  # the community's step now
    assert page.get_attribute(f"#case-list li[data-id='{first['id']}']", "data-status") == "escalated"
    page.screenshot(path=str(artifacts_dir / "worker_page_escalated.png"))
    act_on_page(live_service, page, second["id"], "accept", "accepted")
    handled = act_on_page(live_service, page, second["id"], "handle", "handled", note="已清理")
    assert handled["status"] == "handled" and handled["trace"][-1]["note"] == "已清理"
    # a handled case waits for the community's verification: no longer the worker's open work, on the list or the map
    page.wait_for_selector(f"#case-list li[data-id='{second['id']}']", state="detached")
    assert page.locator(f".leaflet-marker-pane .worker-case[data-id='{second['id']}']").count() == 0
    assert page.get_attribute("#case-detail", "data-status") == "handled"
    assert second["id"] not in [c["id"] for c in open_cases(live_service)]
    assert log.console_errors == [] and log.page_errors == [] and live_service.remote(log) == []
    page.context.close()


def test_english_labels_with_lang_en(live_service, browser) -> None:
    log = opened(live_service, browser, path=PAGE + "?lang=en")
    page = log.page
    taxonomy = api(live_service, "/api/v1/taxonomy").json()
    cases = open_cases(live_service)
    assert "My grid" in page.inner_text("#title") and "Open cases" in page.inner_text("#panel")
    rows = page.inner_text("#case-list")
    for c in cases:
        assert taxonomy["states"][c["status"]]["en"] in rows
        assert taxonomy["categories"][c["category"]]["en"] in rows
    assert "households" in page.inner_text("#building-list")
    options = page.eval_on_selector_all("#report-category option", "os => os.map(o => o.textContent)")
    assert options == ["Choose a category"] + [c["en"] for c in taxonomy["categories"].values()]
    assert log.console_errors == [] and log.page_errors == [] and live_service.remote(log) == []
    page.context.close()


def test_on_an_amap_base_map_layers_are_shifted_and_taps_are_sent_in_wgs84(live_service, browser) -> None:
    log = live_service.open(browser, "worker", PAGE + "?basemap=amap")
    page = log.page
    page.context.route("**/*autonavi.com/**", lambda route: route.fulfill(body=PNG, content_type="image/png"))
    page.reload()
    page.wait_for_function("window.geogridReadyAt !== undefined", timeout=30_000)
    cases = [c for c in open_cases(live_service) if c["location"]["lon"] is not None]
    # a case's marker sits at its GCJ-02 position, some hundreds of metres from the WGS-84 one
    drawn = page.evaluate("""id => { const m = window.geogrid.map();
        const node = document.querySelector(`.worker-case[data-id='${id}']`).getBoundingClientRect();
        const box = m.getContainer().getBoundingClientRect();
        const ll = m.containerPointToLatLng([node.left + node.width / 2 - box.left, node.top + node.height / 2 - box.top]);
        return [ll.lng, ll.lat]; }""", cases[0]["id"])
    gcj = page.evaluate("([lon, lat]) => window.geogrid.wgs84ToGcj02(lon, lat)",
                        [cases[0]["location"]["lon"], cases[0]["location"]["lat"]])
    assert drawn == pytest.approx(gcj, abs=3e-5)
    assert abs(gcj[0] - cases[0]["location"]["lon"]) > 1e-3
    lon, lat = free_spot(live_service)
    created = report_at(live_service, page, lon, lat, "路灯不亮")
    assert created["grid_code"] == scope(live_service)
    assert created["location"]["lon"] == pytest.approx(lon, abs=3e-5)
    assert created["location"]["lat"] == pytest.approx(lat, abs=3e-5)
    assert log.page_errors == []
    assert all("autonavi.com" in u for u in live_service.remote(log))
    page.context.close()


def test_a_worker_sees_only_their_own_grid(live_service, browser) -> None:
    log = opened(live_service, browser)
    page = log.page
    mine = scope(live_service)
    shown_ids = {int(i) for i in shown(page)["rows"]}
    for incident_id in shown_ids:
        assert case(live_service, incident_id)["grid_code"] == mine
    # the page asked for nothing but the worker's own grid
    grid_requests = [u for u in log.requests if "/api/v1/grids/" in u]
    assert grid_requests and all(u.split("/api/v1/grids/")[1].split("?")[0] == mine for u in grid_requests)
    assert all(f"area={mine}" in u for u in log.requests if "/api/v1/incidents?" in u)
    # another grid's case exists (the leader sees it) but the worker's API answers 403
    others = api(live_service, "/api/v1/incidents", "leader", params={"area": mine.rsplit("-", 1)[0], "limit": 50})
    other = next(c for c in others.json()["items"] if c["grid_code"] not in (None, mine))
    assert other["id"] not in shown_ids
    assert api(live_service, f"/api/v1/incidents/{other['id']}").status_code == 403
    assert api(live_service, f"/api/v1/incidents/{other['id']}/actions", method="POST",
               json={"action": "accept"}).status_code == 403
    assert api(live_service, f"/api/v1/grids/{other['grid_code']}").status_code == 403
    # cameras: in the grid only, unless near_m asks for those near it too (each with its distance to the grid)
    inside = api(live_service, "/api/v1/cameras").json()["features"]
    assert inside and {f["properties"]["grid_code"] for f in inside} == {mine}
    near = api(live_service, "/api/v1/cameras", params={"near_m": 100}).json()["features"]
    assert {f["id"] for f in near} > {f["id"] for f in inside}
    assert all(f["properties"]["distance_m"] <= 100 for f in near)
    assert all(f["properties"]["distance_m"] == 0 for f in near if f["properties"]["grid_code"] == mine)
    listed = api(live_service, "/api/v1/incidents", params={"area": other["grid_code"]})
    assert listed.status_code == 403 or listed.json()["total"] == 0
    assert log.console_errors == [] and log.page_errors == []
    page.context.close()

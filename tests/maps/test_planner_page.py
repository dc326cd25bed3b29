"""The planner page in a real browser against the running service: pick a community, see its grids, move a
building by clicking and undo it, run the auto-partition, English labels, a phone screen."""

from __future__ import annotations

import re

import httpx
import pytest
from shapely.geometry import shape

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def api(live_service):
    """An httpx client signed in as the planner."""
    headers = {"Authorization": f"Bearer {live_service.token('planner')}"}
    with httpx.Client(base_url=live_service.base_url + "/api/v1", headers=headers, timeout=60) as client:
        yield client


def community_of_planner(api: httpx.Client) -> tuple[str, str]:
    """(street code, first community code) in the planner's scope."""
    street = api.get("/hierarchy").json()["districts"][0]["children"][0]
    return street["code"], street["children"][0]["code"]


def open_community(live_service, browser, path: str = "/maps/planner", viewport: dict | None = None):
    """The planner page with the planner's street and first community picked (as a user picks them)."""
    log = live_service.open(browser, "planner", path, viewport=viewport)
    page = log.page
    page.wait_for_function("document.querySelectorAll('#street option').length > 1")
    with httpx.Client(base_url=live_service.base_url + "/api/v1",
                      headers={"Authorization": f"Bearer {live_service.token('planner')}"}) as client:
        street, community = community_of_planner(client)
    page.select_option("#street", street)
    page.select_option("#community", community)
    page.wait_for_selector("#grid-table tbody tr")
    page.wait_for_function("!document.body.classList.contains('planner-busy')")
    return log, community


def row_households(page, grid_code: str) -> int:
    return int(page.inner_text(f"#grid-table tr[data-grid='{grid_code}'] td.households"))


def clean(live_service, log) -> None:
    assert log.console_errors == [], log.console_errors
    assert log.page_errors == [], log.page_errors
    assert live_service.remote(log) == []


def test_picking_a_community_shows_its_grids_and_the_table(live_service, browser, api, artifacts_dir) -> None:
    log, community = open_community(live_service, browser)
    page = log.page
    grids = api.get(f"/communities/{community}/grids").json()["features"]
    rows = page.locator("#grid-table tbody tr")
    assert rows.count() == len(grids) > 1
    assert page.inner_text("#grid-table thead").replace("\t", " ").split() == ["网格", "户数", "人口", "楼栋", "规则"]
    first = grids[0]["properties"]
    assert row_households(page, first["grid_code"]) == first["households"]
    assert page.locator(".planner-label").count() == len(grids)  # a label on every grid
    assert page.evaluate("(() => { let n = 0; geogrid.map().eachLayer(l => { if (l.buildingId) n++; }); return n; })()") > 0
    assert "方案版本" in page.inner_text("#plan-box") and re.search(r"v\d+ · ", page.inner_text("#version"))
    page.screenshot(path=str(artifacts_dir / "planner_page.png"))
    clean(live_service, log)
    page.context.close()


def _movable(api: httpx.Client, community: str, plan_id: int) -> tuple[str, str, str, int]:
    """(building, its grid, a neighbouring grid, households): the building closest to another grid."""
    grids = api.get(f"/communities/{community}/grids", params={"plan_id": plan_id}).json()["features"]
    shapes = {g["properties"]["grid_code"]: shape(g["geometry"]) for g in grids}
    best = None
    for code in shapes:
        buildings = api.get(f"/grids/{code}", params={"plan_id": plan_id}).json()["buildings"]["features"]
        for b in buildings:
            if b["properties"]["units"]:
                continue
            footprint = shape(b["geometry"])
            for other, geom in shapes.items():
                if other != code and shapes[code].intersects(geom):
                    d = footprint.distance(geom)
                    if best is None or d < best[0]:
                        best = (d, b["properties"]["building_id"], code, other, b["properties"]["households"])
    assert best is not None
    return best[1:]


def _click_building(page, building_id: str) -> None:
    """Zoom to the building as a user would and click its marker."""
    point = page.evaluate(
        """(id) => { const map = geogrid.map(); let found = null;
             map.eachLayer(l => { if (l.buildingId === id) found = l; });
             map.setView(found.getLatLng(), 18, {animate: false});
             const p = map.latLngToContainerPoint(found.getLatLng());
             const box = map.getContainer().getBoundingClientRect();
             return [box.left + p.x, box.top + p.y]; }""",
        building_id,
    )
    page.mouse.click(point[0], point[1])
    page.wait_for_selector(f".planner-popup:has-text('{building_id}')")


def _grid_of(api: httpx.Client, plan_id: int, grid_code: str) -> set[str]:
    features = api.get(f"/grids/{grid_code}", params={"plan_id": plan_id}).json()["buildings"]["features"]
    return {f["properties"]["building_id"] for f in features}


def test_a_planner_moves_a_building_by_clicking_and_undoes_it(live_service, browser, api, artifacts_dir) -> None:
    log, community = open_community(live_service, browser)
    page = log.page
    page.click("#new-draft")
    page.wait_for_selector("#plan-status:has-text('草稿')")
    page.wait_for_function("!document.body.classList.contains('planner-busy')")
    plan_id = int(page.input_value("#version"))
    assert api.get(f"/plans/{plan_id}").json()["status"] == "draft"
    building, source, target, households = _movable(api, community, plan_id)
    before_source, before_target = row_households(page, source), row_households(page, target)

    _click_building(page, building)
    page.select_option(".planner-popup select.planner-move-to", target)
    page.click(".planner-popup button.planner-move")
    page.wait_for_function(
        "([code, n]) => Number(document.querySelector(`#grid-table tr[data-grid='${code}'] td.households`).textContent) === n",
        arg=[source, before_source - households])
    assert row_households(page, target) == before_target + households
    page.wait_for_function("!document.body.classList.contains('planner-busy')")
    page.screenshot(path=str(artifacts_dir / "planner_moved.png"))
    assert building in _grid_of(api, plan_id, target) and building not in _grid_of(api, plan_id, source)
    assert api.get(f"/plans/{plan_id}").json()["revision"] == 2

    page.click("#undo")
    page.wait_for_function(
        "([code, n]) => Number(document.querySelector(`#grid-table tr[data-grid='${code}'] td.households`).textContent) === n",
        arg=[source, before_source])
    page.wait_for_function("!document.body.classList.contains('planner-busy')")
    assert row_households(page, target) == before_target
    assert building in _grid_of(api, plan_id, source) and building not in _grid_of(api, plan_id, target)
    clean(live_service, log)
    page.context.close()


def test_auto_partition_shows_progress_and_ends_with_a_new_draft(live_service, browser, api) -> None:
    log, community = open_community(live_service, browser)
    page = log.page
    before = {p["id"] for p in api.get(f"/communities/{community}/plans").json()}
    page.click("#auto summary")
    page.fill("input[name=max_population]", "1100")
    page.evaluate("""() => { window.jobTexts = [];
        new MutationObserver(() => window.jobTexts.push(document.getElementById('job-text').textContent))
          .observe(document.getElementById('job-text'), {childList: true, characterData: true, subtree: true}); }""")
    page.click("#run")
    page.wait_for_selector("#job[data-status=succeeded]", timeout=60_000)
    page.wait_for_function("!document.body.classList.contains('planner-busy') && !document.getElementById('run').disabled")
    texts = page.evaluate("window.jobTexts")
    assert any(t.startswith(("划分中", "排队中")) for t in texts), texts
    assert texts[-1] == "完成 100%" and page.eval_on_selector("#job-progress", "e => e.value") == 1
    plans = api.get(f"/communities/{community}/plans").json()
    new = [p for p in plans if p["id"] not in before]
    assert len(new) == 1 and new[0]["status"] == "draft" and new[0]["rules"]["max_population"] == 1100
    page.wait_for_function(f"document.getElementById('version').value === '{new[0]['id']}'")
    assert "草稿" in page.inner_text("#plan-status")
    clean(live_service, log)
    page.context.close()


def test_english_labels_with_lang_en(live_service, browser) -> None:
    log, _ = open_community(live_service, browser, "/maps/planner?lang=en")
    page = log.page
    assert page.inner_text("#grid-table thead").split() == ["Grid", "Households", "Population", "Bldgs", "Rules"]
    assert "Plan version" in page.inner_text("#plan-box") and page.inner_text("#undo") == "Undo"
    assert page.inner_text("#switch-lang") == "中文" and page.title() == "Grid planning"
    clean(live_service, log)
    page.context.close()


def test_a_phone_shows_the_map_and_the_panel(live_service, browser, artifacts_dir) -> None:
    log, _ = open_community(live_service, browser, viewport=PHONE)
    page = log.page
    map_box = page.locator(".folium-map").bounding_box()
    panel_box = page.locator("#panel").bounding_box()
    assert map_box["width"] == PHONE["width"] and map_box["height"] > 300
    assert panel_box["y"] >= map_box["y"] + map_box["height"] - 1 and panel_box["y"] < PHONE["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts_dir / "planner_phone.png"))
    page.locator("#grid-table").scroll_into_view_if_needed()
    assert page.locator("#grid-table tbody tr").first.is_visible()
    page.screenshot(path=str(artifacts_dir / "planner_phone_table.png"))
    clean(live_service, log)
    page.context.close()


def _rows(page) -> list[str]:
    return page.eval_on_selector_all("#grid-table tbody tr", "rows => rows.map(r => r.dataset.grid)")


def _idle(page) -> None:
    page.wait_for_function("!document.body.classList.contains('planner-busy')")


def test_merge_split_compare_and_export_from_the_panel(live_service, browser, api, artifacts_dir) -> None:
    log, community = open_community(live_service, browser)
    page = log.page
    page.click("#new-draft")
    page.wait_for_selector("#plan-status:has-text('草稿')")
    _idle(page)
    plan_id = int(page.input_value("#version"))
    codes = _rows(page)
    first = codes[0]

    page.click(f"#grid-table tr[data-grid='{first}']")  # select a grid, merge its first neighbour into it
    page.wait_for_selector("#grid-tools:not(.hidden)")
    other = page.input_value("#merge-with")
    page.click("#merge")
    page.wait_for_function(f"document.querySelectorAll('#grid-table tbody tr').length === {len(codes) - 1}")
    _idle(page)
    assert other not in _rows(page)
    assert len(api.get(f"/communities/{community}/grids", params={"plan_id": plan_id}).json()["features"]) == len(codes) - 1

    page.click("#compare")
    page.wait_for_selector("#compare-out:not(.hidden)")
    assert "变动楼栋" in page.inner_text("#compare-out")

    page.click("#undo")
    page.wait_for_function(f"document.querySelectorAll('#grid-table tbody tr').length === {len(codes)}")
    _idle(page)

    # split the selected grid along a line drawn across it with Geoman
    page.click(f"#grid-table tr[data-grid='{first}']")
    page.click("#split")
    box = page.evaluate(
        """(code) => { const map = geogrid.map(); let found = null;
             map.eachLayer(l => { if (l.gridCode === code) found = l; });
             const b = found.getBounds(), c = b.getCenter();
             const west = map.latLngToContainerPoint([c.lat, b.getWest()]), east = map.latLngToContainerPoint([c.lat, b.getEast()]);
             const r = map.getContainer().getBoundingClientRect();
             return [r.left + west.x - 15, r.top + west.y, r.left + east.x + 15, r.top + east.y]; }""",
        first,
    )
    page.mouse.click(box[0], box[1])
    page.mouse.dblclick(box[2], box[3])
    page.wait_for_function(f"document.querySelectorAll('#grid-table tbody tr').length === {len(codes) + 1}")
    _idle(page)
    page.screenshot(path=str(artifacts_dir / "planner_split.png"))
    assert len(api.get(f"/communities/{community}/grids", params={"plan_id": plan_id}).json()["features"]) == len(codes) + 1
    page.click("#undo")
    page.wait_for_function(f"document.querySelectorAll('#grid-table tbody tr').length === {len(codes)}")
    _idle(page)

    with page.expect_download() as download:
        page.select_option("#export-format", "geojson")
        page.click("#export")
    assert download.value.suggested_filename.endswith(".geojson")
    clean(live_service, log)
    page.context.close()

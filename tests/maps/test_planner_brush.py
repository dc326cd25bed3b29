"""The planner's brush in a real browser (issue 20): a stroke over several buildings paints them into the target
grid with the counts changing before the button is released, one edit on release, one undo step back; a stroke
the server refuses is rolled back with the reason; per-grid bars show the counts against the rule windows and the
compactness the server sends; mouse on a desktop, touch on a phone."""

from __future__ import annotations

import httpx
import pytest
from shapely.geometry import shape

from .test_planner_page import PHONE, api, clean, open_community, row_households  # noqa: F401 - api is a fixture


def _idle(page) -> None:
    page.wait_for_function("!document.body.classList.contains('planner-busy') && !document.getElementById('brush').disabled")


def new_draft(page, word: str = "草稿") -> int:
    page.click("#new-draft")
    page.wait_for_selector(f"#plan-status:has-text('{word}')")
    _idle(page)
    return int(page.input_value("#version"))


def grids_of(api: httpx.Client, community: str, plan_id: int) -> dict[str, dict]:
    features = api.get(f"/communities/{community}/grids", params={"plan_id": plan_id}).json()["features"]
    return {f["properties"]["grid_code"]: f for f in features}


def buildings_of(api: httpx.Client, plan_id: int, code: str) -> list[dict]:
    return api.get(f"/grids/{code}", params={"plan_id": plan_id}).json()["buildings"]["features"]


def stroke_plan(api: httpx.Client, community: str, plan_id: int, n: int = 3) -> tuple[str, str, list[str]]:
    """(source grid, neighbouring target grid, the n whole buildings of source nearest target)."""
    grids = grids_of(api, community, plan_id)
    best = None
    for code, grid in grids.items():
        whole = [b for b in buildings_of(api, plan_id, code) if not b["properties"]["units"]]
        if len(whole) < n + 2:
            continue
        for other in grid["properties"]["neighbours"]:
            edge = shape(grids[other]["geometry"])
            near = sorted(whole, key=lambda b: shape(b["geometry"]).distance(edge))[:n]
            score = sum(shape(b["geometry"]).distance(edge) for b in near)
            if best is None or score < best[0]:
                best = (score, code, other, [b["properties"]["building_id"] for b in near])
    assert best is not None
    return best[1], best[2], best[3]


def screen_points(page, ids: list[str]) -> list[list[float]]:
    """The buildings' markers on the screen, after zooming to them as a user would, in stroke order."""
    return page.evaluate(
        """(ids) => { const map = geogrid.map(); const found = {};
             map.eachLayer(l => { if (ids.includes(l.buildingId)) found[l.buildingId] = l; });
             const bounds = L.latLngBounds(ids.map(id => found[id].getLatLng()));
             map.fitBounds(bounds, {padding: [60, 60], maxZoom: 18, animate: false});
             const box = map.getContainer().getBoundingClientRect();
             return ids.map(id => { const p = map.latLngToContainerPoint(found[id].getLatLng());
                                    return [box.left + p.x, box.top + p.y]; }); }""",
        ids,
    )


def painted(page, target: str) -> list[str]:
    """The buildings of other grids the page shows in the target grid's colour (what the stroke has painted)."""
    return page.evaluate(
        """(target) => { const colour = document.querySelector(`#grid-bars [data-grid='${target}'] .planner-swatch`)
               .style.background; const probe = document.createElement('i'); const ids = [];
             geogrid.map().eachLayer(l => { if (!l.buildingId || l.gridCode === target) return;
               probe.style.background = l.options.fillColor; if (probe.style.background === colour) ids.push(l.buildingId); });
             return ids.sort(); }""",
        target,
    )


def table(page) -> dict[str, tuple[int, int]]:
    return {code: (h, p) for code, h, p in page.eval_on_selector_all(
        "#grid-table tbody tr", "rows => rows.map(r => [r.dataset.grid, Number(r.querySelector('td.households').textContent),"
        " Number(r.querySelector('td.population').textContent)])")}


def bars(page) -> dict[str, tuple[int, int, str, str, str]]:
    """Per grid: households and residents on its bars, their states and texts, its compactness."""
    rows = page.eval_on_selector_all(
        "#grid-bars .planner-gridbar[data-grid]",
        """rows => rows.map(r => { const h = r.querySelector('[data-kind=households]'),
              p = r.querySelector('[data-kind=population]');
              return [r.dataset.grid, Number(h.dataset.value), Number(p.dataset.value), h.dataset.status + '/' + p.dataset.status,
                      h.textContent + ' | ' + p.textContent, r.querySelector('.planner-compact').dataset.value]; })""")
    return {r[0]: tuple(r[1:]) for r in rows}


def expected_standing(value: int, low: int, high: int) -> tuple[str, str]:
    """The state and text a bar should show for a count in the window low..high (low 0: no floor), near = 10%."""
    if low and value < low:
        return "bad", f"{value} · 低于下限 {low - value}"
    if value > high:
        return "bad", f"{value} · 超出上限 {value - high}"
    room = min(value - low if low else high - value, high - value)
    near = (low and value < low * 1.1) or value > high * 0.9
    return ("near" if near else "good"), f"{value} · 距边界 {room}"


def assert_bars_match(page, grids: dict[str, dict]) -> None:
    shown = bars(page)
    assert set(shown) == set(grids)
    for code, grid in grids.items():
        p = grid["properties"]
        h_state, h_text = expected_standing(p["households"], 300, 500)
        p_state, p_text = expected_standing(p["population"], 0, 1000)
        assert shown[code] == (p["households"], p["population"], f"{h_state}/{p_state}", f"{h_text} | {p_text}",
                               f"{p['compactness']:.4f}"), code


def brush_on(page, target: str, size: int) -> None:
    page.click("#brush")
    page.wait_for_selector("#brush[aria-pressed=true]")
    page.select_option("#brush-target", target)
    page.eval_on_selector("#brush-size", "(e, size) => { e.value = String(size); }", size)


def test_a_stroke_paints_buildings_with_live_counts_is_one_edit_and_one_undo(
        live_service, browser, api, artifacts_dir) -> None:
    log, community = open_community(live_service, browser)
    page = log.page
    plan_id = new_draft(page)
    source, target, chosen = stroke_plan(api, community, plan_id)
    before_grids = grids_of(api, community, plan_id)
    before = table(page)
    assert before == {c: (g["properties"]["households"], g["properties"]["population"]) for c, g in before_grids.items()}
    assert_bars_match(page, before_grids)
    counts = {b["properties"]["building_id"]: (code, b["properties"]["households"], b["properties"]["population"])
              for code in before_grids for b in buildings_of(api, plan_id, code)}

    brush_on(page, target, 10)
    points = screen_points(page, chosen)
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=6)
    # still pressed: the buildings are painted and every count is already the new one, nothing sent yet
    shown = painted(page, target)
    assert set(chosen) <= set(shown) and all(counts[b][0] != target for b in shown)
    expected = dict(before)
    for b in shown:
        code, h, p = counts[b]
        expected[code] = (expected[code][0] - h, expected[code][1] - p)
        expected[target] = (expected[target][0] + h, expected[target][1] + p)
    assert table(page) == expected and expected[target] != before[target] and expected[source] != before[source]
    assert {code: v[:2] for code, v in bars(page).items()} == expected
    live = page.inner_text("#brush-live")
    assert f"刷选中 {len(shown)}栋" in live and f"{before[target][0]}→{expected[target][0]}户" in live
    labels = page.eval_on_selector_all(".planner-label", "ls => ls.map(l => l.textContent)")
    assert f"{target.split('-')[-1]} · {expected[target][0]}户" in labels
    assert f"{source.split('-')[-1]} · {expected[source][0]}户" in labels
    assert api.get(f"/plans/{plan_id}").json()["revision"] == 1
    page.screenshot(path=str(artifacts_dir / "planner_brush_stroke.png"))

    page.mouse.up()
    page.wait_for_function("document.getElementById('plan-status').textContent.endsWith(' 2')")
    _idle(page)
    after_grids = grids_of(api, community, plan_id)
    assert table(page) == expected == {c: (g["properties"]["households"], g["properties"]["population"])
                                       for c, g in after_grids.items()}
    assert {b["properties"]["building_id"] for b in buildings_of(api, plan_id, target)} >= set(shown)
    assert_bars_match(page, after_grids)
    assert after_grids[target]["properties"]["compactness"] != before_grids[target]["properties"]["compactness"]
    page.locator("#bars-box").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "planner_brush_done.png"), full_page=True)

    page.click("#undo")
    page.wait_for_function("document.getElementById('plan-status').textContent.endsWith(' 3')")
    _idle(page)
    assert table(page) == before
    assert_bars_match(page, grids_of(api, community, plan_id))
    assert all(counts[b][0] == code for code in before_grids for b in
               {f["properties"]["building_id"] for f in buildings_of(api, plan_id, code)} if b in shown)
    assert painted(page, target) == []
    clean(live_service, log)
    page.context.close()


def test_a_refused_stroke_is_rolled_back_with_the_reason(live_service, browser, api, artifacts_dir) -> None:
    log, community = open_community(live_service, browser)
    page = log.page
    plan_id = new_draft(page)
    grids = grids_of(api, community, plan_id)
    target = next(iter(grids))
    far = next(c for c in grids if c != target and c not in grids[target]["properties"]["neighbours"])
    building = next(b["properties"]["building_id"] for b in buildings_of(api, plan_id, far) if not b["properties"]["units"])
    before = table(page)
    brush_on(page, target, 6)
    [point] = screen_points(page, [building])
    page.mouse.move(*point)
    page.mouse.down()
    page.mouse.move(point[0] + 2, point[1] + 1, steps=2)
    assert painted(page, target) == [building] and table(page)[far][0] < before[far][0]
    page.mouse.up()
    page.wait_for_selector(".geogrid-toast.error:has-text('刷选未保存')")
    _idle(page)
    assert "网格不相邻" in page.inner_text("#geogrid-toast")
    assert table(page) == before and painted(page, target) == []
    assert page.inner_text("#brush-live").startswith("在地图上按住并拖动")
    assert api.get(f"/plans/{plan_id}").json()["revision"] == 1
    page.screenshot(path=str(artifacts_dir / "planner_brush_refused.png"))
    assert [e for e in log.console_errors if "status of 422" not in e] == [] and log.page_errors == []
    page.context.close()


def test_painting_with_a_finger_on_a_phone(live_service, browser, api, artifacts_dir) -> None:
    log, community = open_community(live_service, browser, viewport=PHONE)
    page = log.page
    plan_id = new_draft(page)
    source, target, chosen = stroke_plan(api, community, plan_id, n=2)
    before = table(page)
    brush_on(page, target, 14)
    page.locator(".folium-map").scroll_into_view_if_needed()
    points = screen_points(page, chosen)
    touch = page.context.new_cdp_session(page)
    touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]})
    for k in range(1, 9):
        x = points[0][0] + (points[1][0] - points[0][0]) * k / 8
        y = points[0][1] + (points[1][1] - points[0][1]) * k / 8
        touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    shown = painted(page, target)
    assert set(chosen) <= set(shown)
    assert table(page)[target][0] > before[target][0]
    page.screenshot(path=str(artifacts_dir / "planner_brush_phone_stroke.png"))
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_function("document.getElementById('plan-status').textContent.endsWith(' 2')")
    _idle(page)
    grids = grids_of(api, community, plan_id)
    assert table(page)[target] == (grids[target]["properties"]["households"], grids[target]["properties"]["population"])
    assert {b["properties"]["building_id"] for b in buildings_of(api, plan_id, target)} >= set(shown)
    assert_bars_match(page, grids)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts_dir / "planner_brush_phone.png"))
    page.locator("#bars-box").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "planner_brush_phone_bars.png"))
    clean(live_service, log)
    page.context.close()


def test_the_brush_and_the_bars_speak_english_with_lang_en(live_service, browser, api) -> None:
    log, community = open_community(live_service, browser, "/maps/planner?lang=en")
    page = log.page
    plan_id = new_draft(page, "draft")
    assert page.inner_text("#brush") == "Paint buildings" and "Paint into grid" in page.inner_text("#brush-box")
    page.click("#brush")
    page.wait_for_selector("#brush[aria-pressed=true]")
    assert page.inner_text("#brush") == "Stop painting" and page.inner_text("#brush-live").startswith("Press and drag")
    assert page.inner_text("#bars-windows") == "window: Households 300–500 · Residents ≤1000"
    grids = grids_of(api, community, plan_id)
    code, grid = next(iter(grids.items()))
    p = grid["properties"]
    text = page.inner_text(f"#grid-bars [data-grid='{code}'] [data-kind=households]")
    if p["households"] < 300:
        assert text == f"{p['households']} · {300 - p['households']} below"
    elif p["households"] > 500:
        assert text == f"{p['households']} · {p['households'] - 500} over"
    else:
        assert text == f"{p['households']} · {min(p['households'] - 300, 500 - p['households'])} to the edge"
    page.click("#brush")
    page.wait_for_selector("#brush[aria-pressed=false]")
    assert page.inner_text("#brush-live") == ""
    clean(live_service, log)
    page.context.close()

"""Every page in Simplified Chinese shows no English message text (visible text, tooltips, titles and the
placeholders of its controls), English on request survives signing in, and the refusal pages speak the user's
language; the pause symbol is drawn, not a font glyph."""

from __future__ import annotations

import re

import pytest

PROPER_NAMES = {"OpenStreetMap", "Leaflet", "JavaScript", "geogrid", "English", "GeoJSON", "GeoPackage", "Shapefile"}
# names (of software and file formats), and the link to the English page
WORD = re.compile(r"[A-Za-z]{4,}")
ALL_TEXT = """() => {
  const seen = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const box = node.parentElement;
    if (!box || ['SCRIPT', 'STYLE'].includes(box.tagName)) continue;
    const style = getComputedStyle(box);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    seen.push(node.textContent);
  }
  document.querySelectorAll('[title], [placeholder], [aria-label], svg title').forEach(n => {
    seen.push(n.getAttribute('title') || '', n.getAttribute('placeholder') || '', n.getAttribute('aria-label') || '');
    if (n.tagName.toLowerCase() === 'title') seen.push(n.textContent);
  });
  document.querySelectorAll('.leaflet-tooltip, .leaflet-popup-content').forEach(n => seen.push(n.textContent));
  return seen.join('\\n');
}"""


def english_words(text: str) -> list[str]:
    """ASCII words of four or more letters that are not codes, numbers or proper names."""
    return sorted({w for w in WORD.findall(text) if w not in PROPER_NAMES})


def wait_drawn(log) -> None:
    page = log.page
    page.wait_for_selector(".leaflet-container .leaflet-map-pane", state="attached")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)


PAGES = [("leader", "/maps/leader"), ("worker", "/maps/worker"), ("planner", "/maps/planner")]


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
@pytest.mark.parametrize(("username", "path"), PAGES, ids=[p for p, _ in PAGES])
def test_a_chinese_page_shows_no_english_message(live_service, browser, artifacts_dir, username, path, viewport) -> None:
    log = live_service.open(browser, username, path, viewport=viewport)
    wait_drawn(log)
    page = log.page
    if username == "leader":
        page.wait_for_function("window.geogridReadyAt !== undefined", timeout=30_000)
        page.evaluate("""() => { const map = window[JSON.parse(document.getElementById('geogrid-config').textContent).mapName];
            const layers = window.geogridLeader.layers; map.addLayer(layers.h3); map.addLayer(layers.spots); }""")
        page.evaluate("window.geogridLeader.settled()")
    shown = page.evaluate(ALL_TEXT).replace(username, "")  # the user's own name is theirs, not a message
    page.screenshot(path=str(artifacts_dir / f"language_zh_{username}_{viewport['width']}.png"))
    assert english_words(shown) == [], " ".join(english_words(shown))
    assert log.page_errors == []
    page.context.close()


def test_the_sign_in_and_refusal_pages_in_chinese(live_service, browser, artifacts_dir) -> None:
    log = live_service.open(browser, None, "/maps/leader")
    assert "/maps/login" in log.page.url
    assert english_words(log.page.evaluate(ALL_TEXT)) == []
    log.page.context.close()
    log = live_service.open(browser, "worker", "/maps/leader")
    page = log.page
    assert english_words(page.evaluate(ALL_TEXT)) == []
    assert "网格员" in page.inner_text("#refusal") and "领导驾驶舱" in page.inner_text("#refusal")
    assert page.evaluate("getComputedStyle(document.querySelector('main')).borderStyle") == "solid"  # our style sheet
    page.screenshot(path=str(artifacts_dir / "language_zh_refused.png"))
    page.click("text=返回我的页面")
    page.wait_for_url(lambda url: "/maps/worker" in url)
    page.context.close()
    log = live_service.open(browser, "worker", "/maps/leader?lang=en")
    assert "The grid worker role may not open the leader page." in log.page.inner_text("#refusal")
    log.page.context.close()


def test_english_survives_signing_in(live_service, browser, artifacts_dir) -> None:
    for start, landing in (("/maps/leader?lang=en", "/maps/leader"), ("/maps/?lang=en", "/maps/leader"),
                           ("/?lang=en", "/maps/leader"), ("/maps/login?lang=en", "/maps/leader")):
        log = live_service.open(browser, None, start, csp=True)
        page = log.page
        assert "/maps/login" in page.url and "lang=en" in page.url, start
        assert page.inner_text("button[type=submit]") == "Sign in"
        page.fill("#username", "leader")
        page.fill("#password", "leader-demo")
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: landing in url and "/login" not in url)
        page.wait_for_selector("#title:has-text('Leader dashboard')")
        assert page.evaluate("new URL(location.href).searchParams.getAll('lang')") == ["en"], start
        assert page.evaluate("JSON.parse(document.getElementById('geogrid-config').textContent).lang") == "en"
        page.context.close()


def test_the_pause_symbol_is_drawn(live_service, browser) -> None:
    log = live_service.open(browser, "leader", "/maps/leader")
    page = log.page
    page.wait_for_function("window.geogridReadyAt !== undefined", timeout=30_000)
    assert page.locator("#play svg.geogrid-icon-play path").count() == 1
    page.wait_for_function("window.geogridLeader.state.weeks.length > 0")  # the trend answers after the map
    page.click("#play")
    page.wait_for_selector("#play svg.geogrid-icon-pause path")
    assert page.inner_text("#play") == "暂停"  # no symbol left to a font
    box = page.locator("#play svg").bounding_box()
    assert box["width"] > 8 and box["height"] > 8
    page.click("#play")
    page.context.close()


FLAGS = [
    {"rule": "max_households", "value": 612, "limit": 500.0, "reason": "612 households, above the maximum of 500"},
    {"rule": "several_parts", "value": 2, "reason": "the grid is in 2 separate parts"},
    {"rule": "building_cut", "building_ids": ["B1", "B2", "B3", "B4", "B5", "B6"], "reason": "6 footprints ..."},
    {"rule": "gap", "area_m2": 202.4, "at": [114.9, 25.8], "reason": "202.4 m² of the community lie in no grid"},
    {"rule": "no_feasible_partition", "proof": "contiguity", "atoms": 9, "cells": 12, "reason": "no partition ..."},
    {"rule": "something_new", "reason": "a rule the catalogue does not know yet"},
]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_flag_reasons_on_pages_match_the_server_catalogue(live_service, browser, lang) -> None:
    from maps.i18n import flag_reason

    log = live_service.open(browser, "leader", f"/maps/leader?lang={lang}")
    page = log.page
    page.wait_for_function("window.geogrid !== undefined")
    shown = page.evaluate("flags => flags.map(f => window.geogrid.flagReason(f))", FLAGS)
    assert shown == [flag_reason(f, lang) for f in FLAGS]
    if lang == "zh":
        assert shown[0] == "612 户，超过上限 500 户" and shown[2] == "6 栋楼的轮廓跨越网格边界：B1、B2、B3、B4、B5…"
        assert english_words("\n".join(shown[:-1]).replace("B1", "")) == []
    assert shown[-1] == "a rule the catalogue does not know yet"
    page.context.close()


def test_an_api_refusal_shows_in_the_pages_language(live_service, browser) -> None:
    for lang, expected in (("zh", "找不到所请求的内容"), ("en", None)):
        log = live_service.open(browser, "leader", f"/maps/leader?lang={lang}")
        page = log.page
        page.wait_for_function("window.geogrid !== undefined")
        error = page.evaluate("""() => window.geogrid.api('/api/v1/grids/no-such-grid').then(() => null,
            e => ({message: e.message, detail: e.detail, status: e.status}))""")
        assert error["status"] == 404
        assert error["message"] == (expected or error["detail"])
        assert english_words(error["detail"])  # the API's own words stay at hand
        page.context.close()


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_a_chinese_plan_shows_rule_names_and_reasons_in_chinese(live_service, browser, artifacts_dir, viewport) -> None:
    from tests.maps.test_planner_page import open_community

    log, _ = open_community(live_service, browser, viewport=viewport)
    page = log.page
    reasons = page.eval_on_selector_all("#grid-table td.bad[title]", "cells => cells.map(c => c.title)")
    assert reasons, "the sample community has grids that break a rule"
    assert all(re.search(r"[\u4e00-\u9fff]", reason) for reason in reasons)
    shown = page.evaluate(ALL_TEXT).replace("planner", "")
    page.screenshot(path=str(artifacts_dir / f"language_zh_plan_{viewport['width']}.png"))
    assert english_words(shown) == [], " ".join(english_words(shown))
    assert log.page_errors == []
    page.context.close()


def _literal_keys(script: str) -> set[str]:
    """The label keys a script names: every quoted word inside a T(...) call, and the verbs given to applyAnswer."""
    keys = {key for call in re.findall(r"\bT\(([^()]*)\)", script) for key in re.findall(r'"([a-z_]+)"', call)}
    return keys | set(re.findall(r'applyAnswer\(.*?, "([a-z_]+)"\)', script))


def test_the_planner_script_takes_every_text_from_the_catalogue() -> None:
    from pathlib import Path

    from maps.i18n import FLAG_REASONS, RULE_NAMES, script_labels

    maps_dir = Path(__file__).resolve().parents[2] / "maps"
    script = (maps_dir / "static" / "js" / "planner.js").read_text(encoding="utf-8")
    template = (maps_dir / "templates" / "planner.html").read_text(encoding="utf-8")
    assert not re.search(r"[\u4e00-\u9fff]", script), "planner.js keeps no Chinese text of its own"
    assert "LABELS" not in script and "g.t(null, key)" in script
    keys = _literal_keys(script) | set(re.findall(r'data-(?:aria-)?label="([a-z_]+)"', template))
    keys |= {"draft", "published", "archived", "queued", "running", "succeeded", "failed"}  # T(p.status), T(job.status)
    keys |= {f"rule.{rule}" for rule in FLAG_REASONS} | {"sign_out", "other"}  # T("rule." + f.rule); labelPage's
    assert {"moved", "saved", "undone", "redone", "draw_hint", "split_hint", "new_draft"} <= keys  # the scan finds them
    assert set(FLAG_REASONS) <= set(RULE_NAMES)
    for lang in ("zh", "en"):
        labels = script_labels("planner", lang)
        assert keys - set(labels) == set(), lang
        assert all(labels[key] for key in keys)
    assert script_labels("planner", "zh")["rule.gap"] == "有空隙" and script_labels("planner", "en")["undo"] == "Undo"


def test_the_english_planner_page_shows_no_chinese_and_no_label_key(live_service, browser) -> None:
    from tests.maps.test_planner_page import open_community

    log, _ = open_community(live_service, browser, path="/maps/planner?lang=en")
    page = log.page
    served = page.evaluate("window.geogrid.config.labels")
    from maps.i18n import script_labels

    assert served == script_labels("planner", "en")
    shown = page.evaluate(ALL_TEXT).replace("中文", "")  # the link to the Chinese page
    for name in page.eval_on_selector_all("#street option, #community option", "os => os.map(o => o.textContent)"):
        shown = shown.replace(name, "")  # the streets' and communities' own names are data
    assert not re.search(r"[\u4e00-\u9fff]", shown), shown
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", shown.replace("planner", "")), "a label key shown as text"
    assert "Compare with published" in shown and "Undo" in shown
    assert log.page_errors == []
    page.context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_refused_action_on_the_worker_page_says_the_catalogues_sentence(live_service, browser, artifacts_dir,
                                                                          lang) -> None:
    """The worker opens a case and presses 受理 after it was accepted meanwhile (from another device): the API
    refuses with workflow.not_allowed_now, and the page says why in its own language, with no English on a
    Chinese page."""
    from maps.i18n import refusal_text
    from tests.maps.test_worker_page import PAGE, PHONE, api, new_case, opened

    created = new_case(live_service, "路灯不亮")
    log = opened(live_service, browser, path=f"{PAGE}?lang={lang}", viewport=PHONE)
    page = log.page
    page.click(f"#case-list li[data-id='{created['id']}'] button")
    page.wait_for_selector(f"#case-detail[data-id='{created['id']}']:not([aria-busy]) button[data-action='accept']")
    elsewhere = api(live_service, f"/api/v1/incidents/{created['id']}/actions", method="POST",
                    json={"action": "accept"})
    assert elsewhere.status_code == 200, elsewhere.text
    page.click("#case-detail button[data-action='accept']")
    page.wait_for_selector("#geogrid-toast.error")
    said = page.inner_text("#geogrid-toast")
    page.screenshot(path=str(artifacts_dir / f"language_{lang}_refused_action_390.png"))
    params = {"action": "accept", "status": "accepted", "level": 1}
    assert said == refusal_text("workflow.not_allowed_now", params, lang)
    if lang == "zh":
        assert said == "案件当前为“处置中”（网格层级），此时不能受理" and english_words(said) == []
    else:
        assert said == "You cannot accept a case that is accepted at the grid level"
    assert log.page_errors == []
    page.context.close()


def test_a_refused_edit_on_the_planner_page_says_the_catalogues_sentence(live_service, browser) -> None:
    """An edit the API refuses (a grid merged with itself: edit.merge_itself on a draft, edit.not_draft on a
    published plan) reaches the Chinese planner page as the catalogue's sentence; the API's words stay at hand."""
    from maps.i18n import refusal_text
    from tests.maps.test_planner_page import open_community

    log, _ = open_community(live_service, browser)
    page = log.page
    error = page.evaluate("""() => { const g = window.geogrid, s = document.querySelector('#version').value;
        const code = document.querySelector('#grid-table tbody tr').dataset.grid;
        return g.api('/api/v1/plans/' + s).then(d => g.api('/api/v1/plans/' + s + '/edits', {method: 'POST',
            json: {op: 'merge', grids: [code, code]}, headers: {'If-Match': d.headers.get('ETag')}}))
          .then(() => null, e => ({message: e.message, detail: e.detail, body: e.body, status: e.status})); }""")
    assert error is not None and error["body"]["code"] in {"edit.merge_itself", "edit.not_draft"}, error
    assert error["message"] == refusal_text(error["body"]["code"], error["body"]["params"], "zh")
    assert english_words(error["message"]) == [] and english_words(error["detail"])
    page.context.close()


REFUSALS = [
    {"code": "workflow.not_allowed_now", "params": {"action": "close", "status": "accepted", "level": 2}},
    {"code": "workflow.not_your_area", "params": {"action": "dispatch", "level": 3}},
    {"code": "publish.hard_rules", "params": {"count": 3, "rules": ["gap", "several_parts"]}},
    {"code": "edit.not_whole", "params": {"flags": [{"rule": "gap", "area_m2": 12.0, "at": [114.9, 25.8]},
                                                    {"rule": "outside_community", "area_m2": 3.5, "at": [1, 2]}]}},
    {"code": "input.too_long", "params": {"field": "description", "length": 4001, "limit": 4000}},
    {"code": "report.unknown_category", "params": {}},
    {"code": "no.such_code", "params": {"x": 1}},
]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_refusals_on_pages_match_the_server_catalogue(live_service, browser, lang) -> None:
    from maps.i18n import refusal_text

    log = live_service.open(browser, "leader", f"/maps/leader?lang={lang}")
    page = log.page
    page.wait_for_function("window.geogrid !== undefined")
    shown = page.evaluate("bodies => bodies.map(b => window.geogrid.refusalSentence(b))", REFUSALS)
    assert shown == [refusal_text(b["code"], b["params"], lang) for b in REFUSALS]
    assert shown[-1] is None and all(shown[:-1])
    if lang == "zh":
        assert english_words("\n".join(shown[:-1])) == []
    page.context.close()

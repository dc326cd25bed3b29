"""The leader page's assessment ranking (考核排名) in a real browser against the running service: the table at each
level the leader's area allows equals GET /api/v1/assessment, it follows the page's filters and time window, the
weights are shown, the export downloads a workbook openpyxl opens with the same numbers (one sheet per level),
in Chinese and English, on a desktop and a phone screen."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook

from tests.maps.test_leader_page import api, api_requests, opened, settled, show_step

FIGURES = ("cases", "checked_in_on_time", "handled_on_time", "median_hours_to_handle", "closure_rate",
           "satisfaction", "reopened", "street_rating", "score")
KEYS = {"department": "department", "street": "street", "community": "community", "grid_worker": "grid_code"}
SHEETS = {"department": "部门", "street": "街道", "community": "社区", "grid_worker": "网格员"}


def open_ranking(page, level: str | None = None) -> None:
    """Open the ranking panel (and choose level), then wait until its table shows that level."""
    if not page.locator("#ranking").evaluate("d => d.open"):
        page.click("#ranking summary")
    if level:
        page.select_option("#ranking-level", level)
    chosen = level or page.input_value("#ranking-level")
    page.wait_for_function("level => document.getElementById('ranking-table').dataset.level === level", arg=chosen)
    settled(page)


def shown(page) -> list[dict[str, str]]:
    """The ranking table's rows: {key: data-value (text for name and worker)} per cell, and the row's code."""
    return page.evaluate("""() => [...document.querySelectorAll('#ranking-table tbody tr[data-code]')].map(tr =>
        Object.assign({code: tr.dataset.code}, Object.fromEntries([...tr.cells].map(td =>
            [td.dataset.key, ['name', 'worker'].includes(td.dataset.key) ? td.textContent : td.dataset.value]))))""")


def assert_ranking_equals(page, level: str, answer: dict) -> None:
    rows = answer["rows"]
    assert rows, level
    table = shown(page)
    assert [r["code"] for r in table] == [r[KEYS[level]] for r in rows]
    for cells, row in zip(table, rows, strict=True):
        assert cells["name"] == row["name"]
        assert cells["rank"] == ("" if row["rank"] is None else str(row["rank"]))
        if level == "grid_worker":
            assert cells["worker"] == (row["worker"] or "—")
        for key in FIGURES:
            if row[key] is None:
                assert cells[key] == "", (level, row["name"], key)
            else:
                assert float(cells[key]) == pytest.approx(row[key], rel=1e-12, abs=1e-12), (level, row["name"], key)


def sheet_rows(sheet) -> tuple[dict[str, object], list[dict[str, object]]]:
    """A sheet's header facts (first column -> second) and its ranking as dicts keyed by the header row."""
    values = list(sheet.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(values) if r and r[0] in ("排名", "Rank"))
    facts = {r[0]: r[1] for r in values[:header] if r and r[0]}
    names = values[header]
    return facts, [dict(zip(names, r, strict=True)) for r in values[header + 1:]]


def test_the_ranking_equals_the_assessment_api_at_every_level(live_service, browser, artifacts_dir) -> None:
    log = opened(live_service, browser)
    page = log.page
    scope = live_service.users["leader"][1]
    assert page.locator("#ranking-table").is_hidden()  # collapsed until asked for: nothing loads meanwhile
    assert not api_requests(log, "/api/v1/assessment")
    open_ranking(page)
    levels = page.eval_on_selector_all("#ranking-level option", "os => os.map(o => [o.value, o.textContent])")
    assert levels == [["department", "部门"], ["street", "街道"], ["community", "社区"], ["grid_worker", "网格员"]]
    for level in ("department", "street", "community", "grid_worker"):
        open_ranking(page, level)
        answer = api(live_service, "leader", "/api/v1/assessment", level=level, area=scope)
        assert_ranking_equals(page, level, answer)
        asked = api_requests(log, "/api/v1/assessment")[-1]
        assert asked["area"] == [scope] and asked["level"] == [level] and "since" not in asked
        if level == "street":
            page.screenshot(path=str(artifacts_dir / "leader_ranking.png"))
            # the wide table scrolls inside the panel; rank and name stay in view
            page.locator("#ranking .leader-table-wrap").evaluate("w => { w.scrollLeft = w.scrollWidth; }")
            panel, name = page.locator("#panel").bounding_box(), page.locator("#ranking-table td[data-key=name]").first
            assert page.locator("#ranking .leader-table-wrap").evaluate("w => w.scrollLeft") > 0
            assert name.bounding_box()["x"] >= panel["x"] and page.locator("#ranking-table td[data-key=score]").first.is_visible()
            page.screenshot(path=str(artifacts_dir / "leader_ranking_scrolled.png"))
            page.locator("#ranking .leader-table-wrap").evaluate("w => { w.scrollLeft = 0; }")
    weights = page.eval_on_selector_all("#ranking-weights [data-weight]",
                                        "ws => Object.fromEntries(ws.map(w => [w.dataset.weight, w.dataset.value]))")
    assert {k: float(v) for k, v in weights.items()} == answer["weights"]
    assert "权重" in page.inner_text("#ranking-weights") and "报到时限" in page.inner_text("#ranking-weights")
    assert page.locator("#ranking-table th[data-key=worker]").is_visible()  # the grids' workers
    assert page.inner_text("#ranking-table thead").split() == [
        "排名", "名称", "网格员", "案件数", "按时报到率", "按时办结率", "办理用时中位数(小时)", "办结率", "群众满意度(1–5)",
        "重开率", "街道评价(1–5)", "得分"]
    assert page.inner_text("#ranking-period") == "考核期间: 开始 – 至今"
    # the export: a workbook of every level over the same period, with the same numbers
    with page.expect_download() as waiting:
        page.click("#ranking-export")
    download = waiting.value
    assert download.suggested_filename == "assessment.xlsx"
    book = load_workbook(io.BytesIO(open(download.path(), "rb").read()))
    assert book.sheetnames == list(SHEETS.values())
    for level, name in SHEETS.items():
        facts, rows = sheet_rows(book[name])
        assert facts["考核期间"] == "开始 – 至今"
        expected = api(live_service, "leader", "/api/v1/assessment", level=level, area=scope)["rows"]
        assert [r["代码"] for r in rows] == [r[KEYS[level]] for r in expected]
        for got, row in zip(rows, expected, strict=True):
            assert got["排名"] == row["rank"] and got["名称"] == row["name"] and got["案件数"] == row["cases"]
            assert got["得分"] == pytest.approx(row["score"]) if row["score"] is not None else got["得分"] is None
            assert got["结案率"] == pytest.approx(row["closure_rate"])
    asked = parse_qs(urlsplit(download.url).query)
    assert asked["format"] == ["xlsx"] and asked["area"] == [scope]
    assert log.console_errors == [] and log.page_errors == [] and live_service.remote(log) == []
    page.context.close()


def test_the_ranking_follows_the_filters_and_the_time_window(live_service, browser) -> None:
    log = opened(live_service, browser)
    page = log.page
    scope = live_service.users["leader"][1]
    open_ranking(page, "department")
    weeks = api(live_service, "leader", "/api/v1/stats/trend")["weeks"]
    since = weeks[len(weeks) // 2]["week_start"]
    page.fill("#since", since)
    page.dispatch_event("#since", "change")
    page.wait_for_function("since => document.getElementById('ranking-table').dataset.query.includes('since=' + since)",
                           arg=since)
    settled(page)
    whole = api(live_service, "leader", "/api/v1/assessment", level="department", area=scope)
    answer = api(live_service, "leader", "/api/v1/assessment", level="department", area=scope, since=since)
    assert [r["cases"] for r in answer["rows"]] != [r["cases"] for r in whole["rows"]]
    assert_ranking_equals(page, "department", answer)
    assert page.inner_text("#ranking-period") == f"考核期间: {since} – 至今"
    assert parse_qs(urlsplit(page.get_attribute("#ranking-export", "href")).query)["since"] == [since]
    # a week of the playback: the ranking over that week
    page.fill("#since", "")
    page.dispatch_event("#since", "change")
    settled(page)
    step = len(weeks) // 3
    show_step(page, step)
    start, end = weeks[step]["week_start"], weeks[step + 1]["week_start"]
    asked = api_requests(log, "/api/v1/assessment")[-1]
    assert (asked["since"], asked["until"]) == ([start], [end])
    week = api(live_service, "leader", "/api/v1/assessment", level="department", area=scope, since=start, until=end)
    if week["rows"]:
        assert_ranking_equals(page, "department", week)
    export = parse_qs(urlsplit(page.get_attribute("#ranking-export", "href")).query)
    assert (export["since"], export["until"], export["format"]) == ([start], [end], ["xlsx"])
    assert log.console_errors == [] and log.page_errors == []
    page.context.close()


def test_a_street_leader_on_a_phone_and_english(live_service, browser, artifacts_dir) -> None:
    log = opened(live_service, browser, "leader_s", viewport={"width": 390, "height": 844})
    page = log.page
    street = live_service.users["leader_s"][1]
    open_ranking(page)
    levels = page.eval_on_selector_all("#ranking-level option", "os => os.map(o => o.value)")
    assert levels == ["department", "community", "grid_worker"]  # no ranking of the one street
    answer = api(live_service, "leader_s", "/api/v1/assessment", level="department", area=street)
    assert_ranking_equals(page, "department", answer)
    open_ranking(page, "community")
    answer = api(live_service, "leader_s", "/api/v1/assessment", level="community", area=street)
    assert all(r["community"].startswith(street) for r in answer["rows"])
    assert_ranking_equals(page, "community", answer)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390  # the wide table scrolls inside its box
    map_box = page.locator(".folium-map").bounding_box()
    assert page.locator("#ranking").bounding_box()["y"] >= map_box["y"] + map_box["height"]  # never over the map
    page.locator("#ranking").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "leader_ranking_phone.png"))
    page.screenshot(path=str(artifacts_dir / "leader_ranking_phone_full.png"), full_page=True)
    page.locator("#panel").evaluate("p => p.scrollTo(0, p.scrollHeight)")
    page.screenshot(path=str(artifacts_dir / "leader_ranking_phone_panel.png"))
    assert log.console_errors == [] and log.page_errors == []
    page.context.close()
    log = opened(live_service, browser, "leader_c", "/maps/leader?lang=en")
    page = log.page
    open_ranking(page)
    levels = page.eval_on_selector_all("#ranking-level option", "os => os.map(o => [o.value, o.textContent])")
    assert levels == [["department", "Departments"], ["grid_worker", "Grid workers"]]
    assert "Assessment ranking" in page.inner_text("#ranking summary")
    assert "Score" in page.inner_text("#ranking-table thead") and "Weights" in page.inner_text("#ranking-weights")
    assert page.inner_text("#ranking-period") == "Period: the beginning – now"
    open_ranking(page, "grid_worker")
    community = live_service.users["leader_c"][1]
    answer = api(live_service, "leader_c", "/api/v1/assessment", level="grid_worker", area=community, lang="en")
    assert_ranking_equals(page, "grid_worker", answer)
    with page.expect_download() as waiting:
        page.click("#ranking-export")
    assert waiting.value.suggested_filename == "assessment.xlsx"
    book = load_workbook(io.BytesIO(open(waiting.value.path(), "rb").read()))
    assert book.sheetnames == ["Departments", "Streets", "Communities", "Grid workers"]
    facts, rows = sheet_rows(book["Grid workers"])
    assert facts["Period"] == "the beginning – now"
    assert [(r["Code"], r["Cases"]) for r in rows] == [(r["grid_code"], r["cases"]) for r in answer["rows"]]
    page.screenshot(path=str(artifacts_dir / "leader_ranking_en.png"))
    assert log.console_errors == [] and log.page_errors == []
    page.context.close()

"""The case desk (/maps/desk) in Chromium: the whole chain, each step by its own role on its own desk (a grid worker
reports and escalates, the community escalates, the street dispatches with a deadline, the department's staff sign in,
land on the desk, check in and handle with a photo, the street rates the department and closes, the reporter rates);
a case reaching a desk live; each role's own queue; a refused action in Chinese; desktop and phone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from geogrid.db.engine import make_engine
from geogrid.db.models import Incident
from geogrid.db.session import session_scope

from tests.maps.test_language import ALL_TEXT, english_words
from tests.maps.test_worker_field import photo_bytes
from tests.maps.test_worker_page import DESKTOP, PHONE, api, free_spot, opened, report_at

CHAIN = ["report", "escalate", "escalate", "dispatch", "check_in", "handle", "assess", "close", "rate"]


def desk(live_service, browser, username: str, path: str = "/maps/desk", viewport: dict | None = None):
    """The desk of username once its first queue is drawn."""
    log = live_service.open(browser, username, path, viewport=viewport or DESKTOP)
    log.page.wait_for_function("window.geogridDeskReadyAt !== undefined", timeout=30_000)
    return log


def queued(page) -> list[int]:
    return [int(x) for x in page.eval_on_selector_all("#queue button.desk-open", "ns => ns.map(n => n.dataset.case)")]


def act(page, incident_id: int, action: str, expected_status: str, note: str = "", fill=None) -> None:
    """Open the case (from the queue or already open), press the action, fill its form, send; wait for the state."""
    if page.locator(f"#case[data-id='{incident_id}']").count() == 0:
        page.click(f"#queue button.desk-open[data-case='{incident_id}']")
    page.wait_for_selector(f"#case[data-id='{incident_id}'] button[data-action='{action}']")
    steps = page.locator("#case-trace li").count()
    page.click(f"#case button[data-action='{action}']")
    page.wait_for_selector(f"#action-form[data-action='{action}']")
    if note:
        page.fill("#act-note", note)
    if fill:
        fill(page)
    page.click("#act-send")
    page.wait_for_function("""([id, status, steps]) => { const box = document.getElementById('case');
        return box.dataset.id === String(id) && box.dataset.status === status
            && document.querySelectorAll('#case-trace li').length > steps; }""", arg=[incident_id, expected_status, steps])


def department_row(live_service, since: str) -> dict | None:
    rows = api(live_service, "/api/v1/assessment", "leader", params={"level": "department", "since": since}).json()
    return next((r for r in rows["rows"] if r["department"] == "urban_management"), None)


def test_the_whole_chain_each_step_by_its_own_role(live_service, browser, artifacts_dir) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    before = department_row(live_service, since)
    assert before is None or before["cases"] == 0
    # the grid worker reports on their page, then escalates from the desk
    worker = opened(live_service, browser)
    created = report_at(live_service, worker.page, *free_spot(live_service), "井盖缺失，行人有危险")
    cid = created["id"]
    worker.page.context.close()
    log = desk(live_service, browser, "worker")
    assert cid in queued(log.page)
    act(log.page, cid, "escalate", "escalated", note="需社区协调")
    log.page.wait_for_function(f"() => !document.querySelector(\"#queue button[data-case='{cid}']\")")
    log.page.context.close()
    # the street's desk is open, listening, before the community escalates
    street = desk(live_service, browser, "leader_s")
    street.page.wait_for_selector("#live.desk-on")
    assert cid not in queued(street.page)
    community = desk(live_service, browser, "leader_c")
    assert cid in queued(community.page)
    act(community.page, cid, "escalate", "escalated", note="需街道协调，涉及市政设施")
    assert community.page.get_attribute("#case", "data-level") == "3"
    community.page.wait_for_function(f"() => !document.querySelector(\"#queue button[data-case='{cid}']\")")
    community.page.context.close()
    # the case reaches the street's desk without reloading, marked new
    street.page.wait_for_selector(f"#queue li.desk-fresh button[data-case='{cid}']", timeout=20_000)
    street.page.screenshot(path=str(artifacts_dir / "desk_street_arrived.png"))
    due = (datetime.now() + timedelta(minutes=50)).strftime("%Y-%m-%dT%H:%M")  # the browser's local time

    def dispatch_form(page) -> None:
        assert page.input_value("#act-department") == "urban_management"  # the category's department
        page.fill("#act-deadline", due)

    act(street.page, cid, "dispatch", "dispatched", note="请市政部门一小时内处置", fill=dispatch_form)
    street.page.screenshot(path=str(artifacts_dir / "desk_street_dispatched.png"))
    # department staff sign in on a phone and land on the desk: the case is there, its deadline within the hour
    staff = live_service.open(browser, None, "/maps/login", viewport=PHONE)
    page = staff.page
    page.fill("#username", "staff")
    page.fill("#password", "staff-demo")
    page.click("button[type=submit]")
    page.wait_for_url("**/maps/desk**")
    page.wait_for_function("window.geogridDeskReadyAt !== undefined", timeout=30_000)
    assert cid in queued(page)
    states = page.eval_on_selector_all("#queue .desk-badges .desk-badge:first-child", "ns => ns.map(n => n.textContent)")
    assert set(states) <= {"已派遣部门", "部门已报到"}  # only what was dispatched to their department
    assert page.locator(f"#queue li.desk-soon button[data-case='{cid}']").count() == 1
    assert page.locator(f".leaflet-marker-pane .desk-marker.desk-soon").count() == 1
    page.screenshot(path=str(artifacts_dir / "desk_staff_phone_queue.png"))
    act(page, cid, "check_in", "checked_in")
    assert "报到时间" in page.inner_text("#case .desk-facts")

    def with_photo(page) -> None:
        page.set_input_files("#act-photos", files=[{"name": "done.jpg", "mimeType": "image/jpeg",
                                                    "buffer": photo_bytes()}])
        page.wait_for_selector("#act-thumbs img")

    act(page, cid, "handle", "handled", note="已补装井盖", fill=with_photo)
    page.wait_for_selector("#case-photos img")
    page.screenshot(path=str(artifacts_dir / "desk_staff_phone_handled.png"))
    assert page.eval_on_selector("#case", "n => n.getBoundingClientRect().width") <= 390
    assert staff.page_errors == []
    page.context.close()
    # the street verifies: rates the department's work, then closes
    street.page.wait_for_selector(f"#queue button[data-case='{cid}']", timeout=20_000)
    act(street.page, cid, "assess", "handled", fill=lambda p: p.select_option("#act-rating", "4"))
    act(street.page, cid, "close", "closed", note="核查属实，已办结")
    assert street.page_errors == []
    street.page.context.close()
    # the reporter rates the closed case, opened from a link
    reporter = desk(live_service, browser, "worker", f"/maps/desk?case={cid}")
    act(reporter.page, cid, "rate", "closed", fill=lambda p: p.select_option("#act-rating", "5"))
    shown = reporter.page.eval_on_selector_all("#case-trace li", "ns => ns.map(n => n.dataset.action)")
    assert shown == CHAIN
    reporter.page.screenshot(path=str(artifacts_dir / "desk_reporter_rated.png"))
    assert reporter.page.locator("#case button[data-action]").count() == 0  # nothing left to do
    reporter.page.context.close()
    trace = api(live_service, f"/api/v1/incidents/{cid}", "leader").json()
    assert [e["action"] for e in trace["trace"]] == CHAIN
    assert [e["username"] for e in trace["trace"][1:]] == [
        "worker", "leader_c", "leader_s", "staff", "staff", "leader_s", "leader_s", "worker"]
    assert trace["trace"][5]["data"]["media_urls"] and trace["trace"][3]["data"]["deadline_at"]
    assert (trace["rating"], trace["department_rating"]) == (5, 4)
    after = department_row(live_service, since)
    assert after is not None and after["cases"] == 1
    assert after["street_rating"] == 4.0 and after["satisfaction"] == 5.0 and after["closure_rate"] == 1.0
    assert after["checked_in_on_time"] == 1.0 and after["score"] > 0


def test_each_role_sees_its_own_queue_and_a_refusal_is_in_chinese(live_service, browser, artifacts_dir) -> None:
    lon, lat = free_spot(live_service)
    body = {"category": "city_management", "description": "占道堆放杂物", "location": {"lon": lon, "lat": lat}}
    cid = api(live_service, "/api/v1/incidents", method="POST", json=body).json()["id"]
    for username in ("worker", "leader_c"):
        assert api(live_service, f"/api/v1/incidents/{cid}/actions", username, "POST",
                   json={"action": "escalate"}).status_code == 200
    queues = {}
    for username in ("worker", "leader_c", "leader_s", "staff"):
        log = desk(live_service, browser, username)
        queues[username] = queued(log.page)
        log.page.context.close()
    assert cid in queues["leader_s"]
    assert cid not in queues["worker"] and cid not in queues["leader_c"] and cid not in queues["staff"]
    # the community may open the case but is offered no step of the street's, and the API refuses it
    community = desk(live_service, browser, "leader_c", f"/maps/desk?case={cid}")
    community.page.wait_for_selector(f"#case[data-id='{cid}']")
    assert community.page.locator("#case button[data-action]").count() == 0
    community.page.context.close()
    refused = api(live_service, f"/api/v1/incidents/{cid}/actions", "leader_c", "POST", json={"action": "dispatch"})
    assert refused.status_code == 403 and refused.json()["code"] == "workflow.not_your_level"
    assert "belongs to the street" in refused.json()["detail"]
    # the street's desk offers dispatch; the district dispatches first; the street's try is refused, in Chinese
    street = desk(live_service, browser, "leader_s", viewport=PHONE)
    page = street.page
    page.click(f"#queue button.desk-open[data-case='{cid}']")
    page.wait_for_selector(f"#case[data-id='{cid}'] button[data-action='dispatch']")
    page.click("#case button[data-action='dispatch']")
    assert api(live_service, f"/api/v1/incidents/{cid}/actions", "leader", "POST",
               json={"action": "dispatch"}).status_code == 200
    page.click("#act-send")
    page.wait_for_selector("#act-refusal")
    text = page.inner_text("#act-refusal")
    assert "已派遣部门" in text and "街道" in text and "派遣部门" in text, text
    assert english_words(text) == [], text
    page.screenshot(path=str(artifacts_dir / "desk_refusal_phone.png"))
    page.context.close()


def test_a_chinese_desk_shows_no_english_message(live_service, browser, artifacts_dir) -> None:
    for username in ("leader_s", "staff"):
        for viewport in (DESKTOP, PHONE):
            log = desk(live_service, browser, username, viewport=viewport)
            log.page.wait_for_selector("#live.desk-on")
            shown = log.page.evaluate(ALL_TEXT).replace(username, "")
            log.page.screenshot(path=str(artifacts_dir / f"desk_zh_{username}_{viewport['width']}.png"))
            assert english_words(shown) == [], " ".join(english_words(shown))
            assert log.page_errors == [] and live_service.remote(log) == []
            log.page.context.close()


def test_leaders_reach_the_desk_from_their_page(live_service, browser) -> None:
    log = live_service.open(browser, "leader_s", "/maps/leader")
    log.page.wait_for_selector("#open-desk[href='/maps/desk?lang=zh']")
    log.page.click("#open-desk")
    log.page.wait_for_function("window.geogridDeskReadyAt !== undefined", timeout=30_000)
    assert log.page.inner_text("#title") == "案件工作台"
    log.page.context.close()


def test_the_community_marks_a_duplicate_from_the_desk(live_service, browser, artifacts_dir) -> None:
    lon, lat = free_spot(live_service)
    ids = []
    for text in ("路灯不亮", "同一处路灯不亮"):
        body = {"category": "city_management", "description": text, "location": {"lon": lon, "lat": lat}}
        ids.append(api(live_service, "/api/v1/incidents", method="POST", json=body).json()["id"])
        assert api(live_service, f"/api/v1/incidents/{ids[-1]}/actions", "worker", "POST",
                   json={"action": "escalate"}).status_code == 200
    original, repeat = ids
    log = desk(live_service, browser, "leader_c")
    page = log.page
    page.click(f"#queue button.desk-open[data-case='{repeat}']")
    page.wait_for_selector(f"#case[data-id='{repeat}'] #case-nearby a[data-case='{original}']")  # the case nearby
    page.wait_for_selector(f"#case[data-id='{repeat}'][data-grid]")  # its grid drawn on the map
    page.wait_for_selector("#case-cameras li:not(:has-text('加载中'))")
    page.screenshot(path=str(artifacts_dir / "desk_case_grid.png"))
    act(page, repeat, "mark_duplicate", "closed", note="与前一案件相同",
        fill=lambda p: p.fill("#act-duplicate", str(original)))
    assert "#" + str(original) in page.inner_text("#case-trace li[data-action='mark_duplicate']")
    page.screenshot(path=str(artifacts_dir / "desk_duplicate.png"))
    assert repeat not in queued(page) and original in queued(page)
    kept = api(live_service, f"/api/v1/incidents/{original}", "leader_c").json()
    assert kept["trace"][-1]["action"] == "attach" and kept["trace"][-1]["data"] == {"duplicate": repeat}
    assert log.page_errors == []
    page.context.close()


def more_reports(live_service, count: int) -> None:
    """count new reports in a grid of another street than the leaders' and the worker's (copies of one there)."""
    engine = make_engine(live_service.store_url)
    with session_scope(engine) as session:
        model = session.scalars(select(Incident).where(
            Incident.status == "reported", Incident.street_code != live_service.users["leader_s"][1],
            Incident.grid_code != live_service.users["worker"][1]).order_by(Incident.id).limit(1)).one()
        columns = {c.key: getattr(model, c.key) for c in Incident.__table__.columns
                   if c.key not in ("id", "external_id", "token", "description")}
        session.add_all(Incident(**columns, token=str(uuid.uuid4()), description=f"第{i}件") for i in range(count))
    engine.dispose()


def test_a_long_queue_is_read_a_page_at_a_time(live_service, browser, artifacts_dir) -> None:
    whole = api(live_service, "/api/v1/desk", "admin", params={"limit": 500}).json()
    if whole["total"] <= 100:
        more_reports(live_service, 101 - whole["total"] + 20)
        whole = api(live_service, "/api/v1/desk", "admin", params={"limit": 500}).json()
    assert whole["total"] > 100
    log = desk(live_service, browser, "admin", viewport=PHONE)
    page = log.page
    assert queued(page) == [item["id"] for item in whole["items"][:100]]
    more = page.locator("#desk-more")
    assert more.inner_text() == f"加载更多（已显示 100 / 共 {whole['total']} 件）"
    more.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "desk-more-phone.png"))
    more.click()
    page.wait_for_function("document.querySelectorAll('#queue button.desk-open').length > 100")
    shown = min(200, whole["total"])
    assert queued(page) == [item["id"] for item in whole["items"][:shown]]  # the next page, in order, no repeats
    assert (page.locator("#desk-more").count() == 1) == (whole["total"] > shown)
    assert log.console_errors == [] and log.page_errors == []

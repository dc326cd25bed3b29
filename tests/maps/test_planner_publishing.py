"""Publishing from the planner page in a real browser: a plan with a gap is refused and the gap is drawn in red; a
plan outside a limit is published with a reason from the dialog, after which the cases per grid add up to the
community; compare lists each building once and draws the published boundaries over the draft."""

from __future__ import annotations

import httpx
import pytest
import shapely


from .test_planner_page import clean


def with_a_gap(url: str, plan_id: int, code: str) -> None:
    """Shrink one grid of the plan in the store, leaving a gap no edit would leave (as an imported plan file may)."""
    from geoalchemy2.shape import from_shape, to_shape
    from sqlalchemy import select

    from geogrid.db.models import Grid
    from geogrid.db.session import session_scope

    with session_scope(url) as session:
        row = session.scalars(select(Grid).where(Grid.plan_version_id == plan_id, Grid.code == code)).one()
        row.geom = from_shape(shapely.MultiPolygon([shapely.buffer(to_shape(row.geom).geoms[0], -0.0002,
                                                                   join_style="mitre")]), srid=4326)


@pytest.fixture
def api(live_service):
    headers = {"Authorization": f"Bearer {live_service.token('planner')}"}
    with httpx.Client(base_url=live_service.base_url + "/api/v1", headers=headers, timeout=120) as client:
        yield client


def community(api: httpx.Client, k: int) -> tuple[str, str, int]:
    """(street code, code, published plan id) of the planner's street's k-th community with at least 2 grids."""
    street = api.get("/hierarchy").json()["districts"][0]["children"][0]
    chosen = [c for c in street["children"] if c["grid_count"] >= 2][k]
    return street["code"], chosen["code"], chosen["published_plan_id"]


def draft_with(api: httpx.Client, plan_id: int, body_of) -> int:
    """A new draft of plan_id with one edit, body_of(grids) making its body."""
    made = api.post(f"/plans/{plan_id}/drafts")
    assert made.status_code == 201, made.text
    draft = made.json()["id"]
    grids = api.get(f"/communities/{made.json()['community_code']}/grids", params={"plan_id": draft}).json()
    answer = api.post(f"/plans/{draft}/edits", json=body_of(grids["features"]), headers={"If-Match": '"1"'})
    assert answer.status_code == 200, answer.text
    return draft


def open_plan(live_service, browser, street: str, code: str):
    log = live_service.open(browser, "planner", "/maps/planner")
    page = log.page
    page.wait_for_function("document.querySelectorAll('#street option').length > 1")
    page.select_option("#street", street)
    page.select_option("#community", code)
    page.wait_for_selector("#grid-table tbody tr")
    page.wait_for_function("!document.body.classList.contains('planner-busy')")
    return log, page


def problem_rules(page) -> list[str]:
    return page.evaluate("(() => { const found = []; geogrid.map().eachLayer(l => { if (l.problemRule) "
                         "found.push(l.problemRule); }); return found; })()")


def test_an_auto_partition_identical_to_the_published_plan_says_so(live_service, browser, api, artifacts_dir) -> None:
    street, code, _ = community(api, 0)  # before the tests below change its plans
    log, page = open_plan(live_service, browser, street, code)
    page.click("#auto summary")
    assert page.evaluate("document.getElementById('auto').getBoundingClientRect().top") < 800  # above the fold
    page.click("#run")
    page.wait_for_selector("#job[data-status=succeeded]", timeout=90_000)
    page.wait_for_function("document.getElementById('job-note').textContent !== ''")
    assert page.inner_text("#job-note") == "新草稿与已发布方案完全相同"
    assert page.evaluate("document.getElementById('job-progress').getBoundingClientRect().bottom") < 800
    page.screenshot(path=str(artifacts_dir / "planner_auto_identical.png"))
    clean(live_service, log)
    page.context.close()


def test_a_plan_with_a_gap_is_refused_and_the_gap_drawn(live_service, browser, api, artifacts_dir) -> None:
    street, code, published = community(api, -1)
    draft = api.post(f"/plans/{published}/drafts").json()["id"]
    grids = api.get(f"/communities/{code}/grids", params={"plan_id": published}).json()["features"]
    with_a_gap(live_service.store_url, draft, grids[0]["properties"]["grid_code"])
    log, page = open_plan(live_service, browser, street, code)
    assert page.input_value("#version") == str(draft)  # the newest draft opens
    assert "gap" in problem_rules(page)  # drawn in red as soon as the draft opens
    assert "有空隙" in page.inner_text("#problems")
    page.click("#publish")
    page.wait_for_selector("#publish-dialog[open]")
    assert "须先修正" in page.inner_text("#publish-hard") and "有空隙" in page.inner_text("#publish-hard")
    assert page.is_disabled("#publish-confirm")
    page.screenshot(path=str(artifacts_dir / "planner_publish_gap_refused.png"))
    page.click("#publish-cancel")
    assert api.get(f"/plans/{draft}").json()["status"] == "draft"
    refused = api.post(f"/plans/{draft}/publish", json={"reason": "试试"})
    assert refused.status_code == 409 and any(p["rule"] == "gap" for p in refused.json()["problems"])
    clean(live_service, log)
    page.context.close()


def test_a_merge_is_published_with_a_reason_and_cases_follow(live_service, browser, api, artifacts_dir) -> None:
    street, code, published = community(api, 0)
    features = api.get(f"/communities/{code}/grids").json()["features"]
    first = features[0]["properties"]
    other = first["neighbours"][0]
    draft = draft_with(api, published, lambda _: {"op": "merge", "grids": [first["grid_code"], other]})
    log, page = open_plan(live_service, browser, street, code)

    page.click("#compare")
    page.wait_for_selector("#compare-out li")
    page.wait_for_function("!document.getElementById('old-legend').classList.contains('hidden')")
    listed = [line.split(":")[0] for line in page.inner_text("#compare-out ul").splitlines()]
    assert len(listed) == len(set(listed)) > 0
    assert page.evaluate("(() => { let n = 0; geogrid.map().eachLayer(l => { if (l.options && l.options.dashArray"
                         " === '2 6' && l.feature) n++; }); return n; })()") == len(features)
    page.screenshot(path=str(artifacts_dir / "planner_compare_boundaries.png"))

    page.click("#publish")
    page.wait_for_selector("#publish-dialog[open]")
    assert "须填写理由" in page.inner_text("#publish-limits") and page.is_visible("#publish-reason")
    page.click("#publish-confirm")  # no reason yet: refused on the page
    assert page.is_visible("#publish-dialog")
    page.fill("#publish-reason", "合并后待新小区入住再拆分")
    page.screenshot(path=str(artifacts_dir / "planner_publish_reason.png"))
    page.click("#publish-confirm")
    page.wait_for_function("document.querySelector('#plan-status').textContent.includes('已发布')")
    plan = api.get(f"/plans/{draft}").json()
    assert plan["status"] == "published" and plan["publish_reason"] == "合并后待新小区入住再拆分"

    leader = {"Authorization": f"Bearer {live_service.token('leader')}"}
    params = {"area": code}
    grids = api.get("/stats/areas", params={"level": "grid", **params}, headers=leader).json()["rows"]
    whole = api.get("/stats/areas", params={"level": "community", **params}, headers=leader).json()["rows"]
    assert other not in {row["code"] for row in grids}
    assert sum(row["count"] for row in grids) == whole[0]["count"] > 0
    clean(live_service, log)
    page.context.close()



def test_redo_beside_undo(live_service, browser, api, artifacts_dir) -> None:
    street, code, _ = community(api, 0)
    log, page = open_plan(live_service, browser, street, code)
    page.click("#new-draft")
    page.wait_for_function("document.querySelector('#plan-status').textContent.includes('草稿')")
    page.wait_for_function("!document.body.classList.contains('planner-busy')")
    rows = page.locator("#grid-table tbody tr").count()
    page.locator("#grid-table tbody tr").first.click()
    page.wait_for_selector("#grid-tools:not(.hidden)")
    page.click("#merge")
    page.wait_for_function(f"document.querySelectorAll('#grid-table tbody tr').length === {rows - 1}")
    page.wait_for_function("!document.body.classList.contains('planner-busy')")
    page.click("#undo")
    page.wait_for_function(f"document.querySelectorAll('#grid-table tbody tr').length === {rows}")
    page.wait_for_function("!document.body.classList.contains('planner-busy')")
    page.click("#redo")
    page.wait_for_function(f"document.querySelectorAll('#grid-table tbody tr').length === {rows - 1}")
    page.wait_for_function("!document.body.classList.contains('planner-busy')")
    assert "已重做" in page.inner_text("#geogrid-toast") and "已删除网格" in page.inner_text("#geogrid-toast")
    page.screenshot(path=str(artifacts_dir / "planner_redo.png"))
    clean(live_service, log)
    page.context.close()

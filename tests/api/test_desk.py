"""The case desk (GET /api/v1/desk): each role's queue of the cases awaiting its step, most urgent first, filtered and
counted; the SQL twin of workflow.awaits; refusals that say why; the live desk's server-sent events."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from api.deps import Principal
from geogrid.db.models import Grid, Incident, PlanVersion, utcnow
from geogrid.db.session import session_scope
from geogrid.incidents import workflow
from geogrid.store import desk as desk_store
from geogrid.store.incidents import visible_to
from tests.api.test_incidents import act, grid_point, report

DESK_USERS = ("worker", "leader_c", "leader_s", "leader_s2", "leader", "staff", "planner", "admin")


def queue_ids(client, auth, username: str, **params) -> list[int]:
    answer = client.get("/api/v1/desk", params=params, headers=auth(username))
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["items"]]


def holders(client, auth, cid: int) -> set[str]:
    """Whose desk holds the case now."""
    return {u for u in DESK_USERS if u not in ("admin",) and cid in queue_ids(client, auth, u)}


def test_the_case_goes_from_desk_to_desk_along_the_chain(client, store, auth, users) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    cid = report(client, auth("worker"), lon, lat)["id"]
    assert holders(client, auth, cid) == {"worker"}
    chain = [
        ("worker", "escalate", {}, {"leader_c"}),
        ("leader_c", "escalate", {"note": "需街道协调"}, {"leader_s", "leader"}),  # the district acts as the street
        ("leader_s", "dispatch", {}, {"staff"}),
        ("staff", "check_in", {}, {"staff"}),
        ("staff", "handle", {"note": "已清理"}, {"leader_s", "leader"}),
        ("leader_s", "assess", {"rating": 4}, {"leader_s", "leader"}),  # assessed, still to be closed
        ("leader_s", "close", {}, set()),
    ]
    for username, action, extra, expected in chain:
        answer = act(client, auth(username), cid, action, **extra)
        assert answer.status_code == 200, (action, answer.text)
        assert holders(client, auth, cid) == expected, action
    assert cid not in queue_ids(client, auth, "admin")  # closed: on nobody's desk, admins' neither


def test_an_action_out_of_turn_is_not_offered_and_is_refused_with_a_reason(client, store, auth, users) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    cid = report(client, auth("worker"), lon, lat)["id"]
    assert act(client, auth("worker"), cid, "escalate").status_code == 200
    seen = client.get(f"/api/v1/incidents/{cid}", headers=auth("leader_s")).json()
    assert "dispatch" not in seen["allowed_actions"]
    early = act(client, auth("leader_s"), cid, "dispatch")
    assert early.status_code == 409
    assert early.json()["code"] == "workflow.not_allowed_now"
    assert early.json()["params"] == {"action": "dispatch", "status": "escalated", "level": 2}
    assert act(client, auth("leader_c"), cid, "escalate").status_code == 200
    community = client.get(f"/api/v1/incidents/{cid}", headers=auth("leader_c")).json()
    assert community["allowed_actions"] == []
    refused = act(client, auth("leader_c"), cid, "dispatch")
    assert refused.status_code == 403
    assert refused.json()["code"] == "workflow.not_your_level"
    assert "belongs to the street" in refused.json()["detail"]
    staff = act(client, auth("staff"), cid, "check_in")
    assert staff.status_code in (403, 409)  # not dispatched yet: staff do not even see it
    assert cid not in queue_ids(client, auth, "staff")


def test_overdue_first_then_by_deadline_and_the_hour_is_flagged(client, store, auth, users) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    ids = [report(client, auth("worker"), lon, lat, description=f"第{i}件")["id"] for i in range(4)]
    now = utcnow()
    deadlines = {ids[0]: now + timedelta(hours=30), ids[1]: now - timedelta(hours=2),
                 ids[2]: now + timedelta(minutes=40), ids[3]: now - timedelta(hours=5)}
    with session_scope(store) as session:
        for cid, deadline in deadlines.items():
            session.execute(update(Incident).where(Incident.id == cid).values(deadline_at=deadline))
    answer = client.get("/api/v1/desk", headers=auth("worker")).json()
    mine = [item for item in answer["items"] if item["id"] in ids]
    assert [item["id"] for item in mine] == [ids[3], ids[1], ids[2], ids[0]]
    assert [item["late_now"] for item in mine] == [True, True, False, False]
    assert [item["due_soon"] for item in mine] == [False, False, True, False]
    order = [item["id"] for item in answer["items"]]
    lates = [item["late_now"] for item in answer["items"]]
    assert lates == sorted(lates, reverse=True)  # every late case before every other
    assert order.index(ids[3]) < order.index(ids[1])
    late_only = queue_ids(client, auth, "worker", overdue="true")
    assert set(ids) & set(late_only) == {ids[1], ids[3]}


def test_filters_and_counts_per_state(client, store, auth, users) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    first = report(client, auth("worker"), lon, lat)["id"]
    second = report(client, auth("worker"), lon, lat, category="environment_sanitation")["id"]
    assert act(client, auth("worker"), second, "accept").status_code == 200
    whole = client.get("/api/v1/desk", headers=auth("worker")).json()
    assert whole["tier"] == "grid"
    assert set(whole["counts"]) == set(workflow.OPEN_STATES)
    assert whole["total"] == sum(whole["counts"].values()) == len(whole["items"])
    assert whole["counts"]["accepted"] >= 1 and whole["counts"]["reported"] >= 1
    accepted = client.get("/api/v1/desk", params={"status": "accepted"}, headers=auth("worker")).json()
    assert {i["status"] for i in accepted["items"]} == {"accepted"} and second in [i["id"] for i in accepted["items"]]
    assert accepted["counts"] == whole["counts"]  # the counts ignore the state filter
    assert accepted["total"] == whole["counts"]["accepted"]
    by_category = queue_ids(client, auth, "worker", category="environment_sanitation")
    assert second in by_category and first not in by_category
    assert queue_ids(client, auth, "worker", level=2) == []
    assert first in queue_ids(client, auth, "worker", since=(utcnow() - timedelta(hours=1)).isoformat())
    assert first not in queue_ids(client, auth, "worker", until="2020-01-01")
    assert act(client, auth("worker"), first, "escalate").status_code == 200
    assert first in queue_ids(client, auth, "leader_c", area=users["worker"][1])
    assert first not in queue_ids(client, auth, "leader_c", area=users["worker"][1] + "9")
    assert client.get("/api/v1/desk", params={"status": "closed"}, headers=auth("worker")).status_code == 422
    assert client.get("/api/v1/desk", params={"level": 7}, headers=auth("worker")).status_code == 422
    assert client.get("/api/v1/desk", params={"category": "nope"}, headers=auth("worker")).status_code == 422
    outside = client.get("/api/v1/desk", params={"area": users["leader_s2"][1]}, headers=auth("leader_s"))
    assert outside.status_code == 422 and "outside your scope" in outside.json()["detail"]
    planner = client.get("/api/v1/desk", headers=auth("planner")).json()
    assert planner["tier"] is None and planner["items"] == [] and planner["total"] == 0


def test_the_sql_twin_picks_the_cases_awaits_picks(client, store, auth, users) -> None:
    """Every open state at every level, dispatched or not, for every user: workflow.awaits and the store's SQL
    agree."""
    worker_grid = users["worker"][1]
    with session_scope(store) as session:
        codes = session.scalars(select(Grid.code).join(PlanVersion).where(PlanVersion.status == "published")
                                .order_by(Grid.code)).all()
    neighbour = next(c for c in codes if c != worker_grid and c.startswith(users["leader_c"][1]))
    elsewhere = next(c for c in codes if c.startswith(users["leader_s2"][1] + "-"))
    points = [grid_point(store, code) for code in (worker_grid, neighbour, elsewhere)]
    pairs = list(itertools.product(workflow.STATES, (1, 2, 3), (None, "urban_management", "housing"), range(3)))
    ids = [report(client, auth("admin"), *points[where])["id"] for *_, where in pairs]
    with session_scope(store) as session:
        for cid, (state, level, department, _) in zip(ids, pairs, strict=True):
            session.execute(update(Incident).where(Incident.id == cid).values(
                status=state, level=level, department=department))
    with session_scope(store) as session:
        cases = session.scalars(select(Incident)).all()
        assert len(cases) >= len(pairs)
        for username, (role, scope) in users.items():
            user = Principal(username, role, scope, "urban_management" if role == "department_staff" else None)
            desk = desk_store.desk_of(session, user)
            by_rule = {c.id for c in cases if workflow.awaits(user, c, desk.tier)}
            by_sql = desk_store.queue_ids(session, user, desk)
            assert by_sql == by_rule, username
            visible = set(session.scalars(select(Incident.id).where(visible_to(user))).all())
            assert by_sql <= visible, username  # the queue counts without asking: its cases are visible ones
            if role in ("grid_worker", "leader", "department_staff"):
                assert by_rule, username


def test_tiers_follow_the_scope(store, users) -> None:
    with session_scope(store) as session:
        tier = {u: desk_store.tier_of(session, Principal(u, *users[u])) for u in users}
    assert tier["worker"] == "grid" and tier["leader_c"] == "community" and tier["leader_s"] == "street"
    assert tier["leader"] == "district" and tier["staff"] == "department" and tier["admin"] == "admin"
    assert tier["planner"] is None


def test_the_live_desk_hears_a_case_arrive_and_leave(client, store, auth, users) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    cid = report(client, auth("worker"), lon, lat)["id"]
    lines: list[str] = []

    def listen() -> None:
        with client.stream("GET", "/api/v1/desk/events", params={"seconds": 4, "every": 0.3},
                           headers=auth("leader_c")) as answer:
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith("text/event-stream")
            for line in answer.iter_lines():
                lines.append(line)

    listener = threading.Thread(target=listen)
    listener.start()
    for _ in range(100):  # the stream has begun (its first event) before anything moves
        if any(line.startswith("event: ready") for line in lines):
            break
        time.sleep(0.05)
    assert act(client, auth("worker"), cid, "escalate").status_code == 200
    time.sleep(1.0)
    assert act(client, auth("leader_c"), cid, "escalate").status_code == 200
    listener.join(timeout=15)
    assert not listener.is_alive()
    events = [(a, b) for a, b in zip(lines, lines[1:], strict=False) if a.startswith("event: ")]
    kinds = [(a.removeprefix("event: "), b) for a, b in events]
    assert kinds[0][0] == "ready"
    mine = [k for k, data in kinds if f'"id": {cid},' in data]
    assert mine == ["arrived", "left"]


def test_the_live_desk_needs_a_sign_in(client) -> None:
    assert client.get("/api/v1/desk/events").status_code == 401
    assert client.get("/api/v1/desk").status_code == 401


def test_the_street_dispatches_with_a_deadline_for_the_department(client, store, auth, users) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    cid = report(client, auth("worker"), lon, lat)["id"]
    for username in ("worker", "leader_c"):
        assert act(client, auth(username), cid, "escalate").status_code == 200
    before = client.get(f"/api/v1/incidents/{cid}", headers=auth("leader_s")).json()
    past = act(client, auth("leader_s"), cid, "dispatch", deadline_at="2020-01-01T08:00:00")
    assert past.status_code == 422 and "not in the future" in past.json()["detail"]
    not_dispatch = act(client, auth("leader_s"), cid, "assess", rating=3, deadline_at="2099-01-01T08:00:00")
    assert not_dispatch.status_code in (409, 422)
    after = client.get(f"/api/v1/incidents/{cid}", headers=auth("leader_s")).json()
    assert (after["status"], after["deadline_at"], len(after["trace"])) == (
        before["status"], before["deadline_at"], len(before["trace"]))  # nothing half-written
    wanted = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    done = act(client, auth("leader_s"), cid, "dispatch", department="housing", deadline_at=wanted.isoformat())
    assert done.status_code == 200, done.text
    case = client.get(f"/api/v1/incidents/{cid}", headers=auth("leader_s")).json()
    assert case["department"] == "housing" and case["status"] == "dispatched"
    assert case["deadline_at"].replace("Z", "+00:00").startswith(wanted.isoformat()[:19])
    assert case["trace"][-1]["data"]["department"] == "housing" and case["trace"][-1]["data"]["deadline_at"]
    assert act(client, auth("leader_s"), cid, "reject", deadline_at=wanted.isoformat()).status_code in (409, 422)


def test_a_live_desk_reads_every_change_once_even_at_one_instant(client, store, auth, users) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    ids = [report(client, auth("worker"), lon, lat)["id"] for _ in range(5)]
    instant = utcnow() + timedelta(minutes=5)
    user = Principal("worker", *users["worker"])
    with session_scope(store) as session:
        start = desk_store.latest_change(session, utcnow())
        session.execute(update(Incident).where(Incident.id.in_(ids)).values(updated_at=instant))
    seen, cursor = [], start
    with session_scope(store) as session:
        for _ in range(5):
            page = desk_store.changed_after(session, user, cursor, limit=2)
            if not page:
                break
            seen += [c.id for c in page]
            cursor = (page[-1].updated_at, page[-1].id)
    assert seen == sorted(ids)


def test_a_long_queue_is_read_page_by_page(client, store, auth, users) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    for i in range(5):
        report(client, auth("worker"), lon, lat, description=f"第{i}件")
    whole = client.get("/api/v1/desk", params={"limit": 500}, headers=auth("worker")).json()
    assert whole["total"] >= 5 and len(whole["items"]) == whole["total"]
    pages, offset = [], 0
    while offset < whole["total"]:
        page = client.get("/api/v1/desk", params={"limit": 2, "offset": offset}, headers=auth("worker")).json()
        assert page["offset"] == offset and page["total"] == whole["total"] and len(page["items"]) <= 2
        pages += page["items"]
        offset += 2
    assert [i["id"] for i in pages] == [i["id"] for i in whole["items"]]  # same order, nothing twice or missed
    for past in (whole["total"], 2**62):
        beyond = client.get("/api/v1/desk", params={"offset": past}, headers=auth("worker"))
        assert beyond.status_code == 200 and beyond.json()["items"] == [] and beyond.json()["total"] == whole["total"]
    assert client.get("/api/v1/desk", params={"offset": -1}, headers=auth("worker")).status_code == 422

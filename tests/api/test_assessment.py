"""The street's rating of a department (assess) as a workflow step, and GET /api/v1/assessment as JSON and Excel."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from geogrid.db.models import IncidentEvent, utcnow
from geogrid.incidents.assessment import load_formula
from geogrid.incidents.taxonomy import load_taxonomy
from geogrid.store.assessment import (
    assessment_rows,
    department_case_figures_sql,
    read_history,
    read_history_sql,
)
from tests.api.test_incidents import act, grid_point, report

TO_THE_DEPARTMENT = [
    ("worker", "accept", {}), ("worker", "escalate", {}), ("leader_c", "accept", {}), ("leader_c", "escalate", {}),
    ("leader_s", "dispatch", {}), ("staff", "check_in", {}), ("staff", "handle", {"note": "已清理"}),
]


@pytest.fixture
def handled(client, store, auth, users) -> int:
    """A case of the worker's grid, dispatched by the street to urban management, checked in and handled."""
    lon, lat = grid_point(store, users["worker"][1])
    cid = report(client, auth("worker"), lon, lat)["id"]
    for username, action, extra in TO_THE_DEPARTMENT:
        answer = act(client, auth(username), cid, action, **extra)
        assert answer.status_code == 200, (action, answer.text)
    return cid


def test_the_street_assesses_the_departments_work_once_and_it_is_traced(client, auth, handled) -> None:
    case = client.get(f"/api/v1/incidents/{handled}", headers=auth("leader_s")).json()
    assert "assess" in case["allowed_actions"]
    answer = act(client, auth("leader_s"), handled, "assess", rating=4, note="处置及时")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["department_rating"]) == ("handled", 4)
    trace = client.get(f"/api/v1/incidents/{handled}", headers=auth("leader")).json()["trace"]
    assert trace[-1]["action"] == "assess" and trace[-1]["username"] == "leader_s"
    assert trace[-1]["data"] == {"rating": 4, "department": "urban_management"} and trace[-1]["note"] == "处置及时"
    again = act(client, auth("leader_s"), handled, "assess", rating=5)
    assert again.status_code == 409 and "already been assessed" in again.json()["detail"]


@pytest.mark.parametrize("username", ["staff", "leader_c", "worker", "leader_s2"])
def test_only_the_street_may_assess(client, auth, handled, username) -> None:
    answer = act(client, auth(username), handled, "assess", rating=5)
    assert answer.status_code == 403
    assert "belongs to the street" in answer.json()["detail"] or "outside what your role" in answer.json()["detail"]
    case = client.get(f"/api/v1/incidents/{handled}", headers=auth(username))
    if case.status_code == 200:
        assert "assess" not in case.json()["allowed_actions"]


def test_assessing_before_the_department_handled_it_is_409(client, store, auth, users) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    cid = report(client, auth("worker"), lon, lat)["id"]
    for username, action, extra in TO_THE_DEPARTMENT[:5]:
        assert act(client, auth(username), cid, action, **extra).status_code == 200
    early = act(client, auth("leader_s"), cid, "assess", rating=3)
    assert early.status_code == 409 and "once the department has handled" in early.json()["detail"]


@pytest.mark.parametrize("rating", [0, 6, None])
def test_an_assessment_outside_1_to_5_is_refused_and_nothing_changes(client, auth, handled, rating) -> None:
    answer = act(client, auth("leader_s"), handled, "assess", rating=rating)
    assert answer.status_code in (400, 422) and "1 to 5" in answer.text
    case = client.get(f"/api/v1/incidents/{handled}", headers=auth("leader")).json()
    assert case["department_rating"] is None and case["trace"][-1]["action"] == "handle"


def _closed_and_rated(client, auth, handled) -> None:
    for username, action, extra in [("leader_s", "assess", {"rating": 4}), ("leader_s", "close", {}),
                                    ("worker", "rate", {"rating": 5})]:
        assert act(client, auth(username), handled, action, **extra).status_code == 200


def _today() -> str:
    return (utcnow() - timedelta(hours=1)).isoformat()


def test_the_assessment_of_the_department_follows_its_case(client, auth, handled) -> None:
    _closed_and_rated(client, auth, handled)
    answer = client.get("/api/v1/assessment", params={"level": "department", "since": _today()},
                        headers=auth("leader"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["weights"] == load_formula().weights.model_dump() and body["deadlines"]["check_in_hours"] == 2
    [row] = body["rows"]
    assert row["department"] == "urban_management" and row["name"] == "区城市管理局" and row["rank"] == 1
    assert row["cases"] == 1 and row["checked_in_on_time"] == 1.0 and row["handled_on_time"] == 1.0
    assert row["satisfaction"] == 5.0 and row["street_rating"] == 4.0 and row["reopened"] == 0.0
    assert row["closure_rate"] == 1.0 and row["median_hours_to_handle"] < 0.1
    assert row["score"] == pytest.approx(100 * (0.15 + 0.25 + 0.10 + 0.20 + 0.20 * 0.75 + 0.10))
    streets = client.get("/api/v1/assessment", params={"level": "street", "since": _today()},
                         headers=auth("leader")).json()["rows"]
    assert [r["cases"] for r in streets] == [1] and streets[0]["street_rating"] == 4.0


def test_the_workbook_holds_the_same_numbers(client, auth, handled) -> None:
    _closed_and_rated(client, auth, handled)
    params = {"since": _today()}
    answer = client.get("/api/v1/assessment", params=params | {"format": "xlsx"}, headers=auth("leader"))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["部门", "街道", "社区", "网格员"]
    for sheet_name, level in zip(book.sheetnames, ["department", "street", "community", "grid_worker"], strict=True):
        sheet = book[sheet_name]
        assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert values[1][0] == "考核期间" and values[4][0] == "权重" and values[5][1:7] == [0.15, 0.25, 0.1, 0.2,
                                                                                         0.2, 0.1]
        header = next(i for i, r in enumerate(values) if r[0] == "排名")
        table = [dict(zip(values[header], r, strict=True)) for r in values[header + 1:]]
        rows = client.get("/api/v1/assessment", params=params | {"level": level}, headers=auth("leader")).json()["rows"]
        assert len(table) == len(rows) == 1
        assert table[0]["案件数"] == rows[0]["cases"] and table[0]["得分"] == pytest.approx(rows[0]["score"])
        assert table[0]["街道评价(1-5)"] == rows[0]["street_rating"] == 4.0
        assert table[0]["按时报到率"] == rows[0]["checked_in_on_time"]


@pytest.mark.parametrize("username", ["staff", "worker"])
def test_only_leaders_planners_and_admins_see_the_assessment(client, auth, username) -> None:
    assert client.get("/api/v1/assessment", headers=auth(username)).status_code == 403


def test_a_leader_is_kept_to_their_area(client, auth, handled) -> None:
    _closed_and_rated(client, auth, handled)
    other = client.get("/api/v1/assessment", params={"level": "street", "since": _today()},
                       headers=auth("leader_s2")).json()
    assert other["rows"] == []
    outside = client.get("/api/v1/assessment", params={"area": other["area"]}, headers=auth("leader_s"))
    assert outside.status_code == 403


def test_a_bad_level_is_refused(client, auth) -> None:
    answer = client.get("/api/v1/assessment", params={"level": "planet"}, headers=auth("leader"))
    assert 400 <= answer.status_code < 500 and "level" in answer.text


def test_sql_and_numpy_give_the_same_department_figures(client, store, auth, users, handled) -> None:
    _closed_and_rated(client, auth, handled)
    lon, lat = grid_point(store, users["worker"][1])
    reopened, to_justice = (report(client, auth("worker"), lon, lat)["id"] for _ in range(2))
    for username, action, extra in [*TO_THE_DEPARTMENT, ("leader_s", "close", {}), ("leader_c", "reopen", {})]:
        assert act(client, auth(username), reopened, action, **extra).status_code == 200, action
    for username, action, extra in [*TO_THE_DEPARTMENT[:4], ("leader_s", "dispatch", {"department": "justice"})]:
        assert act(client, auth(username), to_justice, action, **extra).status_code == 200, action
    taxonomy, formula = load_taxonomy(), load_formula()
    with Session(store) as session:
        numpy_rows = {r["department"]: r for r in assessment_rows(session, "department", formula, taxonomy)}
        sql_rows = department_case_figures_sql(session)
    assert set(numpy_rows) == set(sql_rows) and {"urban_management", "justice"} <= set(sql_rows)
    assert numpy_rows["urban_management"]["reopened"] > 0 and numpy_rows["justice"]["closure_rate"] == 0
    for department, figures in sql_rows.items():
        for name, value in figures.items():
            assert numpy_rows[department][name] == pytest.approx(value, abs=1e-4), (department, name)


def test_the_snapshots_give_what_the_store_holds(client, store, auth, users, handled) -> None:
    taxonomy, formula, area = load_taxonomy(), load_formula(), users["leader_s"][1]
    window = {"area": area, "since": None, "until": None, "category": None}
    with Session(store) as session:  # the snapshots are read once before the case moves on
        before = assessment_rows(session, "department", formula, taxonomy, history=read_history(session, **window))
    _closed_and_rated(client, auth, handled)
    with Session(store) as session:
        for level in ("department", "street", "community", "grid_worker"):
            cached = assessment_rows(session, level, formula, taxonomy, history=read_history(session, **window))
            fresh = assessment_rows(session, level, formula, taxonomy, history=read_history_sql(session, **window))
            assert cached == fresh, level
    after = {r["department"]: r for r in assessment_rows(Session(store), "department", formula, taxonomy, area=area)}
    assert after["urban_management"]["street_rating"] == 4.0 and after != {r["department"]: r for r in before}


def test_the_department_is_judged_by_the_deadline_the_street_gave(client, store, auth, users) -> None:
    lon, lat = grid_point(store, users["worker"][1])
    cid = report(client, auth("worker"), lon, lat)["id"]
    given = (utcnow() + timedelta(hours=3)).replace(microsecond=0)
    for username, action, extra in [*TO_THE_DEPARTMENT[:4], ("leader_s", "dispatch", {"deadline_at": given.isoformat()})]:
        assert act(client, auth(username), cid, action, **extra).status_code == 200, action
    with Session(store) as session:  # the 3 hours pass before the department checks in and handles
        dispatch = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == cid,
                                                               IncidentEvent.action == "dispatch")).one()
        assert datetime.fromisoformat(dispatch.data["deadline_at"]) == given
        dispatch.data = {**dispatch.data, "deadline_at": (dispatch.at - timedelta(minutes=1)).isoformat()}
        session.commit()
    for username, action, extra in TO_THE_DEPARTMENT[5:]:
        assert act(client, auth(username), cid, action, **extra).status_code == 200, action
    [row] = client.get("/api/v1/assessment", params={"level": "department", "since": _today()},
                       headers=auth("leader")).json()["rows"]
    assert row["handled_on_time"] == 0.0  # late by the street's deadline, on time by the category's (72 h)
    window = {"area": None, "since": None, "until": None, "category": None}
    taxonomy, formula = load_taxonomy(), load_formula()
    with Session(store) as session:
        for source in (read_history, read_history_sql):
            [mine] = assessment_rows(session, "department", formula, taxonomy, history=source(session, **window))
            assert mine["handled_on_time"] == 0.0, source.__name__

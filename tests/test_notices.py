"""Who hears of a workflow step, and the message a WeCom or DingTalk group robot shows."""

from __future__ import annotations

from dataclasses import dataclass

from geogrid.incidents.notices import message, recipients


@dataclass
class Case:
    id: int = 7
    category: str = "city_management"
    status: str = "dispatched"
    level: int = 3
    department: str | None = "urban_management"
    grid_code: str | None = "360702-001-001-01"
    community_code: str | None = "360702-001-001"
    street_code: str | None = "360702-001"
    district_code: str | None = "360702"
    address: str | None = "红旗大道1号"


HOOKS = {
    "urban_management": "http://robot/urban",
    "justice": "http://robot/justice",
    "360702-001": "http://robot/street1",
    "360702-002": "http://robot/street2",
    "360702-001-001-01": "http://robot/grid",
    "360702-0010": "http://robot/not-a-child",
}


def test_the_department_and_every_area_holding_the_case_hear_of_it() -> None:
    assert recipients(HOOKS, Case()) == ["http://robot/urban", "http://robot/street1", "http://robot/grid"]


def test_a_case_not_yet_dispatched_is_heard_by_its_areas_only() -> None:
    assert recipients(HOOKS, Case(department=None, status="reported", level=1)) == ["http://robot/street1",
                                                                                     "http://robot/grid"]


def test_one_url_named_twice_is_sent_once() -> None:
    hooks = {"urban_management": "http://robot/same", "360702": "http://robot/same"}
    assert recipients(hooks, Case()) == ["http://robot/same"]


def test_the_message_is_a_robot_text_in_chinese_with_the_note() -> None:
    body = message(Case(), "dispatch", "leader_s", "城市管理", note="请今日处置")
    assert body["msgtype"] == "text"
    text = body["text"]["content"]
    assert "案件 7" in text and "派遣部门" in text and "leader_s" in text and "街道级" in text
    assert "已派遣部门" in text and "红旗大道1号" in text and "请今日处置" in text
    english = message(Case(), "check_in", "staff", "City management", lang="en")["text"]["content"]
    assert "checked in by staff" in english and "street level" in english

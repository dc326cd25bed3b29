"""Outgoing notices of workflow steps: which webhooks hear of a case, and the message a group robot shows.

A webhook is configured per department code (e.g. urban_management) or per area code (a district, street,
community or grid); it hears of every step of the cases dispatched to that department or inside that area.
WeCom (企业微信) and DingTalk (钉钉) group robots both take {"msgtype": "text", "text": {"content": ...}}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from geogrid.access import covers
from geogrid.incidents.workflow import LEVEL_NAMES, LEVEL_NAMES_ZH, STATE_LABELS

ACTION_NAMES = {
    "accept": ("受理", "accepted"), "handle": ("处置", "handled"), "escalate": ("上报上级", "escalated"),
    "dispatch": ("派遣部门", "dispatched"), "check_in": ("部门报到", "checked in"), "close": ("结案", "closed"),
    "reject": ("核查不通过, 退回", "rejected"), "assess": ("街道评价部门办理", "assessed"),
    "rate": ("群众评价", "rated"), "reopen": ("重新办理", "reopened"),
}


class NoticeCase(Protocol):
    """What a notice reads of a case."""

    id: int
    category: str
    status: str
    level: int
    department: str | None
    grid_code: str | None
    community_code: str | None
    street_code: str | None
    district_code: str | None
    address: str | None


def recipients(hooks: Mapping[str, str], case: NoticeCase) -> list[str]:
    """The webhook URLs that hear of a step of case: its department's and those of every area holding it."""
    areas = [c for c in (case.grid_code, case.community_code, case.street_code, case.district_code) if c]
    urls = [url for key, url in hooks.items()
            if key == case.department or any(covers(key, code) for code in areas)]
    return list(dict.fromkeys(urls))


def message(case: NoticeCase, action: str, username: str, category_name: str, note: str | None = None,
            lang: str = "zh") -> dict[str, Any]:
    """The JSON a WeCom or DingTalk group robot takes: one text saying what happened to which case."""
    zh_action, en_action = ACTION_NAMES.get(action, (action, action))
    state_zh, state_en = STATE_LABELS[case.status]
    where = case.grid_code or case.community_code or "未定位"
    if lang == "en":
        text = (f"Case {case.id} ({category_name}, {where}) {en_action} by {username}: now {state_en} at the "
                f"{LEVEL_NAMES[case.level]} level")
    else:
        text = (f"【网格化管理】案件 {case.id}({category_name}, {where}){zh_action}, 操作人 {username}; "
                f"当前: {LEVEL_NAMES_ZH[case.level]}级, {state_zh}")
    if case.address:
        text += f"\n{'Address' if lang == 'en' else '地址'}: {case.address}"
    if note:
        text += f"\n{'Note' if lang == 'en' else '说明'}: {note}"
    return {"msgtype": "text", "text": {"content": text}}

"""The catalogue of maps/i18n.py: every rule the engine and the editor flag has a reason in both languages, the
script tables of each page have the same keys in both, and a flag's reason is filled from its own fields."""

from __future__ import annotations

import re
from pathlib import Path

from maps import i18n

ROOT = Path(__file__).resolve().parents[1]


def test_every_flagged_rule_has_a_reason_in_both_languages() -> None:
    sources = [*(ROOT / "geogrid" / "partition").glob("*.py")]
    rules = {m for p in sources for m in re.findall(r'"rule": "([a-z_]+)"', p.read_text(encoding="utf-8"))}
    rules |= {"gap", "overlap", "outside_community"}  # editing.py names them through tiling_pieces
    assert rules <= set(i18n.FLAG_REASONS), rules - set(i18n.FLAG_REASONS)
    assert all(set(texts) == set(i18n.LANGS) for texts in i18n.FLAG_REASONS.values())


def test_each_page_table_has_the_same_keys_in_both_languages() -> None:
    for page, tables in i18n.SCRIPT_LABELS.items():
        assert set(tables["zh"]) == set(tables["en"]), page
    assert set(i18n.COMMON_SCRIPT_LABELS["zh"]) - {k for k in i18n.COMMON_SCRIPT_LABELS["zh"] if k.startswith("http_")} \
        == set(i18n.COMMON_SCRIPT_LABELS["en"])


def test_a_flag_reason_is_filled_from_its_fields() -> None:
    flag = {"rule": "min_population", "value": 412, "limit": 450.0, "reason": "412 residents, below the minimum of 450"}
    assert i18n.flag_reason(flag, "zh") == "412 人，低于下限 450 人"
    assert i18n.flag_reason(flag, "en") == "412 residents, below the minimum of 450"
    assert i18n.flag_reason({"rule": "unassigned_buildings", "building_ids": ["B7"]}, "zh") == "1 栋楼不属于任何网格：B7"
    assert i18n.flag_reason({"rule": "several_parts"}, "zh") == "网格由 ? 块互不相连的部分组成"  # a field missing
    assert i18n.flag_reason({"rule": "unknown_rule", "reason": "as the engine said"}, "zh") == "as the engine said"


def test_page_scripts_get_the_common_labels_and_their_own() -> None:
    leader = i18n.script_labels("leader", "zh")
    assert leader["pause"] == "暂停" and leader["zoom_in"] == "放大" and leader["flag_reason.gap"].endswith("不属于任何网格")
    assert "zoom_in" not in i18n.script_labels("login", "en") and i18n.script_labels("login", "en")["sign_in"] == "Sign in"
    assert i18n.basemap_name("none", "en") == "No base map"
    assert i18n.refusal("wrong_role", "zh", role="grid_worker", page="leader") == "“网格员”角色不能打开“领导驾驶舱”页面。"

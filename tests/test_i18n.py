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


def refusal_codes_in_sources() -> set[str]:
    """Every refusal code the service raises (a "<kind>.<name>" text in geogrid/ and api/, of the kinds a code
    is given in: code="...", or chosen by a condition) or maps a field error to."""
    sources = [*(ROOT / "geogrid").rglob("*.py"), *(ROOT / "api").rglob("*.py")]
    kinds = {m for p in sources for m in re.findall(r'code="([a-z_]+)\.[a-z_]+"', p.read_text(encoding="utf-8"))}
    pattern = re.compile(r'"((?:' + "|".join(sorted(kinds)) + r')\.[a-z_]+)"')
    found = {m for p in sources for m in pattern.findall(p.read_text(encoding="utf-8"))}
    from api.errors import FIELD_ERROR_CODES

    return found | set(FIELD_ERROR_CODES.values()) | {"input.invalid"}


def test_each_refusal_code_has_a_sentence_in_both_languages() -> None:
    codes = refusal_codes_in_sources()
    assert {"workflow.not_allowed_now", "workflow.not_your_level", "workflow.not_your_area", "edit.not_whole",
            "publish.hard_rules", "publish.needs_reason", "input.too_long", "report.no_location"} <= codes
    assert codes - set(i18n.REFUSAL_CODES) == set()
    assert set(i18n.REFUSAL_CODES) - codes == set(), "a sentence for a code nothing raises"
    for code, texts in i18n.REFUSAL_CODES.items():
        assert set(texts) == set(i18n.LANGS) and all(texts.values()), code
        names = {lang: set(re.findall(r"\{(\w+)\}", text)) for lang, text in texts.items()}
        assert names["zh"] == names["en"], code  # both say the same values
        assert english_free(texts["zh"]), code
    assert all(set(texts) == set(i18n.LANGS) for texts in i18n.refusal_terms().values())


def english_free(text: str) -> bool:
    """No English word of four letters or more outside the {placeholders}."""
    return not re.findall(r"[A-Za-z]{4,}", re.sub(r"\{\w+\}", "", text))


def test_a_refusal_is_said_from_its_code_and_values() -> None:
    params = {"action": "close", "status": "accepted", "level": 2}
    assert i18n.refusal_text("workflow.not_allowed_now", params, "zh") == "案件当前为“处置中”（社区层级），此时不能结案"
    assert i18n.refusal_text("workflow.not_allowed_now", params, "en") == \
        "You cannot close a case that is accepted at the community level"
    assert i18n.refusal_text("publish.hard_rules", {"count": 2, "rules": ["gap", "overlap"]}, "zh") == \
        "方案有 2 处问题须先修正才能发布：有空隙、有重叠"
    flags = [{"rule": "gap", "area_m2": 12.0, "at": [1.0, 2.0]}, {"rule": "overlap", "area_m2": 3.5}]
    assert i18n.refusal_text("edit.not_whole", {"flags": flags}, "zh") == \
        "此修改被拒绝，因为会造成：12 平方米的社区范围不属于任何网格；3.5 平方米同时属于多个网格"
    assert i18n.refusal_text("input.too_long", {"field": "description", "length": 4001, "limit": 4000}, "zh") == \
        "“问题描述”有 4001 个字符，最多 4000 个"
    assert i18n.refusal_text("edit.not_draft", {"status": "published"}, "zh") == "该方案为“已发布”，只有草稿可以修改：请先新建草稿"
    assert i18n.refusal_text("report.unknown_category", {}, "zh") == "没有“?”这个类别"  # a value missing
    assert i18n.refusal_text("no.such_code", {}, "zh") is None
    assert i18n.script_labels("worker", "zh")["refusal.workflow.not_your_area"].startswith("该案件不在")
    assert i18n.script_labels("planner", "en")["term.status.handled"] == "handled, awaiting verification"

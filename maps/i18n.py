"""Every text geogrid's pages show, in Simplified Chinese (default) and English: one Python catalogue.

LABELS are the server's labels (maps, page titles, refusals); SCRIPT_LABELS are what each page's script shows,
served to the page in its configuration (``labels``), so a script never carries its own text. A dictionary
keyed by message id, not Babel: two languages, no plural forms beyond a number and a word, and the same keys
serve Python and the scripts, which gettext catalogues would not.
"""

from __future__ import annotations

from geogrid.errors import InputError

DEFAULT_LANG = "zh"
LANGS = ("zh", "en")

LABELS: dict[str, dict[str, str]] = {
    "map_title": {"zh": "网格地图", "en": "Grid map"},
    "legend": {"zh": "图例", "en": "Legend"},
    "grid": {"zh": "网格", "en": "Grid"},
    "grids": {"zh": "网格", "en": "Grids"},
    "grid_code": {"zh": "网格编码", "en": "Grid code"},
    "community": {"zh": "社区", "en": "Community"},
    "community_code": {"zh": "社区编码", "en": "Community code"},
    "street": {"zh": "街道", "en": "Street"},
    "village": {"zh": "村", "en": "Village"},
    "name": {"zh": "名称", "en": "Name"},
    "households": {"zh": "户数", "en": "Households"},
    "population": {"zh": "人口", "en": "Population"},
    "buildings": {"zh": "楼栋数", "en": "Buildings"},
    "within_limits": {"zh": "符合规则", "en": "Within limits"},
    "flags": {"zh": "问题", "en": "Flags"},
    "incidents": {"zh": "事件", "en": "Incidents"},
    "incident_heat": {"zh": "事件热力图", "en": "Incidents (heat map)"},
    "heat_map": {"zh": "热力图", "en": "Heat map"},
    "heat_low": {"zh": "少", "en": "Few"},
    "heat_high": {"zh": "多", "en": "Many"},
    "cameras": {"zh": "摄像头", "en": "Cameras"},
    "camera_id": {"zh": "摄像头编号", "en": "Camera ID"},
    "count": {"zh": "数量", "en": "Count"},
}


SCRIPT_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "login": {
        "zh": {"title": "登录 geogrid", "username": "用户名", "password": "密码", "sign_in": "登录", "other": "English",
               "failed": "用户名或密码错误", "wait": "尝试次数过多, 请 {s} 秒后再试"},
        "en": {"title": "Sign in to geogrid", "username": "Username", "password": "Password", "sign_in": "Sign in",
               "other": "中文", "failed": "Incorrect username or password", "wait": "Too many tries: try again in {s} s"},
    },
    "leader": {
        "zh": {
            "sign_out": "退出", "other": "English", "category": "类别", "all": "全部类别", "since": "从", "until": "至",
            "play": "播放", "pause": "暂停", "whole": "全时段", "week": "周", "weeks": "周", "cases": "件",
            "whole_period": "全时段", "shown": "地图与表格显示", "width": "窗口宽度", "speed": "播放速度",
            "week_of": "第 {a}–{b} 周 / 共 {n} 周", "one_week_of": "第 {a} 周 / 共 {n} 周",
            "table_title": "各区域办结情况", "hint": "点击地图上的区域或表格行可逐级查看。", "area": "区域",
            "count": "案件数", "closed": "已办结", "closure_rate": "办结率", "overdue": "超期",
            "overdue_open": "超期未办结", "closed_late": "超期办结", "median_hours": "办结用时中位数(小时)",
            "per_1000": "每千户案件数", "households": "户数", "heat": "案件热力图", "choropleth": "每千户案件数",
            "h3": "H3 六边形密度", "hotspots": "热点/冷点 (Gi*)", "hot": "热点", "cold": "冷点", "no_data": "无数据",
            "street": "街道/镇", "community": "社区/村", "grid": "网格", "district": "区", "failed": "加载失败",
            "no_rows": "无区域", "h3_legend": "每个 H3 单元的案件数", "loading": "加载中…", "heat_low": "少",
            "heat_high": "多", "heat_legend": "案件密度", "no_spots": "当前时段没有显著的热点或冷点",
            "spots_legend": "热点/冷点 (显著性经 FDR 校正)", "week_word": "周",
        },
        "en": {
            "sign_out": "Sign out", "other": "中文", "category": "Category", "all": "All categories", "since": "From",
            "until": "To", "play": "Play", "pause": "Pause", "whole": "Whole period", "week": "week", "weeks": "weeks",
            "cases": "cases", "whole_period": "Whole period", "shown": "Map and table show", "width": "Window",
            "speed": "Speed", "week_of": "weeks {a}–{b} of {n}", "one_week_of": "week {a} of {n}",
            "table_title": "Cases and closure per area", "hint": "Click an area on the map or a table row to drill down.",
            "area": "Area", "count": "Cases", "closed": "Closed", "closure_rate": "Closure rate", "overdue": "Overdue",
            "overdue_open": "Open and overdue", "closed_late": "Closed late", "median_hours": "Median hours to close",
            "per_1000": "Cases per 1,000 households", "households": "Households", "heat": "Incident heat map",
            "choropleth": "Cases per 1,000 households", "h3": "H3 hexagon density", "hotspots": "Hot and cold spots (Gi*)",
            "hot": "hot spot", "cold": "cold spot", "no_data": "no data", "street": "Street/town",
            "community": "Community/village", "grid": "Grid", "district": "District", "failed": "Failed to load",
            "no_rows": "No areas", "h3_legend": "cases per H3 cell", "loading": "Loading…", "heat_low": "few",
            "heat_high": "many", "heat_legend": "Case density", "no_spots": "No significant hot or cold spot in this window",
            "spots_legend": "Hot and cold spots (FDR-corrected)", "week_word": "week",
        },
    },
}
REFUSALS = {  # the pages the server answers instead of a map page
    "no_page": {"zh": "没有这个页面。", "en": "There is no such page."},
    "no_role_page": {"zh": "“{role}”角色没有地图页面。", "en": "The {role} role has no map page."},
    "wrong_role": {"zh": "“{role}”角色不能打开“{page}”页面。", "en": "The {role} role may not open the {page} page."},
    "refused_title": {"zh": "无法打开页面", "en": "This page cannot be opened"},
    "go_home": {"zh": "返回我的页面", "en": "Back to my page"},
    "sign_out": {"zh": "退出登录", "en": "Sign out"},
}
ROLE_NAMES = {
    "admin": {"zh": "管理员", "en": "administrator"}, "planner": {"zh": "规划员", "en": "planner"},
    "leader": {"zh": "领导", "en": "leader"}, "grid_worker": {"zh": "网格员", "en": "grid worker"},
    "department_staff": {"zh": "部门工作人员", "en": "department staff"},
}
PAGE_NAMES = {
    "planner": {"zh": "网格规划", "en": "planning"}, "worker": {"zh": "我的网格", "en": "grid worker"},
    "leader": {"zh": "领导驾驶舱", "en": "leader"},
}


def script_labels(page: str, lang: str = DEFAULT_LANG) -> dict[str, str]:
    """What page's script shows, in lang (an empty table for a page whose script keeps its own)."""
    return dict(SCRIPT_LABELS.get(page, {}).get(check_lang(lang), {}))


def refusal(key: str, lang: str = DEFAULT_LANG, **values: str) -> str:
    """A refusal page's sentence in lang, with role and page names in that language."""
    lang = check_lang(lang)
    names = {k: (ROLE_NAMES if k == "role" else PAGE_NAMES).get(v, {}).get(lang, v) for k, v in values.items()}
    return REFUSALS[key][lang].format(**names)


def t(key: str, lang: str = DEFAULT_LANG) -> str:
    """The label `key` in `lang` ("zh" or "en"); KeyError for an unknown key, InputError for an unknown language."""
    return LABELS[key][check_lang(lang)]


def check_lang(lang: str) -> str:
    """Return `lang` if maps speak it, else raise InputError listing the languages."""
    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r}: use one of {', '.join(LANGS)}")
    return lang

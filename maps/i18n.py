"""Labels shown on geogrid's maps, in Simplified Chinese (default) and English."""

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


def t(key: str, lang: str = DEFAULT_LANG) -> str:
    """The label `key` in `lang` ("zh" or "en"); KeyError for an unknown key, InputError for an unknown language."""
    return LABELS[key][check_lang(lang)]


def check_lang(lang: str) -> str:
    """Return `lang` if maps speak it, else raise InputError listing the languages."""
    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r}: use one of {', '.join(LANGS)}")
    return lang

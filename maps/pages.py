"""The service's map pages (planner, grid worker, leader, sign-in): folium maps with our own scripts and styles."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
from branca.element import Element

from maps.assets import ICON_AND_BOOTSTRAP_ASSETS, asset, localize
from maps.i18n import basemap_name, check_lang, refusal, script_labels

TEMPLATES = Path(__file__).resolve().parent / "templates"
PLUGINS = {  # page -> vendored Leaflet plugins its script uses (beyond Leaflet itself)
    "planner": ("geoman_css", "geoman_js", "vectorgrid_js"),
    "worker": (),
    "leader": ("leaflet_heat",),
    "desk": (),
}
TITLES = {
    "planner": {"zh": "网格规划", "en": "Grid planning"},
    "worker": {"zh": "我的网格", "en": "My grid"},
    "leader": {"zh": "领导驾驶舱", "en": "Leader dashboard"},
    "desk": {"zh": "案件工作台", "en": "Case desk"},
    "login": {"zh": "登录 geogrid", "en": "Sign in to geogrid"},
}
PREFIX = "/static"


@dataclass(frozen=True)
class PageContext:
    """What a page needs to know: who is signed in, the language, the base map and where to look first."""

    username: str
    role: str
    scope: str
    lang: str = "zh"
    basemap: str = "none"
    basemaps: dict[str, dict[str, Any]] = field(default_factory=dict)
    center: tuple[float, float] = (25.83, 114.93)  # lat, lon
    zoom: int = 14
    extra: dict[str, Any] = field(default_factory=dict)
    demo: bool = False  # a demo store: every page says so at its top


DEMO_BANNER = {
    "zh": "演示模式：示例数据，演示账号的密码已公开，请勿录入真实数据",
    "en": "Demo mode: sample data and published demo passwords — enter no real data",
}


def demo_banner(lang: str) -> str:
    """The red bar at the top of every page of a demo store."""
    return f'<div class="geogrid-demo-banner" role="alert">{html.escape(DEMO_BANNER[lang])}</div>'


def page_html(kind: str, context: PageContext) -> str:
    """The HTML of one map page: a folium map (no tiles unless a base map is chosen), its side panel from
    templates/<kind>.html, geogrid.js and <kind>.js; every file served by us."""
    lang = check_lang(context.lang)
    m = folium.Map(location=list(context.center), zoom_start=context.zoom, tiles=None, control_scale=True,
                   prefer_canvas=True)
    figure = m.get_root()
    figure.title = TITLES[kind][lang]
    config = {
        "page": kind,
        "lang": lang,
        "mapName": m.get_name(),
        "user": {"username": context.username, "role": context.role, "scope": context.scope},
        "basemap": context.basemap,
        "basemaps": {key: value | {"label": basemap_name(key, lang)} for key, value in context.basemaps.items()},
        "labels": script_labels(kind, lang),
    } | context.extra
    localize(m, prefix=f"{PREFIX}/vendor", omit=ICON_AND_BOOTSTRAP_ASSETS)
    vendor = f"{PREFIX}/vendor"
    head = [f'<link rel="stylesheet" href="{vendor}/{asset(key).path}"/>' if asset(key).kind == "css"
            else f'<script src="{vendor}/{asset(key).path}"></script>' for key in PLUGINS[kind]]
    head += [
        f'<link rel="stylesheet" href="{PREFIX}/css/geogrid.css"/>',
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
        '<link rel="icon" href="data:,"/>',  # no /favicon.ico request (a 404 in the console)
        _config_element(config),
        f'<script defer src="{PREFIX}/js/geogrid.js"></script>',
        f'<script defer src="{PREFIX}/js/{kind}.js"></script>',
    ]
    for i, line in enumerate(head):
        figure.header.add_child(Element(line), name=f"geogrid_{i}")
    panel = (TEMPLATES / f"{kind}.html").read_text(encoding="utf-8")
    banner = demo_banner(lang) if context.demo else ""
    figure.html.add_child(Element(banner + panel + _toast()), name="geogrid_panel")
    page = figure.render()
    return page.replace("<html>", f'<html lang="{"zh-CN" if lang == "zh" else "en"}">', 1)


def login_html(lang: str = "zh", next_path: str = "/maps/", demo: bool = False) -> str:
    """The sign-in page (no map): a form that gets a token from the API and keeps it for the map pages."""
    lang = check_lang(lang)
    body = (TEMPLATES / "login.html").read_text(encoding="utf-8")
    config = {"page": "login", "lang": lang, "next": next_path, "labels": script_labels("login", lang)}
    return (
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8"/>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"/><link rel="icon" href="data:,"/><title>{html.escape(TITLES["login"][lang])}</title>'
        f'<link rel="stylesheet" href="{PREFIX}/css/geogrid.css"/>'
        f"{_config_element(config)}"
        f'<script defer src="{PREFIX}/js/login.js"></script></head><body>{demo_banner(lang) if demo else ""}{body}'
        "</body></html>"
    )


def refused_html(lang: str, message: str, home: str | None = None) -> str:
    """A page the server answers instead of a map page (no page, or not for this role): styled like the sign-in
    page, in the user's language, with a way back to their own page and a way out (no script: plain links and a
    form)."""
    lang = check_lang(lang)
    back = f'<a class="geogrid-button" href="{html.escape(home)}">{html.escape(refusal("go_home", lang))}</a>' if home else ""
    return (
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8"/>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"/><link rel="icon" href="data:,"/>'
        f'<title>{html.escape(refusal("refused_title", lang))}</title>'
        f'<link rel="stylesheet" href="{PREFIX}/css/geogrid.css"/></head><body>'
        f'<main class="geogrid-login geogrid-refused"><h1>{html.escape(refusal("refused_title", lang))}</h1>'
        f'<p id="refusal">{html.escape(message)}</p><p class="geogrid-bar">{back}'
        f'<a href="/maps/login?lang={lang}">{html.escape(refusal("sign_in_again", lang))}</a></p></main></body></html>'
    )


def _toast() -> str:
    """The message box pages show results and errors in."""
    return '<div id="geogrid-toast" class="geogrid-toast hidden" role="status"></div>'


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no '<' at all, so no text of the user's can open or close a tag."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def _config_element(config: dict[str, Any]) -> str:
    """The page's settings as a JSON data block (never run: the Content-Security-Policy allows no inline script
    of ours); geogrid.js and login.js read it."""
    return f'<script type="application/json" id="geogrid-config">{_script_json(config)}</script>'


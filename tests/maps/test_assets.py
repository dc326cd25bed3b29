"""The vendored assets: present with their licences, and folium pages made to load them and nothing remote."""

from __future__ import annotations

import re

import folium
import pytest
from folium import plugins

from maps.assets import ASSETS, asset_for_url, external_urls, render_page, static_dir, vendor_dir
from maps.i18n import LABELS, LANGS, t
from geogrid.errors import InputError


def _full_map() -> folium.Map:
    """A map using folium's defaults and every plugin we vendor, with the default OpenStreetMap tiles."""
    m = folium.Map(location=[25.85, 114.93], zoom_start=13)
    folium.Marker([25.85, 114.93], icon=folium.Icon()).add_to(m)
    folium.Marker([25.86, 114.94], icon=folium.Icon(prefix="fa", icon="camera", angle=45)).add_to(m)
    plugins.HeatMap([[25.85, 114.93, 2]]).add_to(m)
    plugins.Draw().add_to(m)
    plugins.GeoMan().add_to(m)
    plugins.VectorGridProtobuf("/tiles/grids/{z}/{x}/{y}.pbf", "grids").add_to(m)
    return m


def test_every_asset_is_vendored_with_a_licence():
    for item in ASSETS:
        path = vendor_dir() / item.path
        assert path.is_file() and path.stat().st_size > 0, f"{path}: run scripts/setup.sh"
    for folder in (p for p in vendor_dir().iterdir() if p.is_dir()):
        assert any(f.name.upper().startswith("LICEN") for f in folder.iterdir()), f"{folder} has no licence"
    assert vendor_dir().parent == static_dir()


def test_external_urls_finds_what_folium_loads_by_default():
    m = _full_map()
    m.get_root().html.add_child(folium.Element(
        '<img src="https://example.org/a.png"><style>@import url("//cdn.example/x.css"); '
        'div{background:url(\'https://example.org/b.png\')}</style>'))
    urls = external_urls(m.get_root().render())
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in urls
    assert any(u.endswith("/leaflet.js") for u in urls) and any(u.endswith("leaflet.draw.css") for u in urls)
    assert {"https://example.org/a.png", "//cdn.example/x.css", "https://example.org/b.png"} <= set(urls)


def test_localized_page_links_only_vendored_files_in_load_order():
    m = _full_map()
    html = render_page(m, prefix="/static/vendor")
    assert [u for u in external_urls(html) if "tile.openstreetmap.org" not in u] == []
    links = re.findall(r'<(?:script src|link rel="stylesheet" href)="([^"]+)"', html)
    assert links and all(u.startswith("/static/vendor/") for u in links)
    assert all((vendor_dir() / u.removeprefix("/static/vendor/")).is_file() for u in links)
    scripts = [u for u in links if u.endswith(".js")]
    assert scripts[0].endswith("leaflet/leaflet.js") and len(scripts) == len(set(scripts))


def test_inlined_page_has_no_links_and_fonts_as_data():
    m = _full_map()
    html = render_page(m, inline=True)
    assert external_urls(html) == ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]
    assert "<script src=" not in html and '<link rel="stylesheet"' not in html
    assert "data:font/woff2;base64," in html and "data:image/png;base64," in html


def test_unknown_cdn_asset_is_refused():
    with pytest.raises(ValueError, match="no vendored copy"):
        asset_for_url("https://cdnjs.cloudflare.com/ajax/libs/leaflet-minimap/3.6.1/Control.MiniMap.js")


def test_labels_exist_in_every_language():
    assert all(set(row) == set(LANGS) for row in LABELS.values())
    assert t("households") == "户数" and t("households", "en") == "Households"
    with pytest.raises(InputError):
        t("grid", "fr")


def test_every_vendored_library_runs_inlined_in_chromium(page_log, tmp_path):
    m = folium.Map(location=[25.85, 114.93], zoom_start=13, tiles=None)
    folium.Marker([25.85, 114.93], icon=folium.Icon()).add_to(m)
    folium.Marker([25.86, 114.94], icon=folium.Icon(prefix="fa", icon="camera", angle=45)).add_to(m)
    plugins.HeatMap([[25.85, 114.93, 2]]).add_to(m)
    plugins.Draw().add_to(m)
    plugins.GeoMan().add_to(m)
    path = tmp_path / "full.html"
    path.write_text(render_page(m, inline=True), encoding="utf-8")
    page = page_log.page
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(300)
    assert page_log.console_errors == [] and page_log.page_errors == [] and page_log.remote_requests() == []
    loaded = page.evaluate("() => [typeof L.heatLayer, typeof L.Control.Draw, typeof L.PM, typeof L.AwesomeMarkers,"
                           " typeof jQuery, typeof bootstrap]")
    assert loaded == ["function", "function", "object", "object", "function", "object"]
    assert page.evaluate("() => document.fonts.check('900 12px \"Font Awesome 6 Free\"')")

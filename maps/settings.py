"""Base maps the map pages offer, read from GEOGRID_* environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class MapSettings(BaseSettings):
    """Which base map the pages show first and which tile servers they may use."""

    model_config = SettingsConfigDict(env_prefix="GEOGRID_", extra="ignore")

    basemap: Literal["none", "custom", "osm", "tianditu", "amap"] = "none"  # none: boundaries only, works offline
    basemap_url: str | None = None  # your own tile server, e.g. http://tiles.intranet/{z}/{x}/{y}.png
    tianditu_key: str | None = None  # 天地图 key (tk)

    def basemaps(self) -> dict[str, dict[str, str]]:
        """The base maps the map pages offer: none always; your tile server and Tianditu when configured (their
        names, in each language, are in maps/i18n.py: BASEMAP_NAMES)."""
        found = {"none": {"url": ""}}
        if self.basemap_url:
            found["custom"] = {"url": self.basemap_url, "attribution": ""}
        found["osm"] = {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                        "attribution": "© OpenStreetMap contributors"}
        if self.tianditu_key:
            found["tianditu"] = {
                "url": "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec"
                "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
                f"&tk={self.tianditu_key}",
                "subdomains": "01234567",
                "attribution": "© 天地图",
            }
        found["amap"] = {
            "url": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            "subdomains": "1234",
            "attribution": "© 高德地图",
        }
        return found

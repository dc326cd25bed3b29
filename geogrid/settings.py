"""Service settings, read from GEOGRID_* environment variables."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_FILE = "secret_key"
DEMO_OPEN311_KEY = "open311-demo-key"


class Settings(BaseSettings):
    """Where the store lives and how the service behaves.

    With no GEOGRID_DATABASE_URL the store is an embedded SpatiaLite file in
    GEOGRID_DATA_DIR, and demo mode is on unless GEOGRID_DEMO says otherwise.
    With no GEOGRID_SECRET_KEY a random one is generated once and kept in
    <data dir>/secret_key.
    """

    model_config = SettingsConfigDict(env_prefix="GEOGRID_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = None
    secret_key: str | None = None
    token_minutes: int = 720
    max_upload_mb: int = 50
    demo: bool | None = None
    warm_statistics: bool = True  # read the incident columns for statistics when the service starts
    taxonomy_file: Path | None = None  # incident categories, departments, deadlines (default: the shipped one)
    open311_api_keys: str = ""  # comma-separated keys that may POST Open311 requests
    open311_jurisdiction: str = "geogrid"
    basemap: Literal["none", "custom", "osm", "tianditu", "amap"] = "none"  # none: boundaries only, works offline
    basemap_url: str | None = None  # your own tile server, e.g. http://tiles.intranet/{z}/{x}/{y}.png
    tianditu_key: str | None = None  # 天地图 key (tk)

    def basemaps(self) -> dict[str, dict[str, str]]:
        """The base maps the map pages offer: none always; your tile server and Tianditu when configured."""
        found = {"none": {"label": "无底图 / none", "url": ""}}
        if self.basemap_url:
            found["custom"] = {"label": "自有底图 / own tiles", "url": self.basemap_url, "attribution": ""}
        found["osm"] = {"label": "OpenStreetMap", "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                        "attribution": "© OpenStreetMap contributors"}
        if self.tianditu_key:
            found["tianditu"] = {
                "label": "天地图 / Tianditu",
                "url": "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec"
                "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
                f"&tk={self.tianditu_key}",
                "subdomains": "01234567",
                "attribution": "© 天地图",
            }
        found["amap"] = {
            "label": "高德 / Amap (GCJ-02)",
            "url": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            "subdomains": "1234",
            "attribution": "© 高德地图",
        }
        return found

    @property
    def api_keys(self) -> set[str]:
        """The Open311 API keys (demo mode adds the README's demo key)."""
        keys = {k.strip() for k in self.open311_api_keys.split(",") if k.strip()}
        return keys | ({DEMO_OPEN311_KEY} if self.demo else set())

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if self.demo is None:
            self.demo = self.database_url is None
        if self.database_url is None:
            self.database_url = f"sqlite:///{(self.data_dir / 'geogrid.sqlite').resolve()}"
        if not self.secret_key:
            self.secret_key = _persisted_secret(self.data_dir / SECRET_FILE)
        return self

    @property
    def embedded(self) -> bool:
        """True when the store is the embedded SpatiaLite file."""
        return str(self.database_url).startswith("sqlite")


def _persisted_secret(path: Path) -> str:
    """Read the secret kept at path, creating it (mode 600) on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; call get_settings.cache_clear() in tests)."""
    return Settings()

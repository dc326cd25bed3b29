"""The service's settings: the store's and the maps', plus tokens, uploads and Open311, from GEOGRID_* variables."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from geogrid.store.settings import StoreSettings
from maps.settings import MapSettings

SECRET_FILE = "secret_key"
DEMO_OPEN311_KEY = "open311-demo-key"


class Settings(StoreSettings, MapSettings):
    """How the service behaves.

    With no GEOGRID_SECRET_KEY a random one is generated once and kept in <data dir>/secret_key
    (mode 600); never in the folder the command runs from.
    """

    model_config = SettingsConfigDict(env_prefix="GEOGRID_", extra="ignore")

    secret_key: str | None = None
    token_minutes: int = 720
    max_upload_mb: int = 50  # each upload request (layers, cameras, hotline exports)
    max_photo_mb: int = 10  # each photo of a case
    max_unpacked_mb: int = 500  # what an uploaded archive (zip, xlsx) may unpack to
    max_archive_members: int = 200  # files in an uploaded archive
    max_body_kb: int = 2048  # any other request body (JSON)
    max_form_kb: int = 64  # the sign-in form and an Open311 report, sent before any token
    login_account_failures: int = 5  # failed sign-ins of one account within the window before it waits
    login_address_failures: int = 20  # failed sign-ins from one client address within the window before it waits
    login_lock_seconds: int = 30  # how long it waits after each further failure
    login_window_seconds: int = 300  # how far back failures count
    warm_statistics: bool = True  # read the incident columns for statistics when the service starts
    open311_api_keys: str = ""  # comma-separated keys that may POST Open311 requests
    open311_jurisdiction: str = "geogrid"
    # workflow notices: department or area code -> webhook URL (WeCom/DingTalk group robots), as JSON in
    # GEOGRID_WEBHOOKS, e.g. {"urban_management": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=..."}
    webhooks: dict[str, str] = {}
    webhook_retries: int = 5  # attempts after the first, waiting webhook_backoff_seconds, then twice that, ...
    webhook_backoff_seconds: float = 1.0
    webhook_timeout_seconds: float = 5.0

    @property
    def api_keys(self) -> set[str]:
        """The Open311 API keys (demo mode adds the README's demo key)."""
        keys = {k.strip() for k in self.open311_api_keys.split(",") if k.strip()}
        return keys | ({DEMO_OPEN311_KEY} if self.demo else set())

    @model_validator(mode="after")
    def _fill_secret(self) -> Settings:
        if not self.secret_key:
            self.secret_key = _persisted_secret(self.data_dir / SECRET_FILE)
        return self


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

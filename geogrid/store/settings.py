"""Where the store lives, read from GEOGRID_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """The user's data folder for geogrid (e.g. ~/.local/share/geogrid), never the working folder."""
    return platformdirs.user_data_path("geogrid")


class StoreSettings(BaseSettings):
    """The database and the service's own files.

    With no GEOGRID_DATABASE_URL the store is an embedded SpatiaLite file in GEOGRID_DATA_DIR
    (default: the user's data folder), and demo mode is on unless GEOGRID_DEMO says otherwise.
    """

    model_config = SettingsConfigDict(env_prefix="GEOGRID_", extra="ignore")

    data_dir: Path = Path()
    database_url: str | None = None
    demo: bool | None = None
    taxonomy_file: Path | None = None  # incident categories, departments, deadlines (default: the shipped one)
    media_dir: Path | None = None  # where case photos are kept (default: <data dir>/media)
    assessment_file: Path | None = None  # the assessment's deadlines and weights (default: the shipped one)

    @model_validator(mode="after")
    def _fill_store_defaults(self) -> StoreSettings:
        if self.data_dir == Path():
            self.data_dir = default_data_dir()
        if self.demo is None:
            self.demo = self.database_url is None
        if self.database_url is None:
            self.database_url = f"sqlite:///{(self.data_dir / 'geogrid.sqlite').resolve()}"
        return self

    @property
    def photo_dir(self) -> Path:
        """The folder case photos are kept in."""
        return self.media_dir or self.data_dir / "media"

    @property
    def embedded(self) -> bool:
        """True when the store is the embedded SpatiaLite file."""
        return str(self.database_url).startswith("sqlite")


@lru_cache
def get_store_settings() -> StoreSettings:
    """The process-wide store settings (cached; call get_store_settings.cache_clear() in tests)."""
    return StoreSettings()

"""Where the store lives, read from GEOGRID_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
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
    # case photos in an S3-compatible bucket (AWS S3, MinIO, Ceph, OSS) instead of media_dir, when a bucket is named;
    # credentials from the explicit pair below, else the standard AWS chain (AWS_ACCESS_KEY_ID and
    # AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws, an instance role)
    media_s3_bucket: str | None = None
    media_s3_endpoint_url: str | None = None  # e.g. http://minio.intranet:9000 (default: AWS S3 itself)
    media_s3_region: str | None = None
    media_s3_prefix: str = ""  # keys under this folder of the bucket, e.g. geogrid/media
    # "path": http://host/bucket/key, "virtual": http://bucket.host/key (Aliyun OSS needs it), "auto": path for an
    # endpoint_url, virtual for AWS S3 itself (botocore's choice)
    media_s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    media_s3_access_key_id: str | None = None
    media_s3_secret_access_key: SecretStr | None = None
    media_s3_timeout_seconds: float = Field(5.0, gt=0)  # to connect, and for each answer (a store down: 503 soon)
    media_s3_attempts: int = Field(2, ge=1, le=10)  # tries of each request to the bucket, the first included
    assessment_file: Path | None = None  # the assessment's deadlines and weights (default: the shipped one)

    @field_validator("media_s3_endpoint_url")
    @classmethod
    def _endpoint_is_a_url(cls, value: str | None) -> str | None:
        if value and not value.lower().startswith(("http://", "https://")):
            raise ValueError(f"GEOGRID_MEDIA_S3_ENDPOINT_URL must be an http:// or https:// URL, not {value!r}")
        return value or None

    @model_validator(mode="after")
    def _s3_keys_come_in_pairs(self) -> StoreSettings:
        if (self.media_s3_access_key_id is None) != (self.media_s3_secret_access_key is None):
            raise ValueError("GEOGRID_MEDIA_S3_ACCESS_KEY_ID and GEOGRID_MEDIA_S3_SECRET_ACCESS_KEY are set together "
                             "(or neither, for the standard AWS credential chain)")
        return self

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

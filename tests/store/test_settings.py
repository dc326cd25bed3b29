"""Settings: the embedded default, a persisted secret, and environment overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import Settings


def test_embedded_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEOGRID_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("GEOGRID_DATABASE_URL", raising=False)
    monkeypatch.delenv("GEOGRID_SECRET_KEY", raising=False)
    settings = Settings()
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'geogrid.sqlite'}"
    assert settings.demo and settings.embedded and settings.token_minutes == 720 and settings.max_upload_mb == 50
    assert len(settings.secret_key) > 40 and Settings().secret_key == settings.secret_key
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEOGRID_DATABASE_URL", "postgresql+psycopg://u@db/geogrid")
    monkeypatch.setenv("GEOGRID_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("GEOGRID_TOKEN_MINUTES", "30")
    settings = Settings()
    assert not settings.demo and not settings.embedded
    assert (settings.secret_key, settings.token_minutes) == ("k" * 40, 30)

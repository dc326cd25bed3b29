"""/docs and /redoc load Swagger UI and ReDoc from our own server: nothing from a CDN, every asset served."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from maps.assets import external_urls

from .gis_support import *


@pytest.fixture
def backend() -> str:  # the pages do not touch the store: one backend is enough
    return "spatialite"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_docs_load_only_our_own_assets(gis_client: TestClient, page: str) -> None:
    answer = gis_client.get(page)
    assert answer.status_code == 200
    html = answer.text
    assert external_urls(html) == [] and "fonts.googleapis" not in html and "cdn.jsdelivr" not in html
    assets = re.findall(r'(?:src|href)="(/static/vendor/[^"]+)"', html)
    assert any(a.endswith(".js") for a in assets)
    for asset in assets:
        served = gis_client.get(asset)
        assert served.status_code == 200 and len(served.content) > 500, f"{asset}: run scripts/setup.sh"
    assert "/openapi.json" in html and gis_client.get("/openapi.json").status_code == 200


def test_the_swagger_oauth2_redirect_is_served(gis_client: TestClient) -> None:
    answer = gis_client.get("/docs/oauth2-redirect")
    assert answer.status_code == 200 and "oauth2" in answer.text.lower()

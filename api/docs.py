"""/docs (Swagger UI) and /redoc served with their scripts from our own server, so they work on an intranet."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

VENDOR = "/static/vendor"  # where app.py mounts maps/static, filled by `python -m maps.vendor`
SWAGGER_JS = f"{VENDOR}/swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = f"{VENDOR}/swagger-ui/swagger-ui.css"
SWAGGER_ICON = f"{VENDOR}/swagger-ui/favicon-32x32.png"
REDOC_JS = f"{VENDOR}/redoc/redoc.standalone.js"
DOCS, REDOC, OAUTH2_REDIRECT = "/docs", "/redoc", "/docs/oauth2-redirect"


def add_docs(app: FastAPI) -> None:
    """Add /docs, its OAuth2 redirect and /redoc, each loading only our vendored assets (no CDN, no web fonts).

    The app must be made with docs_url=None and redoc_url=None, so that FastAPI's CDN pages are not added."""
    title = app.title

    @app.get(DOCS, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=str(app.openapi_url), title=f"{title} API",
                                   oauth2_redirect_url=OAUTH2_REDIRECT, swagger_js_url=SWAGGER_JS,
                                   swagger_css_url=SWAGGER_CSS, swagger_favicon_url=SWAGGER_ICON)

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC, include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=str(app.openapi_url), title=f"{title} API", redoc_js_url=REDOC_JS,
                              redoc_favicon_url=SWAGGER_ICON, with_google_fonts=False)

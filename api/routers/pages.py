"""The map pages in the browser: sign-in, and one page per kind of user, behind the same accounts and roles."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Cookie, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from api.deps import Principal, SessionDep, SettingsDep
from api.auth import checked_sign_in
from api.tokens import COOKIE, InvalidToken, claims_of, create_token
from geogrid import access
from geogrid.store.areas import outline
from geogrid.store.users import get_user
from maps.i18n import refusal
from maps.pages import PageContext, login_html, page_html, refused_html

router = APIRouter(include_in_schema=False)
PAGE_ROLES = access.PAGE_ROLES
HOME = access.HOME_PAGE
Lang = Annotated[str, Query(pattern="^(zh|en)$")]
ZOOM = {"grid": 17, "community": 15, "street": 14, "district": 13}  # a map that fits an area of each level
NO_AREA_VIEW = (25.83, 114.93, 13)  # an empty store: the sample district's centre


@router.get("/")
def root(lang: Lang = "zh") -> RedirectResponse:
    """The service's front door is the map (in the language asked for)."""
    return RedirectResponse(f"/maps/?lang={lang}", status_code=303)


@router.get("/maps/login", response_class=HTMLResponse)
def login(settings: SettingsDep, lang: Lang = "zh", next: str = "/maps/") -> HTMLResponse:
    """The sign-in page."""
    return HTMLResponse(login_html(lang, next if next.startswith("/maps/") else "/maps/", bool(settings.demo)))


@router.get("/maps/")
def home(request: Request, session: SessionDep, settings: SettingsDep, lang: Lang = "zh",
         geogrid_token: Annotated[str | None, Cookie()] = None) -> Response:
    """The page for the signed-in user's role (department staff: the case desk)."""
    user = _page_user(session, settings, geogrid_token)
    if user is None:
        return _to_login(request, lang)
    page = HOME.get(user.role)
    if page is None:
        return HTMLResponse(refused_html(lang, refusal("no_role_page", lang, role=user.role)), status_code=403)
    return RedirectResponse(f"/maps/{page}?lang={lang}", status_code=303)


@router.get("/maps/{page}", response_class=HTMLResponse)
def map_page(
    page: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: Lang = "zh",
    basemap: str | None = None,
    geogrid_token: Annotated[str | None, Cookie()] = None,
) -> Response:
    """A map page, for the roles that may open it."""
    if page not in PAGE_ROLES:
        return HTMLResponse(refused_html(lang, refusal("no_page", lang), f"/maps/?lang={lang}"), status_code=404)
    user = _page_user(session, settings, geogrid_token)
    if user is None:
        return _to_login(request, lang)
    if user.role not in PAGE_ROLES[page]:
        message = refusal("wrong_role", lang, role=user.role, page=page)
        home = f"/maps/?lang={lang}" if user.role in HOME else None
        return HTMLResponse(refused_html(lang, message, home), status_code=403)
    basemaps = settings.basemaps()
    chosen = basemap if basemap in basemaps else (settings.basemap if settings.basemap in basemaps else "none")
    lat, lon, zoom = _view_of(session, user)
    context = PageContext(user.username, user.role, user.scope, lang, chosen, basemaps, (lat, lon), zoom,
                          demo=bool(settings.demo))
    return HTMLResponse(page_html(page, context), headers={"Cache-Control": "no-store"})


@router.post("/maps/session")
def sign_in(request: Request, session: SessionDep, settings: SettingsDep, username: Annotated[str, Form()],
            password: Annotated[str, Form()]) -> Response:
    """Sign the browser in: the token goes into an HttpOnly, SameSite=Strict cookie that no script can read
    (the same throttle as POST /api/v1/auth/token: 429 with Retry-After after repeated failures)."""
    user = checked_sign_in(request, session, username, password)
    response = JSONResponse({"username": user.username, "role": user.role})
    response.set_cookie(COOKIE, create_token(settings, user.username, user.token_version),
                        max_age=settings.token_minutes * 60, path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


@router.post("/maps/logout")
def sign_out(request: Request) -> Response:
    """Forget the browser's sign-in cookie."""
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


def _page_user(session: SessionDep, settings: SettingsDep, token: str | None) -> Principal | None:
    """The active user the page cookie's token names (at their current token version), or None."""
    if not token:
        return None
    try:
        username, _, version = claims_of(settings, token)
    except InvalidToken:
        return None
    user = get_user(session, username)
    if user is None or not user.active or user.token_version != version:
        return None
    return Principal(user.username, user.role, user.scope, user.department)


def _to_login(request: Request, lang: str) -> RedirectResponse:
    """To the sign-in page, coming back here after."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/maps/login?lang={lang}&next={quote(target)}", status_code=303)


def _view_of(session: SessionDep, user: Principal) -> tuple[float, float, int]:
    """Where the user's map opens: the centre of their grid or area, and a zoom that fits it."""
    found = outline(session, user.scope, grid=access.has_one_grid(user))
    if found is None:
        return NO_AREA_VIEW
    shape, level = found
    centre = shape.centroid
    return centre.y, centre.x, ZOOM["grid"] if access.has_one_grid(user) else ZOOM[level]

"""Request dependencies: a database session, the signed-in user, role checks and area scopes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.errors import ForbiddenError
from api.tokens import InvalidToken, username_of
from geogrid.db.engine import WRITE
from geogrid.db.models import PlanVersion
from geogrid.settings import Settings
from geogrid.store.incidents import building_addresses, buildings_version
from geogrid.store.spatial import covers
from geogrid.store.users import get_user
from geogrid.taxonomy import Taxonomy, load_taxonomy

TOKEN_URL = "/api/v1/auth/token"
READERS = ("admin", "planner", "leader")  # read grids and plans inside their scope
PLANNERS = ("admin", "planner")  # change plans and data inside their scope

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """A session whose transaction commits after the endpoint returns, or rolls back if it raises.

    A request that may write (any method but GET and HEAD) says so, so that SpatiaLite takes its write
    lock when the transaction begins and concurrent writers queue instead of failing.
    """
    with request.app.state.sessions() as session, session.begin():
        if request.method not in ("GET", "HEAD"):
            session.connection(execution_options={WRITE: True})
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


@dataclass(frozen=True)
class Principal:
    """The signed-in user: name, role and the area code (or, for a grid worker, the grid) they act on."""

    username: str
    role: str
    scope: str
    department: str | None = None

    def covers(self, code: str) -> bool:
        """True when code lies inside the user's scope (admins act everywhere)."""
        return self.role == "admin" or covers(self.scope, code)


def unauthorized(message: str) -> HTTPException:
    """401 asking for a bearer token."""
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=message, headers={"WWW-Authenticate": "Bearer"})


def current_user(
    settings: SettingsDep, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    """The active user the bearer token names, or 401."""
    if not token:
        raise unauthorized(f"not signed in: send 'Authorization: Bearer <token>' from POST {TOKEN_URL}")
    try:
        username = username_of(settings, token)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from None
    user = get_user(session, username)
    if user is None or not user.active:
        raise unauthorized(f"the account {username!r} is unknown or disabled")
    return Principal(user.username, user.role, user.scope, user.department)


CurrentUser = Annotated[Principal, Depends(current_user)]


def require_role(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency giving the current user if their role is one of roles, else 403."""

    def dependency(user: CurrentUser) -> Principal:
        if user.role not in roles:
            raise ForbiddenError(f"the {user.role} role may not do this; it needs one of: {', '.join(roles)}")
        return user

    return dependency


Reader = Annotated[Principal, Depends(require_role(*READERS))]
Planner = Annotated[Principal, Depends(require_role(*PLANNERS))]


def check_area(user: Principal, code: str, what: str = "community") -> None:
    """403 unless the area code lies inside the user's scope."""
    if not user.covers(code):
        raise ForbiddenError(f"{what} {code} is outside your scope ({user.scope})")


def check_plan(user: Principal, plan: PlanVersion) -> None:
    """403 unless the user may read the plan version: in scope, and published for leaders."""
    check_area(user, plan.community_code)
    if user.role not in PLANNERS and plan.status != "published":
        raise ForbiddenError(f"plan version {plan.id} is {plan.status}: leaders see published plans only")


def plan_etag(plan: PlanVersion) -> str:
    """The plan version's ETag: its revision, quoted ("3")."""
    return f'"{plan.revision}"'


def revision_from(if_match: str, plan: PlanVersion) -> int | None:
    """The revision an If-Match header names ('*': the current one); None if it names none."""
    for tag in (t.strip() for t in if_match.split(",")):
        if tag == "*":
            return plan.revision
        value = tag.removeprefix("W/").strip('"')
        if value.isdigit():
            return int(value)
    return None


def get_taxonomy(settings: SettingsDep) -> Taxonomy:
    """The incident taxonomy the settings name (the shipped default unless GEOGRID_TAXONOMY_FILE is set)."""
    return load_taxonomy(settings.taxonomy_file)


TaxonomyDep = Annotated[Taxonomy, Depends(get_taxonomy)]


class StoreGeocoder:
    """Geocodes address text against the stored buildings; the gazetteer is built on first use and rebuilt
    when the buildings change, so requests without an address never pay for it."""

    def __init__(self, request: Request, session: Session) -> None:
        self.state = request.app.state
        self.session = session

    def geocode_one(self, text: str) -> Any:
        """The best building match for text (see geogrid.geocode)."""
        from geogrid.geocode import Gazetteer

        key = buildings_version(self.session)
        cached = getattr(self.state, "gazetteer", None)
        if cached is None or cached[0] != key:
            cached = (key, Gazetteer(building_addresses(self.session)))
            self.state.gazetteer = cached
        return cached[1].geocode_one(text)


def get_geocoder(request: Request, session: SessionDep) -> StoreGeocoder:
    """The address geocoder over the store's buildings."""
    return StoreGeocoder(request, session)


GeocoderDep = Annotated[StoreGeocoder, Depends(get_geocoder)]

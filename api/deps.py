"""Request dependencies: a database session, the signed-in user, role checks and area scopes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api.errors import ForbiddenError
from api.tokens import CSRF_HEADER, InvalidToken, claims_of, cookie_token
from geogrid import access
from geogrid.access import PLANNERS, READERS
from geogrid.db.models import PUBLISHED, PlanVersion
from api.settings import Settings
from geogrid.store.incidents import building_addresses, buildings_version
from geogrid.store.photo_store import PhotoStore
from geogrid.store.users import get_user
from geogrid.incidents.taxonomy import Taxonomy, load_taxonomy
from geogrid.incidents.assessment import Formula, load_formula

TOKEN_URL = "/api/v1/auth/token"
KNOWN_TOKENS = 10_000  # signed-in users remembered per process, by token
USER_RECHECK_SECONDS = 60.0  # a remembered user is read again at least this often (edits made outside geogrid)

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with (async: no I/O, so no worker thread)."""
    return request.app.state.settings


def reads_only(request: Request) -> bool:
    """True for the methods that never write (GET and HEAD)."""
    return request.method in ("GET", "HEAD")


def sessions_for(request: Request) -> sessionmaker[Session]:
    """The session factory for the request: one whose transactions may write for any method but GET and HEAD.

    Writing transactions on SpatiaLite take the write lock when they begin, so concurrent writers queue
    instead of failing; reads on PostGIS run without BEGIN and COMMIT (each statement is its own
    snapshot, as it is under READ COMMITTED anyway).
    """
    return request.app.state.read_sessions if reads_only(request) else request.app.state.write_sessions


class SessionSlots:
    """At most n requests hold a database session at once; the others wait on the event loop.

    A request keeps its connection from its first query until its commit, across several hops to worker
    threads. With no more such requests than pooled connections, no thread ever blocks waiting for a
    connection that another request, itself waiting for a thread, holds.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self._by_loop: dict[int, asyncio.Semaphore] = {}

    def __call__(self) -> asyncio.Semaphore:
        """The semaphore of the running event loop (a test client may start several loops)."""
        loop = id(asyncio.get_running_loop())
        if loop not in self._by_loop:
            self._by_loop = {loop: asyncio.Semaphore(self.n)}
        return self._by_loop[loop]


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session whose transaction commits after the endpoint returns, or rolls back if it raises.

    Opening it does no I/O; the commit (or rollback) and the close run in one worker thread.
    """
    slots = request.app.state.session_slots if reads_only(request) else request.app.state.write_slots
    async with _scoped(slots(), sessions_for(request)) as session:
        yield session


def report_session(request: Request) -> AbstractAsyncContextManager[Session]:
    """A session for a report that the event loop could not write (geogrid.store.incidents.report_on_loop), as
    get_session's: on PostgreSQL each statement commits on its own (geogrid.db.engine.single_statement_options),
    so the report costs one round trip, not three. Opened by the endpoint only when needed."""
    return _scoped(request.app.state.write_slots(), request.app.state.report_sessions)


@asynccontextmanager
async def _scoped(slot: asyncio.Semaphore, sessions: sessionmaker[Session]) -> AsyncIterator[Session]:
    """A session of sessions while holding slot: committed when the block ends, rolled back if it raises."""
    async with slot:
        session = sessions()
        try:
            yield session
        except BaseException:
            await _finish(session, commit=False)
            raise
        await _finish(session, commit=True)


async def _finish(session: Session, commit: bool) -> None:
    """End the session: in a worker thread if it holds a transaction, else at once (no I/O to do)."""
    if session.in_transaction():
        await run_in_threadpool(_end, session, commit)
    else:
        session.close()


def _end(session: Session, commit: bool) -> None:
    """Commit (or roll back) and close the session."""
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


T = TypeVar("T")


async def committed(session: Session, work: Callable[[], T]) -> T:
    """work() and the session's commit in one worker thread (rolled back if either raises), for an async
    endpoint: one hop to a thread per request instead of one for a sync endpoint, one to check its answer
    and one for get_session's commit. The answer is sent only after the commit."""
    return await run_in_threadpool(_work_and_commit, session, work)


def _work_and_commit(session: Session, work: Callable[[], T]) -> T:
    try:
        result = work()
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result


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
        return access.acts_on(self, code)


def unauthorized(message: str) -> HTTPException:
    """401 asking for a bearer token."""
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=message, headers={"WWW-Authenticate": "Bearer"})


async def current_user(
    request: Request, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    """The active user the bearer token names, or 401.

    The user is read from the store once per token and data version: any change to an account through
    geogrid writes an audit row and so a new version, after which the next request reads the user
    again; an edit made in the database by hand is seen within USER_RECHECK_SECONDS. The version is
    read on the event loop, so a request answered from memory needs no worker thread.
    """
    if not token:
        token = cookie_token(request.headers)  # the map pages, signed in by their HttpOnly cookie
        if token and not reads_only(request) and CSRF_HEADER not in request.headers:
            raise ForbiddenError(f"a change signed in by the page cookie needs the {CSRF_HEADER} header")
    if not token:
        raise unauthorized(f"not signed in: send 'Authorization: Bearer <token>' from POST {TOKEN_URL}")
    version = request.state.data_version = await request.app.state.versions.read()
    known: dict[str, tuple[int, float, Principal]] = request.app.state.principals
    found = known.get(token)
    if found is not None and found[0] == version and time.time() < found[1]:
        return found[2]
    try:
        username, expires, token_version = claims_of(settings, token)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from None
    principal = await run_in_threadpool(_active_user, request.app.state.read_sessions, username, token_version)
    if principal is None:
        raise unauthorized(f"the account {username!r} is unknown or disabled, or the token was issued before it "
                           "was disabled or its password changed: sign in again")
    if len(known) >= KNOWN_TOKENS:
        known.clear()
    known[token] = (version, min(expires, time.time() + USER_RECHECK_SECONDS), principal)
    return principal


def _active_user(sessions: sessionmaker[Session], username: str, token_version: int) -> Principal | None:
    """The active user with that name whose tokens are still at token_version, or None."""
    with sessions() as session:
        user = get_user(session, username)
        if user is None or not user.active or user.token_version != token_version:
            return None
        return Principal(user.username, user.role, user.scope, user.department)


CurrentUser = Annotated[Principal, Depends(current_user)]


async def signed_in_data_version(request: Request, user: CurrentUser) -> int:
    """The store's data version read when the user was signed in for this request (see geogrid.db.version)."""
    return request.state.data_version


DataVersion = Annotated[int, Depends(signed_in_data_version)]


async def kept_answer(request: Request, key: Hashable, render: Callable[[], bytes]) -> tuple[bytes, str]:
    """The answer (and its ETag) kept for key in this process; else rendered in a worker thread and kept.

    Keys end with the data version, so a write makes every kept answer a miss."""
    answers = request.app.state.answers
    return answers.peek(key) or await run_in_threadpool(answers.get, key, render)


def require_role(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency giving the current user if their role is one of roles, else 403."""

    async def dependency(user: CurrentUser) -> Principal:  # async: no I/O, so no worker thread
        if user.role not in roles:
            raise ForbiddenError(f"the {user.role} role may not do this; it needs one of: {', '.join(roles)}",
                                 code="access.role_may_not", params={"role": user.role})
        return user

    return dependency


Reader = Annotated[Principal, Depends(require_role(*READERS))]
Planner = Annotated[Principal, Depends(require_role(*PLANNERS))]


def check_area(user: Principal, code: str, what: str = "community") -> None:
    """403 unless the area code lies inside the user's scope."""
    if not user.covers(code):
        raise ForbiddenError(f"{what} {code} is outside your scope ({user.scope})", code="access.outside_area",
                             params={"area": code})


def check_plan(user: Principal, plan: PlanVersion) -> None:
    """403 unless the user may read the plan version: in scope, and published for leaders."""
    check_area(user, plan.community_code)
    if user.role not in PLANNERS and plan.status != PUBLISHED:
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


async def get_photo_store(request: Request) -> PhotoStore:
    """Where case photos are kept: the local folder or the S3 bucket the settings name (made once per app)."""
    return request.app.state.photos


PhotoStoreDep = Annotated[PhotoStore, Depends(get_photo_store)]


async def get_taxonomy(settings: SettingsDep) -> Taxonomy:
    """The incident taxonomy the settings name (the shipped default unless GEOGRID_TAXONOMY_FILE is set)."""
    return load_taxonomy(settings.taxonomy_file)


TaxonomyDep = Annotated[Taxonomy, Depends(get_taxonomy)]


async def get_formula(settings: SettingsDep) -> Formula:
    """The assessment's deadlines and weights (the shipped file unless GEOGRID_ASSESSMENT_FILE is set)."""
    return load_formula(settings.assessment_file)


FormulaDep = Annotated[Formula, Depends(get_formula)]


class StoreGeocoder:
    """Geocodes address text against the stored buildings; the gazetteer is built on first use and rebuilt
    when the buildings change, so requests without an address never pay for it."""

    def __init__(self, request: Request, session: Session) -> None:
        self.state = request.app.state
        self.session = session

    def geocode_one(self, text: str) -> Any:
        """The best building match for text (see geogrid.geo.geocode)."""
        from geogrid.geo.geocode import Gazetteer

        key = buildings_version(self.session)
        cached = getattr(self.state, "gazetteer", None)
        if cached is None or cached[0] != key:
            cached = (key, Gazetteer(building_addresses(self.session)))
            self.state.gazetteer = cached
        return cached[1].geocode_one(text)


async def get_geocoder(request: Request, session: SessionDep) -> StoreGeocoder:
    """The address geocoder over the store's buildings (async: it is built lazily, so no I/O here)."""
    return StoreGeocoder(request, session)


GeocoderDep = Annotated[StoreGeocoder, Depends(get_geocoder)]

"""Sign-in: the OAuth2 password flow giving a bearer token, and who the token belongs to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import CurrentUser, SessionDep, SettingsDep, unauthorized
from api.schemas import Token, UserOut
from api.tokens import create_token
from geogrid.store.users import authenticate, get_user

router = APIRouter(prefix="/api/v1/auth", tags=["Accounts"])


@router.post("/token", response_model=Token, summary="Sign in with username and password")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep) -> Token:
    """Exchange a username and password (form fields) for a bearer token."""
    user = authenticate(session, form.username, form.password)
    if user is None:
        raise unauthorized("incorrect username or password")
    return Token(access_token=create_token(settings, user.username), expires_in=settings.token_minutes * 60)


@router.get("/me", response_model=UserOut, summary="The signed-in user")
def me(user: CurrentUser, session: SessionDep) -> UserOut:
    """The user the bearer token belongs to, with their role and scope."""
    account = get_user(session, user.username)
    return UserOut(
        username=user.username,
        role=user.role,
        scope=user.scope,
        display_name=account.display_name if account else None,
        department=user.department,
    )

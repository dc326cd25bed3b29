"""Sign-in: the OAuth2 password flow giving a bearer token, and who the token belongs to."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.orm import Session

from api.deps import CurrentUser, SessionDep, SettingsDep, unauthorized
from api.schemas import Token, UserOut
from api.security import LoginThrottle
from api.tokens import create_token
from geogrid.db.models import User
from geogrid.store.users import authenticate, get_user

router = APIRouter(prefix="/api/v1/auth", tags=["Accounts"])


@router.post("/token", response_model=Token, summary="Sign in with username and password",
             responses={429: {"description": "too many failed sign-ins: try again after Retry-After seconds"}})
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, session: SessionDep,
          settings: SettingsDep) -> Token:
    """Exchange a username and password (form fields) for a bearer token. After repeated failures an account or a
    client address waits a short while (429 with Retry-After)."""
    user = checked_sign_in(request, session, form.username, form.password)
    return Token(access_token=create_token(settings, user.username, user.token_version),
                 expires_in=settings.token_minutes * 60)


def checked_sign_in(request: Request, session: Session, username: str, password: str) -> User:
    """The user whose password matches, through the sign-in throttle: 429 while the account or address waits,
    401 for a wrong name or password (counted)."""
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else "unknown"
    wait = throttle.wait(username, address)
    if wait > 0:
        seconds = math.ceil(wait)
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(seconds)},
                            detail=f"too many failed sign-ins: try again in {seconds} s")
    user = authenticate(session, username, password)
    if user is None:
        throttle.failed(username, address)
        raise unauthorized("incorrect username or password")
    throttle.succeeded(username)
    return user


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

"""Bearer tokens: JWTs signed with HS256 and the settings' secret key, naming the user and expiring."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from collections.abc import Mapping

import jwt
from starlette.requests import cookie_parser

from api.settings import Settings

ALGORITHM = "HS256"
COOKIE = "geogrid_token"  # the map pages' token: HttpOnly, SameSite=Strict, set by POST /maps/session
CSRF_HEADER = "x-requested-with"  # a write signed in by the cookie must carry it (cross-site forms cannot)
VERIFIED_TOKENS = 10_000  # tokens whose signature this process has checked, kept until they expire
_verified: dict[tuple[str, str], tuple[str, float, int]] = {}  # (secret, token) -> claims_of's answer


class InvalidToken(ValueError):
    """A token that is malformed, forged or expired."""


def create_token(settings: Settings, username: str, version: int = 0) -> str:
    """A signed token for username, valid for settings.token_minutes, carrying the user's token version."""
    now = datetime.now(UTC)
    claims = {"sub": username, "ver": version, "iat": now, "exp": now + timedelta(minutes=settings.token_minutes)}
    return jwt.encode(claims, str(settings.secret_key), algorithm=ALGORITHM)


def username_of(settings: Settings, token: str) -> str:
    """The username a valid token names, or InvalidToken saying why not."""
    return claims_of(settings, token)[0]


def claims_of(settings: Settings, token: str) -> tuple[str, float, int]:
    """The username a valid token names, when it expires (POSIX seconds) and the token version it was issued
    under (0 for tokens from before versions), or InvalidToken saying why not.

    A token's signature is checked once per process (every request checks it before its body is read): its
    claims are kept, under the secret that signed them, until the token expires. Whether its user may still
    sign in (disabled, password changed) is not decided here but by api.deps.current_user, every time."""
    key = (str(settings.secret_key), token)
    found = _verified.get(key)
    if found is not None and time.time() < found[1]:
        return found
    try:
        claims = jwt.decode(
            token, str(settings.secret_key), algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the token has expired: sign in again") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("the token is not valid: sign in again") from None
    version = claims.get("ver", 0)
    if not isinstance(version, int):
        raise InvalidToken("the token is not valid: sign in again")
    if len(_verified) >= VERIFIED_TOKENS:
        _verified.clear()
    _verified[key] = answer = (str(claims["sub"]), float(claims["exp"]), version)
    return answer


def token_from(headers: Mapping[str, str]) -> str | None:
    """The token of a request: its Authorization header (Bearer <token>), else the map pages' cookie, else None."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return cookie_token(headers)


def cookie_token(headers: Mapping[str, str]) -> str | None:
    """The token in the map pages' HttpOnly cookie, if the request carries it."""
    return cookie_parser(headers.get("cookie", "")).get(COOKIE) or None

"""Bearer tokens: JWTs signed with HS256 and the settings' secret key, naming the user and expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from collections.abc import Mapping

import jwt

from api.settings import Settings

ALGORITHM = "HS256"


class InvalidToken(ValueError):
    """A token that is malformed, forged or expired."""


def create_token(settings: Settings, username: str) -> str:
    """A signed token for username, valid for settings.token_minutes."""
    now = datetime.now(UTC)
    claims = {"sub": username, "iat": now, "exp": now + timedelta(minutes=settings.token_minutes)}
    return jwt.encode(claims, str(settings.secret_key), algorithm=ALGORITHM)


def username_of(settings: Settings, token: str) -> str:
    """The username a valid token names, or InvalidToken saying why not."""
    return claims_of(settings, token)[0]


def claims_of(settings: Settings, token: str) -> tuple[str, float]:
    """The username a valid token names and when it expires (POSIX seconds), or InvalidToken saying why not."""
    try:
        claims = jwt.decode(
            token, str(settings.secret_key), algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the token has expired: sign in again") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("the token is not valid: sign in again") from None
    return str(claims["sub"]), float(claims["exp"])


def token_from(headers: Mapping[str, str]) -> str | None:
    """The bearer token of a request: its Authorization header (Bearer <token>), else None."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None

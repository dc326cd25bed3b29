"""The body guard's rules (applied by api.guards): a request's sign-in is checked from its headers before any body is
read, and each endpoint's body is cut off (413) as soon as it passes that endpoint's size limit, while it streams in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import Send

from api.security import send_json
from api.settings import Settings
from api.tokens import InvalidToken, claims_of, token_from

BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})
KB = 1024


@dataclass(frozen=True)
class BodyRule:
    """Requests whose method and path match: the limit of their body (bytes) and whether a valid token must come
    first."""

    method: str
    path: re.Pattern[str]
    limit_setting: str  # the Settings field giving the limit
    unit: int  # bytes per unit of that setting
    signed_in: bool


RULES = (
    BodyRule("POST", re.compile(r"/api/v1/imports"), "max_upload_mb", KB * KB, True),
    BodyRule("POST", re.compile(r"/api/v1/cameras"), "max_upload_mb", KB * KB, True),
    BodyRule("POST", re.compile(r"/api/v1/incidents/imports"), "max_upload_mb", KB * KB, True),
    BodyRule("POST", re.compile(r"/api/v1/media"), "max_photo_mb", KB * KB, True),
    BodyRule("POST", re.compile(r"/api/v1/auth/token"), "max_form_kb", KB, False),
    BodyRule("POST", re.compile(r"/maps/session"), "max_form_kb", KB, False),
    BodyRule("POST", re.compile(r"/open311/v2/requests\.[a-z]+"), "max_form_kb", KB, False),  # an api_key in the form
)
SIGNED_IN_PREFIX = "/api/v1/"  # every other body under it needs a token first


def rule_for(method: str, path: str) -> BodyRule:
    """The rule of a request with a body: an upload's, a sign-in form's, else the JSON bodies' default."""
    path = path.rstrip("/") or "/"
    found = next((r for r in RULES if r.method == method and r.path.fullmatch(path)), None)
    return found or BodyRule(method, re.compile(".*"), "max_body_kb", KB, path.startswith(SIGNED_IN_PREFIX))


class TooLarge(Exception):
    """The body passed its limit while streaming in."""


def token_problem(settings: Settings, headers: Headers) -> str | None:
    """Why the request's token does not sign it in (None when it does, as far as the headers tell)."""
    token = token_from(headers)
    if not token:
        return "not signed in: send 'Authorization: Bearer <token>' from POST /api/v1/auth/token"
    try:
        claims_of(settings, token)
    except InvalidToken as exc:
        return str(exc)
    return None


async def too_large(send: Send, rule: BodyRule, settings: Settings) -> None:
    """413 naming the limit and the setting that changes it."""
    size = getattr(settings, rule.limit_setting)
    unit = "MB" if rule.unit == KB * KB else "KB"
    what = "upload" if rule.limit_setting in ("max_upload_mb", "max_photo_mb") else "request body"
    message = f"the {what} is larger than the limit of {size} {unit} (GEOGRID_{rule.limit_setting.upper()})"
    await send_json(send, 413, {"detail": message}, [(b"connection", b"close")])

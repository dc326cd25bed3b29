"""Request guards before any endpoint runs: no NUL characters in the path or query."""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

NUL_MESSAGE = "the request holds a NUL character (%00), which no name, code or value may contain"


class NulGuard:
    """422 for a path or query string holding a NUL character, before it reaches the store (PostgreSQL text
    cannot hold one, and no area code or id does)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _holds_nul(scope):
            await send_json(send, 422, {"detail": [{"loc": ["query"], "msg": NUL_MESSAGE, "type": "value_error"}]})
            return
        await self.app(scope, receive, send)


def _holds_nul(scope: Scope) -> bool:
    """True when the decoded path or query string holds a NUL byte."""
    path = scope.get("raw_path") or scope.get("path", "").encode()
    return b"\x00" in unquote_to_bytes(path) or b"\x00" in unquote_to_bytes(scope.get("query_string", b""))


async def send_json(send: Send, status: int, body: dict, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Answer a JSON body straight from a middleware."""
    data = json.dumps(body, ensure_ascii=False).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": head + (headers or [])})
    await send({"type": "http.response.body", "body": data})

"""Request guards' rules: no NUL characters in the path or query, sign-in throttling, security headers (api.guards)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from starlette.types import Message, Scope, Send

NUL_MESSAGE = "the request holds a NUL character (%00), which no name, code or value may contain"


def holds_nul(scope: Scope) -> bool:
    """True when the decoded path or query string holds a NUL byte."""
    path = scope.get("raw_path") or scope.get("path", "").encode()
    return b"\x00" in unquote_to_bytes(path) or b"\x00" in unquote_to_bytes(scope.get("query_string", b""))


async def send_json(send: Send, status: int, body: dict, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Answer a JSON body straight from a middleware."""
    data = json.dumps(body, ensure_ascii=False).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": head + (headers or [])})
    await send({"type": "http.response.body", "body": data})


class LoginThrottle:
    """Failed sign-ins counted per account and per client address over a sliding window: past a limit, that account
    or address waits a short lock (429 with Retry-After) before its next try; a success clears the account's count.

    Kept in the process's memory: a short lock slows guessing (a few tries a minute) without locking the real user
    out for long. Behind a proxy every client shares the proxy's address (see docs/SECURITY.md)."""

    MAX_KEYS = 100_000  # forget everything past this many accounts and addresses (a flood of made-up names)

    def __init__(self, account_failures: int, address_failures: int, lock_seconds: float, window_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = {"account": account_failures, "address": address_failures}
        self.lock_seconds, self.window_seconds, self.clock = lock_seconds, window_seconds, clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()  # sign-ins run in worker threads

    def wait(self, username: str, address: str) -> float:
        """Seconds until this account and address may try again (0: now)."""
        now = self.clock()
        with self._lock:
            return max(self._wait(("account", username.strip().lower()), now), self._wait(("address", address), now))

    def failed(self, username: str, address: str) -> None:
        """Count a failed sign-in against the account and the address."""
        now = self.clock()
        with self._lock:
            if len(self._failures) > self.MAX_KEYS:
                self._failures.clear()
            for key in (("account", username.strip().lower()), ("address", address)):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username: str) -> None:
        """The account signed in: its failures are forgotten (the address's are not)."""
        with self._lock:
            self._failures.pop(("account", username.strip().lower()), None)

    def _wait(self, key: tuple[str, str], now: float) -> float:
        times = self._failures.get(key)
        if not times:
            return 0.0
        while times and times[0] <= now - self.window_seconds:
            times.popleft()
        if not times:
            del self._failures[key]
            return 0.0
        if len(times) < self.limits[key[0]]:
            return 0.0
        return max(0.0, times[-1] + self.lock_seconds - now)


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)([^>]*)>(.*?)</script\s*>", re.I | re.S)
DATA_BLOCK = re.compile(r"\btype\s*=\s*[\"']?application/(?:ld\+)?json", re.I)
PAGE_POLICY = (  # the map pages: our scripts from /static, the map's own generated code by hash, no plug-ins
    "default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: https: http:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"  # JSON, GeoJSON, tiles, files: nothing to run
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


def page_policy(html: str) -> str:
    """The Content-Security-Policy of an HTML page: scripts from this server, and the page's own inline scripts
    (folium's map code) by their SHA-256 only, so that no injected inline script or handler runs."""
    hashes = sorted({
        "'sha256-" + base64.b64encode(hashlib.sha256(code.encode()).digest()).decode() + "'"
        for attributes, code in INLINE_SCRIPT.findall(html) if code.strip() and not DATA_BLOCK.search(attributes)
    })
    return PAGE_POLICY.format(hashes="".join(" " + h for h in hashes))


def with_headers(start: Message, policy: str) -> Message:
    """The response start with the security headers added (a policy the endpoint set itself is kept)."""
    present = {name.lower() for name, _ in start["headers"]}
    extra = [(k, v) for k, v in HEADERS if k not in present]
    if b"content-security-policy" not in present:
        extra.append((b"content-security-policy", policy.encode()))
    return {**start, "headers": list(start["headers"]) + extra}

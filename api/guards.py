"""Every request's guards in one ASGI middleware: NUL refusal, sign-in before the body, body limits, security headers."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.limits import BODYLESS, BodyRule, TooLarge, rule_for, token_problem, too_large
from api.security import DATA_POLICY, NUL_MESSAGE, holds_nul, page_policy, send_json, with_headers

HTML = b"text/html"


class Guards:
    """ASGI middleware, outermost of ours, doing in one layer (one wrapper around the app's send) what three did:

    - 422 for a path or query string holding a NUL character (PostgreSQL text cannot hold one);
    - for a request with a body: 401 before reading it when it needs a token and has none valid, 413 for a body
      declared or found while streaming larger than its endpoint's limit (nothing past the limit is kept);
    - X-Content-Type-Options, Referrer-Policy, X-Frame-Options and a Content-Security-Policy on every answer, the
      guards' own included; an HTML page is held until complete to hash its inline scripts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answer = _Answer(send)
        if holds_nul(scope):
            await send_json(answer.secure, 422, {"detail": [{"loc": ["query"], "msg": NUL_MESSAGE,
                                                             "type": "value_error"}]})
            return
        if scope["method"] in BODYLESS:
            await self.app(scope, receive, answer)
            return
        await self._with_body(scope, receive, answer)

    async def _with_body(self, scope: Scope, receive: Receive, answer: _Answer) -> None:
        """The sign-in and size checks of a request with a body, then the app with a receive that stops past
        the limit; an answer to a cut body is replaced by a 413."""
        settings = scope["app"].state.settings
        rule = rule_for(scope["method"], scope["path"])
        headers = Headers(scope=scope)
        if rule.signed_in and (problem := token_problem(settings, headers)) is not None:
            await send_json(answer.secure, 401, {"detail": problem},
                            [(b"www-authenticate", b"Bearer"), (b"connection", b"close")])
            return
        limit = getattr(settings, rule.limit_setting) * rule.unit
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await too_large(answer.secure, rule, settings)
            return
        await self._limited(scope, receive, answer, limit, rule)

    async def _limited(self, scope: Scope, receive: Receive, answer: _Answer, limit: int, rule: BodyRule) -> None:
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                answer.cut = True
                raise TooLarge
            return message

        try:
            await self.app(scope, counted, answer)
        except Exception:
            if not answer.cut or answer.started:
                raise
        if answer.cut and not answer.started:
            await too_large(answer.secure, rule, scope["app"].state.settings)


class _Answer:
    """The send of one request: the app's messages, with the security headers, and none once its body was cut."""

    __slots__ = ("send", "page", "body", "cut", "started")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.page: Message | None = None  # an HTML page's start, held until its body is whole
        self.body: list[bytes] = []
        self.cut = False  # the request's body passed its limit: the guard answers 413, not the app
        self.started = False

    async def __call__(self, message: Message) -> None:
        if self.cut:
            return
        self.started = True
        await self.secure(message)

    async def secure(self, message: Message) -> None:
        """Send message with the security headers added to its start (an HTML page's once it is whole)."""
        if message["type"] == "http.response.start":
            if _is_html(message):
                self.page = message
                return
            await self.send(with_headers(message, DATA_POLICY))
            return
        if self.page is None or message["type"] != "http.response.body":
            await self.send(message)
            return
        self.body.append(message.get("body", b""))
        if not message.get("more_body", False):
            html = b"".join(self.body)
            await self.send(with_headers(self.page, page_policy(html.decode("utf-8", "replace"))))
            await self.send({"type": "http.response.body", "body": html})


def _is_html(start: Message) -> bool:
    """True when the response's Content-Type is HTML."""
    return any(name.lower() == b"content-type" and value.startswith(HTML) for name, value in start["headers"])

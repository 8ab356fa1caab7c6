"""A cap on request bodies, enforced before the body is read.

An unauthenticated 300 MiB POST used to be read whole (FastAPI parses the body before it runs
the route's dependencies, so before the 401), taking the server from 0.8 to 1.7 GiB. This
ASGI middleware refuses a body over its route's cap with 413 and a clear message:

- when ``Content-Length`` says it is too large, before the application runs at all, so no
  byte of the body is read and no authentication work is done;
- when the body arrives in chunks (no ``Content-Length``, or a lying one), as soon as the bytes
  received pass the cap: the chunk that crossed it is not handed on.

The upload route streams to disk and gets its own, larger cap; every other route gets the JSON
and form cap. Both are settings (``VIGIL_MAX_BODY_BYTES``, ``VIGIL_MAX_UPLOAD_BYTES``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: routes whose body is a streamed file (method, path) and get the upload cap
UPLOAD_ROUTES = frozenset({("POST", "/api/incidents/uploads")})


def _mib(n: int) -> str:
    return f"{n / 1024**2:g} MiB"


class BodyTooLarge(HTTPException):
    """A request body over its route's cap (413)."""

    def __init__(self, limit: int, what: str) -> None:
        super().__init__(
            413,
            f"the request body is larger than the {_mib(limit)} allowed for {what}; "
            "nothing was stored",
        )


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``max_body`` (``max_upload`` on upload routes)."""

    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    def limit_for(self, scope: Scope) -> tuple[int, str]:
        if (scope.get("method"), scope.get("path")) in UPLOAD_ROUTES:
            return self.max_upload, "an incident upload"
        return self.max_body, "this request"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, what = self.limit_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, BodyTooLarge(limit, what))(scope, receive, send)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit, what)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:
            # raised from receive inside a handler that let it escape; answer if we still can
            if started:
                raise
            await _refuse(scope, exc)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _refuse(scope: Scope, exc: BodyTooLarge) -> Response:
    """The app's own 413: its HTML error page for browsers, JSON for the API."""
    from vigil.http.errors import error_page, wants_html

    request = Request(scope)
    headers = {"Connection": "close"}
    if wants_html(request) and "app" in scope:
        page = error_page(request, 413, str(exc.detail))
        page.headers.update(headers)
        return page
    return JSONResponse(
        {"error": "BodyTooLarge", "detail": exc.detail}, status_code=413, headers=headers
    )

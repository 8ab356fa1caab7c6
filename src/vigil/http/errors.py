"""One mapping from Vigil's errors to HTTP: JSON for the API and scripts, a clear HTML page for
browsers. A route never builds an error response itself; it lets the domain's VigilError rise.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigil.cases.states import CaseIntegrityError
from vigil.db.identity import (
    AuthenticationFailed,
    IdentityError,
    PasswordChangeRequired,
    SignInThrottled,
)
from vigil.errors import (
    DataError,
    ModelInputError,
    NotFound,
    PermissionDenied,
    PolicyViolation,
    VigilError,
)
from vigil.identity.pool import SignInBusy

log = logging.getLogger(__name__)

__all__ = ["NotFound", "status_for", "wants_html", "error_page", "install"]


def status_for(exc: VigilError) -> int:
    """HTTP status of a VigilError; the most specific class wins."""
    if isinstance(exc, CaseIntegrityError):
        return 500  # a row changed outside the workflow: not the caller's fault
    if isinstance(exc, SignInThrottled):
        return 429
    if isinstance(exc, SignInBusy):
        return 503
    if isinstance(exc, AuthenticationFailed):
        return 401
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, NotFound) or type(exc).__name__ in {"NotFound", "CaseNotFound"}:
        return 404
    if isinstance(exc, PolicyViolation) or "Conflict" in type(exc).__name__:
        return 409
    if isinstance(exc, DataError | ModelInputError | IdentityError):
        return 400
    return 400


def wants_html(request: Request) -> bool:
    if request.url.path.startswith(("/api/", "/openapi", "/docs")):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status: int, message: str) -> Response:
    """The app's own HTML error page with the standard title for ``status``."""
    return _html(request, status, TITLES.get(status, "Error"), message)


def _html(request: Request, status: int, title: str, message: str) -> Response:
    templates = request.app.state.templates
    principal = getattr(request.state, "principal", None)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": title, "message": message, "principal": principal},
        status_code=status,
    )


TITLES = {
    400: "That request cannot be processed",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Refused by policy",
    413: "Request too large",
    503: "Service temporarily unavailable",
    422: "Some fields are missing or invalid",
    429: "Too many attempts",
}


#: seconds a client should wait before retrying while the database is unavailable
RETRY_AFTER_SECONDS = 5

#: what a lost, refused or exhausted database connection raises: the request could not be
#: served now but may be in a moment (nothing was written: its transaction never committed)
DATABASE_UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)


def database_unavailable(request: Request, exc: Exception) -> Response:
    """503 with ``Retry-After``: the app's own page for browsers, JSON for the API."""
    from vigil.http.observability import DB_UNAVAILABLE

    DB_UNAVAILABLE.inc()
    log.warning("database unavailable", extra={"fields": {"error": type(exc).__name__}})
    message = (
        "The case database cannot be reached just now; nothing was changed. "
        f"Try again in a few seconds (Retry-After: {RETRY_AFTER_SECONDS})."
    )
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if wants_html(request):
        page = _html(request, 503, TITLES[503], message)
        page.headers.update(headers)
        return page
    return JSONResponse(
        {"error": "DatabaseUnavailable", "detail": message}, status_code=503, headers=headers
    )


def _retry_after(exc: VigilError) -> dict[str, str] | None:
    seconds = getattr(exc, "retry_after", None)
    return None if seconds is None else {"Retry-After": str(int(seconds))}


def install(app: FastAPI) -> None:
    for cls in DATABASE_UNAVAILABLE:
        app.add_exception_handler(cls, database_unavailable)  # type: ignore[arg-type]

    @app.exception_handler(VigilError)
    async def _vigil(request: Request, exc: VigilError) -> Response:
        status = status_for(exc)
        if wants_html(request):
            if status == 401:
                return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
            if isinstance(exc, PasswordChangeRequired):
                return RedirectResponse("/account/password", status_code=303)
            next_path = getattr(exc, "next_path", None)
            if next_path is not None:  # a decision that needs a step-up first
                return RedirectResponse(
                    f"/account/reauthenticate?next={next_path}", status_code=303
                )
            page = _html(request, status, TITLES.get(status, "Error"), str(exc))
            page.headers.update(_retry_after(exc) or {})
            return page
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else _retry_after(exc)
        return JSONResponse(
            {"error": type(exc).__name__, "detail": str(exc)}, status_code=status, headers=headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_html(request):
            return _html(request, exc.status_code, TITLES.get(exc.status_code, "Error"), exc.detail)
        return JSONResponse(
            {"error": "HTTPError", "detail": exc.detail},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: {e.get('msg')}"
            for e in exc.errors()
        ]
        if wants_html(request):
            return _html(request, 422, TITLES[422], "; ".join(problems))
        return JSONResponse({"error": "ValidationError", "detail": problems}, status_code=422)

"""Security headers on every response: pages, API routes, reports and PDFs, errors included.

The headers come from the maintained ``secure`` package (its ASGI middleware), configured here
in one place:

- ``Content-Security-Policy``: scripts only from the app's own origin (no inline script, no
  ``eval``), nothing may frame a page (``frame-ancestors 'none'``, with ``X-Frame-Options:
  DENY`` for older browsers), forms post only to the app. Inline *styles* stay allowed: the
  reports carry their own stylesheet and some pages set a width inline, neither of which can
  run code.
- ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin``.
- ``Cache-Control: no-store`` on everything but the versionless static files: pages, API
  answers and reports carry case data, which must not stay in a shared or browser cache.
- ``Strict-Transport-Security`` only when ``VIGIL_COOKIE_SECURE`` says the app is behind TLS
  (HSTS over plain http would be ignored at best and lock a misconfigured host at worst).
"""

from __future__ import annotations

from typing import Any

import secure
from secure.middleware.asgi import SecureASGIMiddleware

from vigil.http.middleware_limits import ASGIApp, Receive, Scope, Send

CSP = (
    secure.ContentSecurityPolicy()
    .default_src("'self'")
    .script_src("'self'")
    .style_src("'self'", "'unsafe-inline'")
    .img_src("'self'", "data:")
    .connect_src("'self'")
    .font_src("'self'")
    .object_src("'none'")
    .base_uri("'self'")
    .form_action("'self'")
    .frame_ancestors("'none'")
)

#: paths served from the package's static folders: no case data, may be cached
STATIC_PREFIXES = ("/static/",)


def _secure(*, no_store: bool, hsts: bool) -> secure.Secure:
    options: dict[str, Any] = {
        "csp": CSP,
        "xfo": secure.XFrameOptions().deny(),
        "xcto": secure.XContentTypeOptions().nosniff(),
        "referrer": secure.ReferrerPolicy().same_origin(),
        "coop": secure.CrossOriginOpenerPolicy().same_origin(),
        "permissions": secure.PermissionsPolicy().geolocation().camera().microphone(),
    }
    if no_store:
        options["cache"] = secure.CacheControl().no_store()
    if hsts:
        options["hsts"] = secure.StrictTransportSecurity().max_age(31536000).include_subdomains()
    return secure.Secure(**options)


class SecurityHeadersMiddleware:
    """``secure``'s ASGI middleware, with ``no-store`` everywhere but the static files."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.private = SecureASGIMiddleware(app, secure=_secure(no_store=True, hsts=hsts))
        self.static = SecureASGIMiddleware(app, secure=_secure(no_store=False, hsts=hsts))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        chosen = self.static if path.startswith(STATIC_PREFIXES) else self.private
        # secure's stubs type the ASGI callables loosely (object); ours are the ASGI spec's
        await chosen(scope, receive, send)  # type: ignore[arg-type]

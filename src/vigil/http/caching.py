"""Answers serialised once and served many times: gzip when the client takes it, and 304 Not
Modified when the client already holds the same content (``If-None-Match``).

The map layer of a force-wide surface is megabytes of GeoJSON; building, encoding and sending
it for every map view was most of what a busy map cost. The body is cached beside the surface
(:class:`vigil.app.forecasts.Encoded`); here it is only chosen and sent.

``Cache-Control`` stays the security middleware's ``no-store`` (forecasts are operational
intelligence: no browser or proxy keeps them). The ETag serves clients that keep the last answer
themselves (a script or a page polling for a new forecast): they send it back and get a 304
instead of the layer, and every such request still reaches the server and its audit entry.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from vigil.app.forecasts import GEOJSON, Encoded

#: ``@router.get(path, **GEOJSON_ROUTE)``: a route that answers GeoJSON, declared so in the
#: OpenAPI schema (the body is a ``Response`` the route builds, not a model FastAPI encodes)
GEOJSON_ROUTE: dict[str, Any] = {
    "response_class": Response,
    "responses": {200: {"content": {GEOJSON: {}}}},
}


def _matches(header: str, etag: str) -> bool:
    """``If-None-Match`` by weak comparison (RFC 9110 13.1.2): ``*`` or any listed tag."""
    if header.strip() == "*":
        return True
    weak = etag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == weak for t in header.split(","))


def _accepts_gzip(header: str) -> bool:
    for item in header.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().removeprefix("q=")
            try:
                return float(q) > 0 if params.strip().startswith("q=") else True
            except ValueError:
                return True
    return False


def encoded_response(request: Request, enc: Encoded) -> Response:
    """``enc`` for this request: 304 when the client's copy is current, else the body (gzip
    when accepted). The ETag and ``Vary: Accept-Encoding`` go on every answer."""
    headers = {"ETag": enc.etag, "Vary": "Accept-Encoding"}
    if _matches(request.headers.get("if-none-match", ""), enc.etag):
        return Response(status_code=304, headers=headers)
    if _accepts_gzip(request.headers.get("accept-encoding", "")):
        headers["Content-Encoding"] = "gzip"
        return Response(enc.gzipped, media_type=enc.media_type, headers=headers)
    return Response(enc.body, media_type=enc.media_type, headers=headers)

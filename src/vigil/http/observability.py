"""What the running server tells its operators: one JSON log line per request and Prometheus
metrics (``prometheus-client``; multi-process when ``vigil serve --workers N`` runs several).

A log line holds the request id (the caller's ``X-Request-ID`` when it is a plain token, else a
new one; echoed in the answer), the account id, the method, the *route template*
(``/api/cases/{case_id}``, never the query string or a body), the status and the duration. Case
free text never reaches a log line: nothing of the request but its route is logged.

Metrics: requests and latencies by method, route template and status; audit entries appended
(counted where they are inserted, whatever code path appends them); database-unavailable
answers; the expiry lag (how long past its end the oldest live case waited for the sweeper to
write its expiry).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import Engine, event

from vigil.http.middleware_limits import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOG = logging.getLogger(__name__)

REQUESTS = Counter(
    "vigil_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "vigil_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
AUDIT_APPENDS = Counter("vigil_audit_appends_total", "Audit log entries inserted")
DB_UNAVAILABLE = Counter(
    "vigil_database_unavailable_total", "Requests answered 503 because the database was down"
)
EXPIRY_LAG = Gauge(
    "vigil_expiry_lag_seconds",
    "How long past its end the oldest ended case waited for its expiry to be written",
    multiprocess_mode="max",
)
SWEEPS = Counter("vigil_sweeps_total", "Background sweeps run by this process", ["job"])

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
AUDIT_TABLE = "audit_log"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    """Vigil's loggers write JSON lines to stderr (what a container runtime collects)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("vigil")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path:
        return str(path)
    if scope.get("endpoint") is not None and scope.get("root_path"):
        return str(scope["root_path"])  # a mount (static files)
    return "<unmatched>"


class ObservabilityMiddleware:
    """Times each HTTP request, tags it with a request id, logs it and counts it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        sent_id = dict(scope.get("headers", ())).get(b"x-request-id", b"").decode("latin-1")
        request_id = sent_id if _REQUEST_ID.match(sent_id) else uuid.uuid4().hex
        status = 500

        async def tagged_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, tagged_send)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            method = str(scope.get("method", ""))
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            principal = scope.get("state", {}).get("principal")
            user = getattr(principal, "user", None)
            ACCESS_LOG.info(
                "request",
                extra={
                    "fields": {
                        "request_id": request_id,
                        "user_id": getattr(user, "id", None),
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    }
                },
            )


def _count_audit_inserts(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
    if context is None or not context.isinsert:
        return
    table = getattr(getattr(context.compiled, "statement", None), "table", None)
    if getattr(table, "name", None) == AUDIT_TABLE:
        rows = cursor.rowcount
        AUDIT_APPENDS.inc(rows if rows and rows > 0 else 1)


def count_audit_appends() -> None:
    """Count every insert into the audit log on any engine (idempotent)."""
    if not event.contains(Engine, "after_cursor_execute", _count_audit_inserts):
        event.listen(Engine, "after_cursor_execute", _count_audit_inserts)


def metrics_body() -> tuple[bytes, str]:
    """The exposition text: every worker's metrics when running multi-process."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
